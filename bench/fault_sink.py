"""The loopback webhook receiver of ``bench/webhook_sink.py`` with faults: fail, stall
or trickle.

    with FaultSink(secret) as sink:
        sink.mode(fail=True)          # answer 503 to everything (nothing is recorded)
        sink.mode(delay=5.0)          # hold each request 5 s, then process it as usual
        sink.mode(trickle=1.0)        # process it, then answer one byte a second
        sink.mode()                   # healthy again
        sink.take()                   # first-seen deliveries (key, article, event, sequence, time)
        sink.stats()                  # requests, duplicates (same Idempotency-Key again), failed

A stalled request is processed after its delay even if the sender has given up by then
(its timeout is shorter): the key is then seen, and the sender's retry with the same
Idempotency-Key is a duplicate, which the receiver deduplicates, as a real subscriber
would.
"""

import asyncio
import multiprocessing

from bench import webhook_sink
from bench.webhook_sink import Sink, _Receiver


class FaultSink(Sink):
    def __init__(self, secret: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self.process = context.Process(target=_serve_faulty, args=(child, secret),
                                       name="fault-sink", daemon=True)
        self.process.start()
        self.port = self._conn.recv()

    def mode(self, fail: bool = False, delay: float = 0.0, trickle: float = 0.0) -> None:
        self._ask("mode", fail, delay, trickle)


def _serve_faulty(conn, secret: str) -> None:
    webhook_sink.REASONS[503] = b"Service Unavailable"
    asyncio.run(_FaultReceiver(conn, secret.encode()).run())


class _FaultReceiver(_Receiver):
    def __init__(self, conn, secret: bytes) -> None:
        super().__init__(conn, secret)
        self.fail = False
        self.failed = 0
        self.trickle = 0.0  # seconds between the bytes of an answer (0: all at once)
        self.trickled = 0

    def control(self) -> None:
        command, *args = self.conn.recv()
        if command == "mode":
            self.fail, self.delay, self.trickle = args
            self.conn.send(None)
            return
        if command == "stats":
            self.conn.send({"requests": self.requests, "duplicates": self.duplicates,
                            "rejected": self.rejected, "failed": self.failed, "trickled": self.trickled})
            return
        # the parent's other commands, handled as by the plain receiver
        self._replay(command, args)

    def _replay(self, command: str, args: list) -> None:
        if command == "count":
            self.conn.send(len(self.records))
        elif command == "take":
            records, self.records = self.records, []
            self.conn.send(records)
        else:
            import os

            self.conn.send(None)
            os._exit(0)

    async def respond(self, writer, answer: bytes) -> None:
        """A trickled answer: one byte per interval, until it is out or the sender hangs up
        (the write then fails, which ends the connection)."""
        if not self.trickle:
            await super().respond(writer, answer)
            return
        self.trickled += 1
        interval = self.trickle
        for byte in answer:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(interval)

    def process(self, headers: dict, body: bytes) -> int:
        if self.fail:
            self.requests += 1
            self.failed += 1
            return 503
        return super().process(headers, body)
