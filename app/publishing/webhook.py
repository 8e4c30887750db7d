"""One webhook attempt over HTTP, and what its result means for the delivery.

The request goes to an address the URL guard checked (``urlguard.Target``), never to a
fresh DNS answer; the Host header and the TLS name (SNI and certificate check) stay the
URL's host. Every attempt has a ``Budget``: no single step (connect, TLS handshake,
sending, a silence while reading) may take longer than its step timeout, and the whole
attempt ends at its deadline, however the receiver paces its bytes. The per-read
timeouts of requests/urllib3 cannot do that (a receiver sending one byte every few
seconds resets them for ever), which is why this client is the standard library's
``http.client`` over a socket that re-arms its timeout from the deadline before every
send and receive. It bounds attempts under every Celery pool, threads included, where
task time limits do not apply.

Redirects are not followed (the target could be an address the guard refuses), the
response body is read only up to an excerpt, and every failure comes back as a value
rather than an exception, so the caller always records the attempt.
"""

import email.utils
import functools
import http.client
import io
import select
import socket
import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from app.publishing.urlguard import Target

EXCERPT_BYTES = 512
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})
IDLE_CONNECTIONS_PER_THREAD = 16
_local = threading.local()


class DeadlineExceeded(TimeoutError):
    """The attempt's total deadline passed."""


@dataclass(frozen=True)
class Budget:
    """How long an attempt may take: ``step`` seconds for any one step, and all of it by
    ``deadline`` (a ``time.monotonic()`` value)."""

    deadline: float
    step: float

    @classmethod
    def starting_now(cls, total: float, step: float) -> "Budget":
        return cls(time.monotonic() + total, step)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def next_timeout(self) -> float:
        """The timeout of the next step; DeadlineExceeded once nothing is left."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceeded
        return min(self.step, left)


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


def post(target: Target, body: bytes, headers: dict, budget: Budget) -> Result:
    started = time.perf_counter()
    try:
        status, excerpt, retry_after = _exchange(target, body, headers, budget)
    except (OSError, http.client.HTTPException, ValueError) as error:
        return Result(None, _ms(started), error=_describe(error, budget))
    return Result(status, _ms(started), error=None if 200 <= status < 300 else f"HTTP {status}",
                  excerpt=excerpt.decode("utf-8", "replace"), retry_after=parse_retry_after(retry_after))


def _exchange(target: Target, body: bytes, headers: dict, budget: Budget) -> tuple[int, bytes, str | None]:
    """(status, excerpt, Retry-After) of one POST. A kept-alive connection the receiver
    closed in the meantime is replaced once by a new one (same Idempotency-Key, so a
    receiver that did get the first is not confused by the second)."""
    connection, reused = _checkout(target)
    try:
        response = _request(connection, target, body, headers, budget)
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        if not reused:
            raise
        connection = _PinnedConnection(target)
        response = _request(connection, target, body, headers, budget)
    try:
        excerpt = response.read(EXCERPT_BYTES)
    except BaseException:
        connection.close()
        raise
    # Reusable only if the whole answer was read and the receiver keeps the connection.
    if response.isclosed() and not response.will_close:
        _checkin(target, connection)
    else:
        connection.close()
    return response.status, excerpt, response.getheader("Retry-After")


def _request(connection: "_PinnedConnection", target: Target, body: bytes, headers: dict,
             budget: Budget) -> http.client.HTTPResponse:
    connection.budget = budget
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        return connection.getresponse()
    except BaseException:
        connection.close()
        raise


class _DeadlineSocket:
    """A connected socket whose every send and receive waits at most the budget's next
    timeout: the attempt's deadline holds however slowly the receiver trickles bytes."""

    def __init__(self, sock: socket.socket, connection: "_PinnedConnection") -> None:
        self._sock, self._connection = sock, connection

    def sendall(self, data) -> None:
        self._sock.settimeout(self._connection.budget.next_timeout())
        self._sock.sendall(data)

    def recv_into(self, buffer, nbytes: int = 0) -> int:
        self._sock.settimeout(self._connection.budget.next_timeout())
        return self._sock.recv_into(buffer, nbytes)

    def makefile(self, mode: str = "rb", *_args, **_kwargs):
        return io.BufferedReader(socket.SocketIO(self, "rb"))

    def _decref_socketios(self) -> None:
        """SocketIO calls this on close; the socket is closed with the connection."""

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()


class _PinnedConnection(http.client.HTTPConnection):
    """Connects to the addresses the guard checked, in order, never to what the host name
    resolves to now; the Host header and, over https, SNI and the certificate check use
    the URL's host name."""

    def __init__(self, target: Target) -> None:
        super().__init__(target.host, target.port)
        self.default_port = 443 if target.scheme == "https" else 80  # Host: without it
        self.target = target
        self.budget: Budget | None = None
        self.address: str | None = None  # the checked address it is connected to

    def connect(self) -> None:
        sock = self._connect_any()
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.target.scheme == "https":
                sock.settimeout(self.budget.next_timeout())  # bounds the whole handshake
                sock = tls_context().wrap_socket(sock, server_hostname=self.target.host)
        except BaseException:
            sock.close()
            raise
        self.sock = _DeadlineSocket(sock, self)

    def _connect_any(self) -> socket.socket:
        failure: OSError | None = None
        for address in self.target.addresses:
            try:
                sock = socket.create_connection((address, self.target.port),
                                                timeout=self.budget.next_timeout())
                self.address = address
                return sock
            except DeadlineExceeded:
                raise
            except OSError as error:
                failure = error
        raise failure or OSError("no address to connect to")


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The system's trust store (SSL_CERT_FILE and SSL_CERT_DIR apply), hostname checked."""
    return ssl.create_default_context()


def _checkout(target: Target) -> tuple[_PinnedConnection, bool]:
    """A kept-alive connection to one of the target's checked addresses, or a new one
    (connected lazily, inside the attempt's budget); True if kept alive."""
    idle = _idle_connections()
    connection = idle.pop(_key(target), None)
    if connection is not None:
        if connection.address in target.addresses and not _dropped(connection):
            connection.target = target
            return connection, True
        connection.close()
    return _PinnedConnection(target), False


def _checkin(target: Target, connection: _PinnedConnection) -> None:
    idle = _idle_connections()
    stale = idle.pop(_key(target), None)
    if stale is not None:
        stale.close()
    idle[_key(target)] = connection
    while len(idle) > IDLE_CONNECTIONS_PER_THREAD:
        idle.popitem(last=False)[1].close()


def _idle_connections() -> OrderedDict:
    """Keep-alive connections of this worker thread, by (scheme, host, port)."""
    if not hasattr(_local, "idle"):
        _local.idle = OrderedDict()
    return _local.idle


def _key(target: Target) -> tuple:
    return target.scheme, target.host, target.port


def _dropped(connection: _PinnedConnection) -> bool:
    """An idle connection with something to read has been closed by the receiver (or
    sent bytes nobody asked for): it is not reused."""
    if connection.sock is None:
        return True
    return bool(select.select([connection.sock.fileno()], [], [], 0)[0])


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


def _describe(error: Exception, budget: Budget) -> str:
    if isinstance(error, TimeoutError):  # the last step's timeout may have been what was left
        return "deadline exceeded" if budget.remaining() <= 0.001 else "timed out"
    if isinstance(error, ssl.SSLCertVerificationError):
        return "TLS certificate not valid for the host"
    if isinstance(error, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(error, OSError):
        return "connection failed"
    return type(error).__name__


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
