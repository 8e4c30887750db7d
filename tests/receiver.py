"""A real HTTP webhook receiver on loopback, for webhook delivery integration tests and benchmarks.

It behaves like a well-built subscriber: it verifies ``Masthead-Signature``, deduplicates by
``Idempotency-Key`` and records what it processed, with arrival times. Tests script failures
(``fail_next``, ``fail_key``, ``respond_always``, ``stall_next``) to drive the sender's retry,
give-up and ordering logic over real sockets.

``verify_signature`` is the verification snippet the README shows to subscribers.
"""

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify_signature(secret: str, header: str, body: bytes, now: float | None = None,
                     tolerance: float = 300) -> bool:
    """True if ``header`` ("t=<unix seconds>,v1=<hex>") signs ``body`` with ``secret`` and is fresh."""
    try:
        fields = dict(part.strip().split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (AttributeError, KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False  # a replayed (or badly clock-skewed) request
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), fields.get("v1", "").encode())


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Masthead-Signature`` header value the sender is expected to produce for ``body``."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


@dataclass(frozen=True)
class Delivery:
    """One processed webhook: the first successful request for its Idempotency-Key."""

    key: str
    event: str | None
    sequence: int | None
    article: str | None
    headers: dict[str, str]  # names in Title-Case, e.g. "Masthead-Sequence"
    body: object  # parsed JSON
    path: str
    arrived: float  # time.monotonic(), for latency and retry-spacing measurements
    wall: float  # time.time()


