"""One webhook attempt over HTTP, and what its result means for the delivery.

Redirects are not followed (the target could be an address the guard refuses), the
response body is read only up to an excerpt, and every failure comes back as a value
rather than an exception, so the caller always records the attempt.
"""

import email.utils
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import requests

EXCERPT_BYTES = 512
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})
_local = threading.local()


@dataclass(frozen=True)
class Result:
    status_code: int | None
    latency_ms: float
    error: str | None = None
    excerpt: str | None = None
    retry_after: float | None = None  # seconds, from the receiver's Retry-After
    refused: bool = False  # the URL guard refused the address: no request was made

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def permanent(self) -> bool:
        """A failure no retry can fix: a refused address, a redirect, a 4xx other than
        the retryable ones (408, 409, 425, 429)."""
        code = self.status_code
        return self.refused or (code is not None and 300 <= code < 500 and code not in RETRYABLE_STATUSES)


def post(url: str, body: bytes, headers: dict, timeout: float) -> Result:
    started = time.perf_counter()
    try:
        with _session().post(url, data=body, headers=headers, timeout=timeout,
                             allow_redirects=False, stream=True) as response:
            excerpt = response.raw.read(EXCERPT_BYTES, decode_content=True)
            status, retry_after = response.status_code, response.headers.get("Retry-After")
    except requests.RequestException as error:
        return Result(None, _ms(started), error=_describe(error))
    return Result(status, _ms(started), error=None if 200 <= status < 300 else f"HTTP {status}",
                  excerpt=excerpt.decode("utf-8", "replace"), retry_after=parse_retry_after(retry_after))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _session() -> requests.Session:
    """One connection pool per worker thread: keep-alive to each outlet."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
        _local.session.trust_env = False  # no proxy or .netrc credentials from the environment
    return _local.session


def _describe(error: requests.RequestException) -> str:
    if isinstance(error, requests.Timeout):
        return "timed out"
    if isinstance(error, requests.ConnectionError):
        return "connection failed"
    return type(error).__name__


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
