"""Rate limits: per API token (its id, once authenticated) and route on the editorial API,
per site key and client address on the public endpoints, per address on feeds, the
front-page snippet and failed authentications (an unknown token or site key); health
checks are exempt. A blueprint declares its class (ApiBlueprint's ``rate_limit``).

Counters live in RATE_LIMIT_STORAGE_URL: Redis in production, so every API process
shares them (the ``limits`` library's fixed windows); memory on the embedded default,
counted in the process (``ProcessWindows``). If the storage is down the request goes
through rather than failing: a limiter outage must not take the newsroom down. A refusal
is a 429 problem+json with Retry-After; every limited response carries ``X-RateLimit-*``.

One small limiter for every class: flask-limiter's per-request resolution of its limits
and headers cost about 15% of an editorial read and more than answering a front page
(docs/benchmarks.md), for the one rule each class needs.
"""

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import Flask, current_app, g, request
from limits import RateLimitItem, parse, storage

from app.errors import TooManyRequests

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
CLASSES = ("per_token", "per_address", "per_site_key", "exempt")


def init_limits(app: Flask) -> None:
    url = app.config["RATE_LIMIT_STORAGE_URL"]
    for blueprint in app.blueprints.values():
        if getattr(blueprint, "rate_limit", "per_token") not in CLASSES:
            raise ValueError(f"unknown rate-limit class {blueprint.rate_limit!r} on {blueprint.name}")
    app.extensions["editorial_limiter"] = EditorialLimiter(url)
    app.extensions["public_limiter"] = PublicLimiter(url)
    app.extensions["failed_auth_limiter"] = FailedAuthLimiter(url)
    app.before_request(check_rate_limit)
    app.after_request(add_rate_limit_headers)


def check_rate_limit() -> None:
    """Before-request: spend one request of the caller's budget for this route (after
    authentication, so a token is counted by its id however the header is spelt)."""
    if request.endpoint is None or request.method == "OPTIONS":
        return
    blueprint = current_app.blueprints.get(request.blueprint or "")
    rate_limit = getattr(blueprint, "rate_limit", "per_token")
    if rate_limit == "per_token":
        token_id = g.get("token_id")
        who = f"token:{token_id}" if token_id else f"addr:{request.remote_addr}"
        per_minute = current_app.config["EDITORIAL_RATE_LIMIT_PER_MINUTE"]
        current_app.extensions["editorial_limiter"].hit(per_minute, who, request.endpoint)
    elif rate_limit == "per_address":
        per_minute = current_app.config["PUBLIC_RATE_LIMIT_PER_MINUTE"]
        current_app.extensions["editorial_limiter"].hit(per_minute, f"addr:{request.remote_addr}",
                                                        request.blueprint)


def add_rate_limit_headers(response):
    window: Window | None = g.get("rate_window")
    if window is not None:
        response.headers["X-RateLimit-Limit"] = str(window.limit)
        response.headers["X-RateLimit-Remaining"] = str(max(0, window.limit - window.count))
        response.headers["X-RateLimit-Reset"] = str(int(window.reset_at))
    return response


@dataclass(frozen=True)
class Window:
    """One key's fixed window after a hit: requests counted, the budget, when it ends."""

    count: int
    limit: int
    reset_at: float  # epoch seconds

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit


class WindowLimiter:
    """A fixed-window budget per key, on the configured counter store."""

    namespace = "window"

    def __init__(self, storage_url: str) -> None:
        memory = storage_url.split(":", 1)[0] == "memory"
        self.windows = ProcessWindows() if memory else StoreWindows(storage_url)

    def _hit(self, per_minute: int, keys: tuple[str, ...], refusal: str) -> None:
        _refuse_over(self._count(per_minute, keys), refusal)

    def _count(self, per_minute: int, keys: tuple[str, ...]) -> Window | None:
        """The key's window with this request counted; None if the store is down."""
        try:
            return self.windows.hit(per_minute, (self.namespace, *keys))
        except Exception as error:  # the store is down: let the request through
            log.warning("rate-limit store unavailable (%s); request allowed", type(error).__name__)
            return None


def _refuse_over(window: Window | None, refusal: str) -> None:
    if window is not None and not window.allowed:
        raise TooManyRequests(refusal, retry_after=max(1, int(window.reset_at - time.time()) + 1))


class StoreWindows:
    """One-minute windows in a shared store (Redis): the ``limits`` library."""

    def __init__(self, storage_url: str) -> None:
        self.storage = storage.storage_from_string(storage_url)

    def hit(self, per_minute: int, keys: tuple[str, ...]) -> Window:
        """Count one request in its key's window (as ``limits``'s fixed-window strategy)."""
        limit = _per_minute(per_minute)
        key = limit.key_for(*keys)
        count = self.storage.incr(key, limit.get_expiry())
        return Window(count, per_minute, self.storage.get_expiry(key))


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

    def hit(self, per_minute: int, keys: tuple[str, ...]) -> Window:
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            window = self._windows.get(keys)
            if window is None or window[1] <= now:
                window = self._windows[keys] = [0, now + WINDOW_SECONDS]
            window[0] += 1
            return Window(window[0], per_minute, window[1])

    def _sweep(self, now: float) -> None:
        """Forget ended windows, once a window's length (memory stays bounded)."""
        self._windows = {keys: window for keys, window in self._windows.items() if window[1] > now}
        self._next_sweep = now + WINDOW_SECONDS


class EditorialLimiter(WindowLimiter):
    """The editorial API (per token and route) and feeds and the snippet (per address):
    the window is kept for the response's ``X-RateLimit-*`` headers."""

    namespace = "editorial"

    def hit(self, per_minute: int, who: str, scope: str) -> None:
        g.rate_window = self._count(per_minute, (who, scope))
        _refuse_over(g.rate_window, f"More than {per_minute} requests a minute on this route.")


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
