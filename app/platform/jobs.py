"""The services' only door to Celery: tasks are sent by name, after the data is committed."""

from celery.exceptions import SoftTimeLimitExceeded
from flask import current_app
from kombu.exceptions import OperationalError

from app.errors import DomainError

# What a task's soft time limit raises inside the work it interrupts (prefork pool only).
TimeLimitReached = SoftTimeLimitExceeded


class BrokerUnavailable(DomainError):
    status, slug, title = 503, "broker-unavailable", "Background queue unavailable"


def enqueue(task_name: str, *args) -> None:
    celery = current_app.extensions["celery"]
    try:
        celery.send_task(task_name, args=list(args), retry_policy={"max_retries": 2})
    except OperationalError as error:
        raise BrokerUnavailable(
            "The job was recorded but could not be queued; it will be retried."
        ) from error
