"""A fast loopback webhook receiver for benchmarks, in its own process.

One asyncio event loop serves HTTP/1.1 with keep-alive; per request it verifies
``Masthead-Signature`` (HMAC-SHA256, as a real subscriber would), deduplicates by
``Idempotency-Key`` and records the wall-clock time (``time.time()``, comparable across
processes on one machine) just before it writes the 2xx. Optionally each request is held
for a fixed ``delay`` under a semaphore of ``concurrency`` slots, so the receiver's
capacity is exactly ``concurrency / delay`` requests per second.

Running in its own process keeps its CPU apart from the client's (and measurable: see
``stats()["cpu_seconds"]``) and keeps the client's GIL out of its timings.

    with Sink(secret) as sink:
        sink.configure(delay=0.02, concurrency=2)   # 100 requests/s at most
        ...
        sink.count()    # unique deliveries so far
        sink.take()     # [(key, article, event, sequence, wall time of the 2xx)], and clears
"""

import asyncio
import hashlib
import hmac
import multiprocessing
import os
import time

RESPONSE = (b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n")
REASONS = {200: b"OK", 400: b"Bad Request", 401: b"Unauthorized"}
SIGNED = ("idempotency-key", "masthead-article", "masthead-sequence", "masthead-event")


class Sink:
    """Parent-side handle on the receiver process."""

    def __init__(self, secret: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, secret), name="webhook-sink",
                                       daemon=True)
        self.process.start()
        self.port = self._conn.recv()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _ask(self, *message):
        self._conn.send(message)
        return self._conn.recv()

    def configure(self, delay: float = 0.0, concurrency: int = 0) -> None:
        """Hold each request ``delay`` seconds in one of ``concurrency`` slots (0: unbounded)."""
        self._ask("configure", delay, concurrency)

    def count(self) -> int:
        return self._ask("count")

    def take(self) -> list[tuple]:
        return self._ask("take")

    def stats(self) -> dict:
        return self._ask("stats")

    def close(self) -> None:
        if self.process.is_alive():
            self._conn.send(("stop",))
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()

    def __enter__(self) -> "Sink":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _serve(conn, secret: str) -> None:
    asyncio.run(_Receiver(conn, secret.encode()).run())


class _Receiver:
    def __init__(self, conn, secret: bytes) -> None:
        self.conn, self.secret = conn, secret
        self.delay, self.slots = 0.0, None
        self.records: list[tuple] = []
        self.seen: set[str] = set()
        self.requests = self.duplicates = self.rejected = 0

    async def run(self) -> None:
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0, backlog=512)
        self.conn.send(server.sockets[0].getsockname()[1])
        asyncio.get_running_loop().add_reader(self.conn.fileno(), self.control)
        async with server:
            await server.serve_forever()

    def control(self) -> None:
        command, *args = self.conn.recv()
        if command == "configure":
            self.delay = args[0]
            self.slots = asyncio.Semaphore(args[1]) if args[1] else None
            reply = None
        elif command == "count":
            reply = len(self.records)
        elif command == "take":
            reply, self.records = self.records, []
        elif command == "stats":
            cpu = os.times()
            reply = {"requests": self.requests, "duplicates": self.duplicates,
                     "rejected": self.rejected, "cpu_seconds": cpu.user + cpu.system}
        else:  # stop: nothing to finish, and no handler tasks to cancel noisily
            self.conn.send(None)
            os._exit(0)
        self.conn.send(reply)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                if self.slots is not None:
                    async with self.slots:
                        await asyncio.sleep(self.delay)
                elif self.delay:
                    await asyncio.sleep(self.delay)
                status = self.process(headers, body)
                payload = b'{"ok":true}' if status == 200 else b'{"ok":false}'
                await self.respond(writer, RESPONSE % (status, REASONS[status], len(payload)) + payload)
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def respond(self, writer: asyncio.StreamWriter, answer: bytes) -> None:
        writer.write(answer)
        await writer.drain()

    def process(self, headers: dict, body: bytes) -> int:
        self.requests += 1
        key = headers.get("idempotency-key")
        if not key:
            self.rejected += 1
            return 400
        if not self._signed(headers, body):
            self.rejected += 1
            return 401
        if key in self.seen:
            self.duplicates += 1
            return 200
        self.seen.add(key)
        sequence = headers.get("masthead-sequence")
        self.records.append((key, headers.get("masthead-article"), headers.get("masthead-event"),
                             int(sequence) if sequence and sequence.isdigit() else None, time.time()))
        return 200

    def _signed(self, headers: dict, body: bytes) -> bool:
        """The README's verification (v2: timestamp, delivery, article, sequence, event, body)."""
        fields = dict(part.split("=", 1) for part in headers.get("masthead-signature", "").split(",")
                      if "=" in part)
        stamp = fields.get("t", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            return False
        if headers.get("masthead-delivery") != headers.get("idempotency-key"):
            return False
        signed = [stamp, *(headers.get(name, "") for name in SIGNED)]
        expected = hmac.new(self.secret, ".".join(signed).encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, fields.get("v2", ""))
