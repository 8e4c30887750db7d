"""Delivery of the outbox to outlets, and the sweeper that recovers lost deliveries."""

from celery import shared_task

from app.services import delivery_runs
from tasks.system import RETRY

# The HTTP timeout bounds an attempt well inside these limits; the lease outlives them.
LIMITS = {"acks_late": True, "soft_time_limit": 45, "time_limit": 60}


@shared_task(name="masthead.publishing.deliver", **LIMITS, **RETRY)
def deliver(delivery_id: str) -> str:
    """Send one delivery if it is its turn (a repeat or a stale message is a no-op)."""
    return delivery_runs.attempt(delivery_id)


@shared_task(name="masthead.publishing.sweep", **LIMITS, **RETRY, expires=60)
def sweep() -> dict:
    """Release leases of dead workers and queue again deliveries whose task was lost."""
    return delivery_runs.sweep()
