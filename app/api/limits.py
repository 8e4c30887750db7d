"""Rate limits: per API token (its id, once authenticated) on the editorial API, per site
key and client address on the public endpoints, per address on feeds, the front-page snippet and failed
authentications (an unknown token or site key); health checks are exempt.

Counters live in RATE_LIMIT_STORAGE_URL: Redis in production, so every API process
shares them; memory (per process) on the embedded default. If the storage is down the
request goes through rather than failing: a limiter outage must not take the newsroom
down. A refusal is a 429 problem+json with Retry-After.

The editorial API and feeds use flask-limiter. Public serving and events call its
``limits`` library directly, on the same storage (flask-limiter's per-request route
resolution cost more than answering a front page, bench/experiment_load.py), or on the
memory storage count in the process themselves (``ProcessWindows``).
"""

import logging
import threading
import time
from functools import lru_cache

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse, storage, strategies

from app.api.browser import skip_on_hot_path
from app.errors import TooManyRequests

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60


def init_limits(app: Flask) -> Limiter:
    limiter = Limiter(
        _token_or_address, app=app, storage_uri=app.config["RATE_LIMIT_STORAGE_URL"],
        strategy="fixed-window", headers_enabled=True, swallow_errors=True,
        default_limits=[lambda: f"{current_app.config['EDITORIAL_RATE_LIMIT_PER_MINUTE']}/minute"])
    for blueprint in app.blueprints.values():
        _apply_class(limiter, blueprint, getattr(blueprint, "rate_limit", "per_token"))
    app.extensions["public_limiter"] = PublicLimiter(app.config["RATE_LIMIT_STORAGE_URL"])
    app.extensions["failed_auth_limiter"] = FailedAuthLimiter(app.config["RATE_LIMIT_STORAGE_URL"])
    skip_on_hot_path(app.before_request_funcs[None], "_check_request_limit")
    skip_on_hot_path(app.after_request_funcs[None], "__inject_headers")
    return limiter


def _apply_class(limiter: Limiter, blueprint, rate_limit: str) -> None:
    """The class a blueprint declares (ApiBlueprint's ``rate_limit``); per token is the
    limiter's default. Per site key: PublicLimiter, called once the key is known."""
    if rate_limit == "per_address":
        limiter.limit(lambda: f"{current_app.config['PUBLIC_RATE_LIMIT_PER_MINUTE']}/minute",
                      key_func=lambda: f"addr:{request.remote_addr}")(blueprint)
    elif rate_limit in ("per_site_key", "exempt"):
        limiter.exempt(blueprint)
    elif rate_limit != "per_token":
        raise ValueError(f"unknown rate-limit class {rate_limit!r} on {blueprint.name}")


def _token_or_address() -> str:
    """The authenticated token's id (app/api/auth.py authenticates before limits run),
    else the client address: spelling a header differently buys no new budget."""
    token_id = g.get("token_id")
    return f"token:{token_id}" if token_id else f"addr:{request.remote_addr}"


class WindowLimiter:
    """A fixed-window budget per key, on the configured counter store."""

    namespace = "window"

    def __init__(self, storage_url: str) -> None:
        memory = storage_url.split(":", 1)[0] == "memory"
        self.windows = ProcessWindows() if memory else StoreWindows(storage_url)

    def _hit(self, per_minute: int, keys: tuple[str, ...], refusal: str) -> None:
        try:
            reset_at = self.windows.hit(per_minute, (self.namespace, *keys))
        except Exception as error:  # the store is down: let the request through
            log.warning("rate-limit store unavailable (%s); request allowed", type(error).__name__)
            return
        if reset_at is not None:
            raise TooManyRequests(refusal, retry_after=max(1, int(reset_at - time.time()) + 1))


class StoreWindows:
    """One-minute windows in a shared store (Redis): the ``limits`` library."""

    def __init__(self, storage_url: str) -> None:
        self.window = strategies.FixedWindowRateLimiter(storage.storage_from_string(storage_url))

    def hit(self, per_minute: int, keys: tuple[str, ...]) -> float | None:
        """Count one request; None if allowed, else when the window resets (epoch seconds)."""
        limit = _per_minute(per_minute)
        if self.window.hit(limit, *keys):
            return None
        return self.window.get_window_stats(limit, *keys).reset_time


class ProcessWindows:
    """One-minute windows counted in this process (RATE_LIMIT_STORAGE_URL=memory://).

    The same fixed windows as ``limits``'s memory storage (each starts at its key's first
    hit), without the expiry thread that storage starts anew every 10 ms under load: on
    the public hot path that cost more than answering (bench/experiment_load.py).
    """

    def __init__(self) -> None:
        self._windows: dict[tuple[str, ...], list] = {}  # keys -> [count, ends at]
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def hit(self, per_minute: int, keys: tuple[str, ...]) -> float | None:
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            window = self._windows.get(keys)
            if window is None or window[1] <= now:
                window = self._windows[keys] = [0, now + WINDOW_SECONDS]
            window[0] += 1
            return None if window[0] <= per_minute else window[1]

    def _sweep(self, now: float) -> None:
        """Forget ended windows, once a window's length (memory stays bounded)."""
        self._windows = {keys: window for keys, window in self._windows.items() if window[1] > now}
        self._next_sweep = now + WINDOW_SECONDS


class PublicLimiter(WindowLimiter):
    """One budget per site key and client address across serving and events."""

    namespace = "public"

    def hit(self, site_key: str, address: str | None, per_minute: int) -> None:
        self._hit(per_minute, (site_key, address or "-"),
                  f"More than {per_minute} requests a minute for this site and address.")


class FailedAuthLimiter(WindowLimiter):
    """Requests with an unknown token or site key, per client address."""

    namespace = "failed-auth"

    def hit(self, address: str | None) -> None:
        per_minute = current_app.config["FAILED_AUTH_PER_MINUTE"]
        self._hit(per_minute, (address or "-",),
                  f"More than {per_minute} failed authentications a minute from this address.")


@lru_cache(maxsize=16)
def _per_minute(count: int) -> RateLimitItem:
    return parse(f"{count}/minute")
