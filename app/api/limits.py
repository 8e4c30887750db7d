"""Rate limits (flask-limiter): per API token on the editorial API, per site key and
client address on the public endpoints, per address on feeds; health checks are exempt.

Counters live in RATE_LIMIT_STORAGE_URL: Redis in production, so every API process
shares them; memory (per process) on the embedded default. If the storage is down the
request goes through rather than failing: a limiter outage must not take the newsroom
down. A refusal is a 429 problem+json with Retry-After (and X-RateLimit-* headers).
"""

import hashlib

from flask import Flask, current_app, request
from flask_limiter import Limiter

from app.api import feeds, health, public


def init_limits(app: Flask) -> Limiter:
    limiter = Limiter(
        _token_or_address, app=app, storage_uri=app.config["RATE_LIMIT_STORAGE_URL"],
        strategy="fixed-window", headers_enabled=True, swallow_errors=True,
        default_limits=[lambda: f"{current_app.config['EDITORIAL_RATE_LIMIT_PER_MINUTE']}/minute"])
    # One budget per site key and address across serving, events and feeds.
    public_limit = limiter.shared_limit(
        lambda: f"{current_app.config['PUBLIC_RATE_LIMIT_PER_MINUTE']}/minute", "public",
        key_func=_site_and_address)
    public_limit(public.blp)
    public_limit(feeds.blp)
    limiter.exempt(health.blp)
    return limiter


def _token_or_address() -> str:
    """The caller's token (hashed: the raw secret never reaches the counter store), or
    their address when there is none."""
    authorization = request.headers.get("Authorization", "")
    if authorization:
        return "token:" + hashlib.sha256(authorization.encode()).hexdigest()[:32]
    return f"addr:{request.remote_addr}"


def _site_and_address() -> str:
    key = request.args.get("key", "")[:64]
    return f"site:{key}:{request.remote_addr}"