@dataclass(frozen=True)
class Attempt:
    """Every request, whatever its fate; ``outcome`` is processed/duplicate/scripted/rejected."""

    key: str | None
    status: int
    outcome: str
    reason: str
    arrived: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: "Receiver"):
        self.receiver = receiver
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request, client_address):
        """Clients that time out and hang up are part of the tests, not errors worth a traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a pooled sender would use

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {name.title(): value for name, value in self.headers.items()}  # HTTP names are case-blind
        status, extra = self.server.receiver._handle(self.path, headers, body)
        payload = json.dumps({"ok": status < 300}).encode()
        try:
            self.send_response(status)
            for name, value in {**extra, "Content-Type": "application/json"}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. timed out during a stall)

    def log_message(self, format, *args):
        """Silence the default per-request stderr logging."""


class Receiver:
    """Loopback webhook endpoint; use as a context manager. All state is guarded by one lock."""

    def __init__(self, secret: str | None = None, tolerance_seconds: float = 300):
        self.secret = secret
        self.tolerance_seconds = tolerance_seconds
        self._cond = threading.Condition(threading.RLock())
        self._closing = threading.Event()
        self._processed: list[Delivery] = []
        self._by_key: dict[str, Delivery] = {}
        self._attempts: list[Attempt] = []
        self._duplicates = 0
        self._fail_next: list = [0, 500, {}]
        self._fail_keys: dict[str, list] = {}
        self._always: tuple[int, dict] | None = None
        self._stall: list = [0, 0.0]
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="webhook-receiver", daemon=True)
        self._thread.start()

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def close(self) -> None:
        """Stop serving; stalled handlers wake up at once. Safe to call twice."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "Receiver":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- observations (snapshots, safe to read while deliveries arrive) ----------------------------

    @property
    def processed(self) -> list[Delivery]:
        with self._cond:
            return list(self._processed)

    @property
    def by_key(self) -> dict[str, Delivery]:
        with self._cond:
            return dict(self._by_key)

    @property
    def attempts(self) -> list[Attempt]:
        with self._cond:
            return list(self._attempts)

    @property
    def rejected(self) -> list[Attempt]:
        return [a for a in self.attempts if a.outcome == "rejected"]

    @property
    def duplicates(self) -> int:
        with self._cond:
            return self._duplicates

    @property
    def requests(self) -> int:
        with self._cond:
            return len(self._attempts)

    def attempts_for(self, key: str) -> list[Attempt]:
        return [a for a in self.attempts if a.key == key]

    # -- scripted behaviour (settable at any time) ---------------------------------------------

    def fail_next(self, n: int, status: int = 500, headers: dict | None = None) -> None:
        """Answer the next ``n`` authentic requests with ``status``, then behave normally."""
        with self._cond:
            self._fail_next = [n, status, dict(headers or {})]

    def fail_key(self, key: str, n: int, status: int = 500) -> None:
        """Fail the first ``n`` attempts of delivery ``key`` (others go through): reorders arrivals."""
        with self._cond:
            self._fail_keys[key] = [n, status]

    def respond_always(self, status: int | None, headers: dict | None = None) -> None:
        """Answer every authentic request with ``status`` (e.g. 410, or 429 + Retry-After); None resets."""
        with self._cond:
            self._always = None if status is None else (status, dict(headers or {}))

    def stall_next(self, n: int, seconds: float) -> None:
        """Sleep ``seconds`` before handling each of the next ``n`` requests (to trip client timeouts).

        The request is still handled after the stall, as a real slow server would: a sender that
        timed out and retries will then be seen as a duplicate."""
        with self._cond:
            self._stall = [n, seconds]

    def wait_for(self, predicate_or_count=1, timeout: float = 10) -> None:
        """Block until ``len(processed) >= count`` or ``predicate(self)``; AssertionError on timeout."""
        count = None if callable(predicate_or_count) else predicate_or_count
        def check() -> bool:
            return len(self._processed) >= count if count is not None else predicate_or_count(self)
        deadline = time.monotonic() + timeout
        with self._cond:
            while not check():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    wanted = f"{count} processed" if count is not None else repr(predicate_or_count)
                    raise AssertionError(f"webhook receiver: timed out after {timeout}s "
                                         f"waiting for {wanted}; {self._summary()}")
                self._cond.wait(min(remaining, 0.1))

    def _summary(self) -> str:
        recent = ", ".join(f"{a.key}:{a.status}({a.reason or a.outcome})" for a in self._attempts[-8:])
        rejected = sum(a.outcome == "rejected" for a in self._attempts)
        return (f"requests={len(self._attempts)} processed={len(self._processed)} "
                f"duplicates={self._duplicates} rejected={rejected}; last attempts: [{recent}]")

    # -- request handling (called on server threads) ----------------------------------------------

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        stall = 0.0
        with self._cond:
            if self._stall[0] > 0:
                self._stall[0] -= 1
                stall = self._stall[1]
        if stall:
            self._closing.wait(stall)
        arrived, wall = time.monotonic(), time.time()
        with self._cond:
            key = headers.get("Idempotency-Key")
            status, extra, outcome, reason = self._decide(key, path, headers, body, arrived, wall)
            self._attempts.append(Attempt(key, status, outcome, reason, arrived))
            self._cond.notify_all()
        return status, extra

    def _decide(self, key, path, headers, body, arrived, wall) -> tuple[int, dict, str, str]:
        reason = self._refusal(key, headers, body)
        if reason:
            return (401 if "signature" in reason else 400), {}, "rejected", reason
        scripted = self._scripted(key)
        if scripted:
            return scripted[0], scripted[1], "scripted", ""
        if key in self._by_key:
            self._duplicates += 1
            return 200, {}, "duplicate", ""
        sequence = _int_or_none(headers.get("Masthead-Sequence"))
        delivery = Delivery(key, headers.get("Masthead-Event"), sequence, headers.get("Masthead-Article"),
                            headers, json.loads(body), path, arrived, wall)
        self._processed.append(delivery)
        self._by_key[key] = delivery
        return 200, {}, "processed", ""

    def _refusal(self, key, headers, body) -> str:
        if self.secret is not None and not verify_signature(
                self.secret, headers.get("Masthead-Signature", ""), body, tolerance=self.tolerance_seconds):
            return "bad or stale signature"
        if not key:
            return "missing Idempotency-Key"
        try:
            json.loads(body)
        except ValueError:
            return "body is not JSON"
        return ""

    def _scripted(self, key) -> tuple[int, dict] | None:
        if self._always is not None:
            return self._always
        per_key = self._fail_keys.get(key)
        if per_key and per_key[0] > 0:
            per_key[0] -= 1
            return per_key[1], {}
        if self._fail_next[0] > 0:
            self._fail_next[0] -= 1
            return self._fail_next[1], self._fail_next[2]
        return None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
