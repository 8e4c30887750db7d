"""Scheduled publishing, run by beat every SCHEDULER_INTERVAL_SECONDS."""

from celery import shared_task
from flask import current_app

from app.editorial import scheduler
from app.platform import task_names
from tasks.system import COMMON, RETRY


# A run not started within a minute is dropped: beat sends a fresh one every few seconds.
@shared_task(name=task_names.PUBLISH_DUE, **COMMON, **RETRY, expires=60)
def publish_due() -> list[str]:
    """Publish every due scheduled article (safe to run concurrently and repeatedly)."""
    return scheduler.publish_due(current_app.config["SCHEDULER_BATCH_SIZE"])
