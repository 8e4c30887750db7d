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
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIGNED = ("Idempotency-Key", "Masthead-Article", "Masthead-Sequence", "Masthead-Event")


def verify_signature(secret: str, headers, body: bytes, now: float | None = None,
                     tolerance: float = 300) -> bool:
    """True if ``headers["Masthead-Signature"]`` ("t=<unix seconds>,v2=<hex>") signs the
    timestamp, the SIGNED headers and ``body`` with ``secret``, and is fresh."""
    try:
        fields = dict(part.strip().split("=", 1) for part in headers["Masthead-Signature"].split(","))
        timestamp = int(fields["t"])
        values = [fields["t"], *(headers[name] for name in SIGNED)]
    except (AttributeError, KeyError, ValueError):
        return False
    if headers.get("Masthead-Delivery") != headers["Idempotency-Key"]:
        return False  # both carry the delivery id
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False  # a replayed (or badly clock-skewed) request
    message = ".".join(values).encode() + b"." + body
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), fields.get("v2", "").encode())


def sign(secret: str, headers: dict, body: bytes, timestamp: int | None = None) -> str:
    """The ``Masthead-Signature`` value the sender is expected to produce for this request."""
    t = int(time.time()) if timestamp is None else timestamp
    message = ".".join([str(t), *(headers[name] for name in SIGNED)]).encode() + b"." + body
    return f"t={t},v2={hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()}"


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
    client_port: int | None = None  # the sender's port: one per connection it opened


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: "Receiver", address: tuple[str, int], tls: ssl.SSLContext | None):
        self.receiver = receiver
        super().__init__(address, _Handler)
        if tls is not None:  # the handshake runs when a connection is accepted
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    def handle_error(self, request, client_address):
        """Clients that time out and hang up are part of the tests, not errors worth a traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a pooled sender would use

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {name.title(): value for name, value in self.headers.items()}  # HTTP names are case-blind
        status, extra = self.server.receiver._handle(self.path, headers, body, self.client_address[1])
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

    def __init__(self, secret: str | None = None, tolerance_seconds: float = 300,
                 address: tuple[str, int] = ("127.0.0.1", 0), tls: ssl.SSLContext | None = None):
        """``address``: where to listen (another loopback address, or a given port);
        ``tls``: a server-side context, to be reached over https."""
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
        self._server = _Server(self, address, tls)
        self._scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="webhook-receiver", daemon=True)
        self._thread.start()

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host}:{port}/hook"

    @property
    def port(self) -> int:
        return self._server.server_address[1]

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

    def _handle(self, path: str, headers: dict[str, str], body: bytes,
                client_port: int | None = None) -> tuple[int, dict]:
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
            self._attempts.append(Attempt(key, status, outcome, reason, arrived, client_port))
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
                self.secret, headers, body, tolerance=self.tolerance_seconds):
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


@dataclass
class TrickledRequest:
    key: str | None
    opened: float  # time.monotonic() when the request had arrived
    closed: float | None = None  # when the sender hung up


class TricklingReceiver:
    """A hostile receiver: it reads each request whole, then answers one byte every
    ``interval`` seconds, so no single read ever waits long enough to time out. It records
    every request with the time the sender hung up, to show that attempts end at their
    deadline and that no delivery is ever being sent twice at once."""

    ANSWER = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._requests: list[TrickledRequest] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._accept, name="trickler", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/hook"

    @property
    def requests(self) -> list[TrickledRequest]:
        with self._lock:
            return [TrickledRequest(r.key, r.opened, r.closed) for r in self._requests]

    def max_open(self) -> int:
        """The most requests open at one moment."""
        edges = sorted((t, step) for r in self.requests
                       for t, step in ((r.opened, 1), (r.closed or float("inf"), -1)))
        open_now = peak = 0
        for _, step in edges:
            open_now += step
            peak = max(peak, open_now)
        return peak

    def overlapping_keys(self) -> set[str]:
        """Idempotency-Keys with two requests open at the same moment."""
        by_key: dict[str, list[TrickledRequest]] = {}
        for request in self.requests:
            by_key.setdefault(request.key, []).append(request)
        return {key for key, spans in by_key.items()
                if any(a.opened < (b.closed or float("inf")) and b.opened < (a.closed or float("inf"))
                       for i, a in enumerate(spans) for b in spans[i + 1:])}

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> "TricklingReceiver":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            key = _read_request(conn)
            request = TrickledRequest(key, time.monotonic())
            with self._lock:
                self._requests.append(request)
            self._trickle(conn)
            request.closed = time.monotonic()

    def _trickle(self, conn: socket.socket) -> None:
        """One byte per interval until the sender hangs up (seen at once: EOF)."""
        for byte in self.ANSWER:
            readable, _, _ = select.select([conn], [], [], self.interval)
            if readable or self._closing.is_set():
                return  # the sender closed the connection (or sent something unexpected)
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                return


def _read_request(conn: socket.socket) -> str | None:
    """The Idempotency-Key of the request read whole from ``conn``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in
               (line.decode("latin-1").partition(":") for line in head.split(b"\r\n")[1:])}
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return headers.get("idempotency-key")
