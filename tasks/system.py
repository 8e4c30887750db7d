"""Operational tasks: worker heartbeats and periodic clean-up."""

from datetime import timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from app.platform import system, task_names

COMMON = {"acks_late": True, "soft_time_limit": 30, "time_limit": 60}
# Transient failures (database restarting, network blips) are retried with backoff.
RETRY = {"autoretry_for": (OperationalError, ConnectionError, TimeoutError), "retry_backoff": True,
         "retry_jitter": True, "max_retries": 5}


@shared_task(name=task_names.COMPLETE_HEARTBEAT, **COMMON, **RETRY)
def complete_heartbeat(heartbeat_id: str) -> bool:
    """Answer a heartbeat requested through the API (a repeat is a no-op)."""
    return system.complete_heartbeat(heartbeat_id)


@shared_task(name=task_names.BEAT_HEARTBEAT, **COMMON, expires=60)
def beat_heartbeat() -> str:
    """Record that beat scheduled a task and a worker ran it."""
    return system.record_beat_heartbeat().id


@shared_task(name=task_names.PURGE_EXPIRED, **COMMON, **RETRY)
def purge_expired() -> dict:
    """Drop old heartbeats and expired Idempotency-Key records."""
    config = current_app.config
    return system.purge_expired(
        timedelta(hours=config["HEARTBEAT_RETENTION_HOURS"]),
        timedelta(hours=config["IDEMPOTENCY_TTL_HOURS"]),
    )
