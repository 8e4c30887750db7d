"""Operational use cases: readiness, worker heartbeats and periodic clean-up."""

import socket
from datetime import timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.exc import SQLAlchemyError

from app.errors import NotFound
from app.extensions import db
from app.models import Heartbeat, User, utcnow
from app.platform import idempotency, task_names
from app.platform.jobs import enqueue
from app.platform.uow import transaction


def check_database() -> str | None:
    """None when the database answers, else a short reason (never a connection string)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        return type(error).__name__
    return None


def check_broker(celery) -> str | None:
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:  # kombu raises transport-specific errors
        return type(error).__name__
    return None


def request_heartbeat(actor: User) -> Heartbeat:
    with transaction() as session:
        beat = Heartbeat(kind="probe", requested_by_id=actor.id)
        session.add(beat)
    enqueue(task_names.COMPLETE_HEARTBEAT, beat.id)
    return beat


def get_heartbeat(heartbeat_id: str) -> Heartbeat:
    beat = db.session.get(Heartbeat, heartbeat_id)
    if beat is None:
        raise NotFound(f"No heartbeat {heartbeat_id}.")
    return beat


def complete_heartbeat(heartbeat_id: str) -> bool:
    """Mark a heartbeat answered by this worker; a repeat delivery changes nothing."""
    with transaction():
        beat = db.session.get(Heartbeat, heartbeat_id)
        if beat is None or beat.completed_at is not None:
            return False
        beat.completed_at = utcnow()
        beat.worker = socket.gethostname()
    return True


def record_beat_heartbeat() -> Heartbeat:
    with transaction() as session:
        now = utcnow()
        beat = Heartbeat(kind="beat", requested_at=now, completed_at=now,
                         worker=socket.gethostname())
        session.add(beat)
    return beat


def latest_heartbeat(kind: str) -> Heartbeat | None:
    query = select(Heartbeat).where(Heartbeat.kind == kind, Heartbeat.completed_at.is_not(None))
    return db.session.scalar(query.order_by(Heartbeat.completed_at.desc()).limit(1))


def purge_expired(heartbeat_ttl: timedelta, idempotency_ttl: timedelta) -> dict:
    with transaction() as session:
        beats = session.execute(delete(Heartbeat).where(Heartbeat.requested_at < utcnow() - heartbeat_ttl))
        keys = idempotency.purge_expired(idempotency_ttl)
    return {"heartbeats": beats.rowcount or 0, "idempotency_records": keys}
