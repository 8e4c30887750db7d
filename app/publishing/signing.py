"""Webhook signatures: HMAC-SHA256 over the timestamp and the body.

``Masthead-Signature: t=<unix seconds>,v1=<hex>`` with hex = HMAC-SHA256(secret,
"<t>." + body). The timestamp is signed with the body, so a receiver that refuses old
timestamps also refuses replays of captured requests; ``v1`` names the scheme so a
second one can be added during a key or algorithm rotation.
"""

import hashlib
import hmac

HEADER = "Masthead-Signature"


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"
