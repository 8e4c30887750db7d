"""The state half of /metrics: read from the database, the event store and the broker at
scrape time (app.metrics has the per-process half)."""

from pathlib import Path

from flask import current_app
from prometheus_client.core import CounterMetricFamily
from sqlalchemy import func, select

from app.experiments.event_stores import event_store
from app.extensions import QUEUES, db
from app.metrics import gauge
from app.models import CleanupRun, Delivery, Outlet


class StateCollector:
    def collect(self):
        yield gauge("masthead_deliveries", "Deliveries by outlet and state", ["outlet", "state"],
                    _deliveries())
        yield gauge("masthead_cleanup_runs", "Cleanup runs by outcome", ["status"], _cleanup_runs())
        events = CounterMetricFamily("masthead_experiment_events", "Experiment events received, by "
                                     "outcome (accepted, duplicate, or the rejection reason)",
                                     labels=["outcome"])
        for outcome, count in event_store().metrics().items():
            events.add_metric([outcome], count)
        yield events
        depths = queue_depths()
        if depths is not None:
            yield gauge("masthead_queue_depth", "Task messages waiting in the broker", ["queue"],
                        {(queue,): depth for queue, depth in depths.items()})


def _deliveries() -> dict[tuple, float]:
    rows = db.session.execute(select(Outlet.name, Delivery.state, func.count())
                              .join(Outlet, Outlet.id == Delivery.outlet_id)
                              .group_by(Outlet.name, Delivery.state))
    return {(name, state.value): count for name, state, count in rows}


def _cleanup_runs() -> dict[tuple, float]:
    rows = db.session.execute(select(CleanupRun.status, func.count()).group_by(CleanupRun.status))
    return {(status.value,): count for status, count in rows}


def queue_depths() -> dict[str, int] | None:
    """Messages waiting per queue: Redis list lengths, or message files in the embedded
    broker's folder (named ``<id>.<queue>.msg``)."""
    url = current_app.config["CELERY_BROKER_URL"]
    if url.startswith("redis"):
        import redis
        client = redis.Redis.from_url(url, socket_timeout=2)
        return {queue: client.llen(queue) for queue in QUEUES}
    if url.startswith("filesystem"):
        folder = Path(current_app.config["CELERY_BROKER_DIR"]) / "queue"
        return {queue: sum(1 for _ in folder.glob(f"*.{queue}.msg")) if folder.is_dir() else 0
                for queue in QUEUES}
    return None
