"""Cleanup of imported copy, and the sweeper that re-queues runs whose task was lost."""

import random
from datetime import timedelta

from celery import shared_task
from flask import current_app

from app.editorial import cleanup, cleanup_runs
from app.platform import task_names
from app.platform.uow import is_transient

# Its time limits come from CLEANUP_TIME_LIMIT_SECONDS (task_annotations in
# app/extensions.py). The lease, renewed while the run works, does not depend on them, so
# it holds under any pool.
# Transient errors are retried this often by the task itself, then by the sweeper, until
# the run has had CLEANUP_MAX_ATTEMPTS attempts.
MAX_RETRIES = 2


@shared_task(bind=True, name=task_names.CLEANUP_RUN, acks_late=True)
def run_cleanup(self, run_id: str) -> str:
    """Clean one import (a finished run is left alone, so redelivery is harmless)."""
    try:
        return cleanup.execute(run_id, holder=self.request.id).status
    except Exception as error:
        if not is_transient(error) or self.request.retries >= MAX_RETRIES:
            raise
        countdown = min(2 ** self.request.retries, 30) * random.uniform(1, 2)
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(name=task_names.CLEANUP_SWEEP, acks_late=True, soft_time_limit=60, time_limit=90,
             expires=120)
def sweep() -> list[str]:
    """Re-queue queued runs whose message was lost and running runs whose lease expired."""
    age = timedelta(seconds=current_app.config["CLEANUP_SWEEP_AGE_SECONDS"])
    return cleanup_runs.sweep(age)
