"""Webhook signatures: HMAC-SHA256 over the timestamp, what the headers say the request
is, and the body.

``Masthead-Signature: t=<unix seconds>,v2=<hex>`` with hex = HMAC-SHA256(secret,
"<t>.<delivery id>.<article id>.<sequence>.<event>." + body), the ids and the event as
sent in ``Idempotency-Key`` (= ``Masthead-Delivery``), ``Masthead-Article``,
``Masthead-Sequence`` and ``Masthead-Event``. A receiver that refuses old timestamps
refuses replays of captured requests, and because the headers a receiver acts on are
signed too, a captured request cannot be replayed within the tolerance under another
Idempotency-Key (to be processed again) or a higher sequence (to overwrite a newer
version). None of the signed values contains a dot, so the fields cannot run into each
other. ``v1`` (timestamp and body only) is no longer sent; ``v2`` names this scheme so a
third can be added during a key or algorithm rotation.
"""

import hashlib
import hmac
from dataclasses import dataclass

HEADER = "Masthead-Signature"


@dataclass(frozen=True)
class Signed:
    """The values the signature covers besides the body."""

    delivery_id: str
    article_id: str
    sequence: int
    event: str


def signature_header(secret: str, signed: Signed, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v2={signature(secret, signed, body, timestamp)}"


def signature(secret: str, signed: Signed, body: bytes, timestamp: int) -> str:
    prefix = f"{timestamp}.{signed.delivery_id}.{signed.article_id}.{signed.sequence}.{signed.event}."
    return hmac.new(secret.encode(), prefix.encode() + body, hashlib.sha256).hexdigest()
