"""Idempotency-Key handling for creating POSTs.

The key is reserved inside the same transaction as the creation it guards, so the
record and the created resource are committed together or not at all. A concurrent
request with the same key waits on the unique index and then replays the winner.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import IdempotencyRecord, User, utcnow

REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


@dataclass
class StoredResponse:
    status: int
    body: str
    headers: dict


def fingerprint(method: str, path: str, payload) -> str:
    canonical = json.dumps([method, path, payload], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def find(user: User, key: str, request_fingerprint: str) -> StoredResponse | None:
    record = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.fingerprint != request_fingerprint:
        raise ValidationFailed(
            "This Idempotency-Key was already used with a different request.",
            errors=[{"location": "headers", "field": "/Idempotency-Key",
                     "message": "Key reused with another request body or path."}],
        )
    if record.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still in progress.")
    return StoredResponse(record.status_code, record.response_body or "", record.response_headers)


def reserve(user: User, key: str, request_fingerprint: str) -> IdempotencyRecord:
    """Add the record to the open transaction; flushing raises IntegrityError on a race."""
    record = IdempotencyRecord(user_id=user.id, key=key, fingerprint=request_fingerprint)
    db.session.add(record)
    db.session.flush()
    return record


def complete(record: IdempotencyRecord, status: int, body: str, headers: dict) -> None:
    record.status_code = status
    record.response_body = body
    record.response_headers = {k: v for k, v in headers.items() if k in REPLAYED_HEADERS}


def purge_expired(ttl: timedelta) -> int:
    """Forget keys older than ``ttl``. Called by a periodic task; the caller commits."""
    result = db.session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - ttl)
    )
    return result.rowcount or 0
