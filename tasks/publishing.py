"""Delivery of the outbox to outlets, and the sweeper that recovers lost deliveries."""

from celery import shared_task

from app.platform import task_names
from app.publishing import delivery_runs
from tasks.system import RETRY

# WEBHOOK_DEADLINE_SECONDS (at most 30, checked at start-up) ends every attempt inside the
# soft limit, under every pool; these limits are a second line where the pool enforces them
# (prefork; the threads pool does not).
LIMITS = {"acks_late": True, "soft_time_limit": 45, "time_limit": 60}


@shared_task(name=task_names.DELIVER, **LIMITS, **RETRY)
def deliver(delivery_id: str) -> str:
    """Send one delivery if it is its turn (a repeat or a stale message is a no-op)."""
    return delivery_runs.attempt(delivery_id)


@shared_task(name=task_names.DELIVERY_SWEEP, **LIMITS, **RETRY, expires=60)
def sweep() -> dict:
    """Release leases of dead workers and queue again deliveries whose task was lost."""
    return delivery_runs.sweep()
