"""Cleanup of imported copy, and the sweeper that re-queues runs whose task was lost."""

from datetime import timedelta

from celery import shared_task
from flask import current_app

from app.services import cleanup, imports
from tasks.system import RETRY

LIMITS = {"acks_late": True, "soft_time_limit": 120, "time_limit": 180}


@shared_task(name="masthead.cleanup.run", **LIMITS, **RETRY)
def run_cleanup(run_id: str) -> str:
    """Clean one import (a finished run is left alone, so redelivery is harmless)."""
    return cleanup.execute(run_id).status


@shared_task(name="masthead.cleanup.sweep", acks_late=True, soft_time_limit=60, time_limit=90,
             expires=120)
def sweep() -> list[str]:
    """Re-queue cleanup runs stuck in queued/running for longer than the sweep age."""
    age = timedelta(seconds=current_app.config["CLEANUP_SWEEP_AGE_SECONDS"])
    return imports.sweep_stalled(age)
