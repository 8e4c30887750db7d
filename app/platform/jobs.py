"""The use cases' only door to Celery: tasks are sent by name (``task_names``), never by
importing a task module.

``enqueue`` sends now and raises ``BrokerUnavailable`` (503) when the broker refuses;
``enqueue_after_commit`` sends once the current transaction has committed (nothing if it
rolls back), so a worker never looks for a row that is not there yet; ``try_enqueue``
only logs a refusal, for work whose database row is the record that a sweeper re-queues.
"""

import logging

from celery.exceptions import SoftTimeLimitExceeded
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.errors import DomainError
from app.extensions import db

log = logging.getLogger(__name__)
_AFTER_COMMIT = "jobs_after_commit"  # session.info key: (task name, args) to send on commit

# What a task's soft time limit raises inside the work it interrupts (prefork pool only).
TimeLimitReached = SoftTimeLimitExceeded


def hit_time_limit(error: BaseException | None) -> bool:
    """Whether the soft time limit interrupted the work, even where a library wrapped it:
    landing inside a statement, it comes out of SQLAlchemy as a StatementError."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, TimeLimitReached):
            return True
        seen.add(id(error))
        error = error.__cause__ or getattr(error, "orig", None) or error.__context__
    return False


class BrokerUnavailable(DomainError):
    status, slug, title = 503, "broker-unavailable", "Background queue unavailable"


def enqueue(task_name: str, *args) -> None:
    try:
        _send(task_name, args, retry_policy={"max_retries": 2})
    except Exception as error:  # kombu wraps most broker failures, not all (a Redis restart
        # has raised AttributeError inside its transport); the row is recorded either way
        log.warning("%s%s not queued (%s)", task_name, args, type(error).__name__)
        raise BrokerUnavailable(
            "The job was recorded but could not be queued; it will be retried."
        ) from error


def try_enqueue(task_name: str, *args, countdown: float | None = None) -> bool:
    """Send without retrying; False (logged) if the broker refused."""
    try:
        _send(task_name, args, countdown=countdown, retry=False)
    except Exception as error:  # any broker failure (kombu, redis-py, OSError)
        log.warning("%s%s not queued (%s); its sweeper will queue it", task_name, args,
                    type(error).__name__)
        return False
    return True


def enqueue_after_commit(task_name: str, *args) -> None:
    db.session.info.setdefault(_AFTER_COMMIT, []).append((task_name, args))


def _send(task_name: str, args: tuple, **options) -> None:
    current_app.extensions["celery"].send_task(task_name, args=list(args), **options)


@event.listens_for(Session, "after_commit")
def _send_committed(session: Session) -> None:
    for task_name, args in session.info.pop(_AFTER_COMMIT, []):
        if not try_enqueue(task_name, *args):
            break  # the broker is down: the rest would fail too; the sweepers catch up


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
