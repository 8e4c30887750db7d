"""Who runs a cleanup: claims under a lease, its renewal while the work goes on, and the
sweeper that takes back runs whose task or worker was lost.

A worker claims a run by writing its lease token (the Celery task id, so that the task's
own retry takes the run back at once) and an expiry; a thread renews the expiry every
third of CLEANUP_LEASE_SECONDS for as long as the work goes on, from its own connection.
So a live worker keeps its run however long a page takes, under any pool, and a dead
one loses it within CLEANUP_LEASE_SECONDS. The sweeper re-queues only runs whose lease
has expired (and queued runs whose message was lost); a worker that lost its lease finds
another token on the run when it comes to write, and writes nothing.
"""

import logging
import threading
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from app.errors import NotFound
from app.extensions import db
from app.models import CleanupRun, RunStatus, utcnow
from app.platform import task_names
from app.platform.jobs import enqueue
from app.platform.uow import locked, transaction

log = logging.getLogger(__name__)
FINAL = (RunStatus.SUCCEEDED, RunStatus.FAILED)
SWEEP_BATCH = 500


def lease_seconds() -> float:
    return float(current_app.config["CLEANUP_LEASE_SECONDS"])


def taken(run: CleanupRun, holder: str, now: datetime) -> bool:
    """Whether ``run`` is finished or a live lease of another worker holds it."""
    if run.status in FINAL:
        return True
    held_by_other = run.lease_token not in (None, holder)
    return held_by_other and run.lease_expires_at is not None and run.lease_expires_at > now


def claim(run: CleanupRun, holder: str, now: datetime) -> None:
    """Take ``run`` (row-locked by the caller) for ``holder``: a new attempt."""
    run.status, run.started_at = RunStatus.RUNNING, run.started_at or now
    run.attempts += 1
    run.lease_token, run.lease_expires_at = holder, now + timedelta(seconds=lease_seconds())


def out_of_attempts(run: CleanupRun) -> bool:
    return run.attempts >= current_app.config["CLEANUP_MAX_ATTEMPTS"]


def held(run_id: str, holder: str) -> CleanupRun | None:
    """The run under a row lock if ``holder`` still holds it running, else None (finished,
    or taken back by the sweeper after the lease expired)."""
    run = locked(CleanupRun, run_id)
    if run is None:
        raise NotFound(f"No cleanup run {run_id}.")
    if run.status != RunStatus.RUNNING or run.lease_token != holder:
        return None
    return run


def release(run: CleanupRun) -> None:
    run.lease_token = run.lease_expires_at = None


class LeaseKeeper:
    """Renews a run's lease in a thread while the ``with`` block runs."""

    def __init__(self, run_id: str, holder: str) -> None:
        self.run_id, self.holder = run_id, holder
        self.seconds = lease_seconds()
        self.engine = db.engine
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._renew_until_stopped, daemon=True,
                                       name=f"lease-{run_id}")

    def __enter__(self) -> "LeaseKeeper":
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=30)

    def _renew_until_stopped(self) -> None:
        while not self.stopped.wait(self.seconds / 3):
            try:
                self._renew()
            except SQLAlchemyError as error:  # the next renewal may get through
                log.warning("cleanup run %s: lease not renewed: %s", self.run_id, error)

    def _renew(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(CleanupRun).where(
                CleanupRun.id == self.run_id, CleanupRun.lease_token == self.holder,
                CleanupRun.status == RunStatus.RUNNING,
            ).values(lease_expires_at=utcnow() + timedelta(seconds=self.seconds)))


def sweep(queued_for: timedelta) -> list[str]:
    """Re-queue runs whose task was lost: queued ones whose message is older than
    ``queued_for`` (broker down, message dropped) and running ones whose lease expired
    (worker killed). A run a live worker holds is never taken."""
    with transaction() as session:
        now = utcnow()
        lost = session.scalars(select(CleanupRun).where(or_(
            (CleanupRun.status == RunStatus.QUEUED) & (CleanupRun.queued_at < now - queued_for),
            (CleanupRun.status == RunStatus.RUNNING)
            & (CleanupRun.lease_expires_at.is_(None) | (CleanupRun.lease_expires_at < now)),
        )).order_by(CleanupRun.queued_at).limit(SWEEP_BATCH).with_for_update(skip_locked=True)).all()
        for run in lost:  # not swept again for another sweep age, whether or not it runs
            run.status, run.queued_at = RunStatus.QUEUED, now
            release(run)
    ids = [run.id for run in lost]
    for run_id in ids:
        enqueue(task_names.CLEANUP_RUN, run_id)
    return ids
