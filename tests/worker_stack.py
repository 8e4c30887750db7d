"""Real Celery worker and beat processes for integration tests, on the embedded stack
(SQLite + filesystem broker) or on real PostgreSQL + Redis."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from app import migrate
from scripts.supervise import kill_session
from tests.conftest import make_app
from tests.services import require, scratch_postgres

ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).parent / "celery")
# Each process runs under the supervisor `make run` uses, so a worker that exits on its
# own (as kombu's does when Redis restarts) is started again, as it would be there.
SUPERVISED = [sys.executable, str(ROOT / "scripts" / "supervise.py"), "--"]


@contextmanager
def database(kind: str, tmp_path: Path):
    """(database URL, broker URL) for ``kind``: 'embedded' or 'services'."""
    if kind == "embedded":
        url = f"sqlite:///{tmp_path / 'masthead.db'}"
        migrate.upgrade(url)
        yield url, "filesystem://"
        return
    broker = require("CELERY_BROKER_URL", "redis")
    with scratch_postgres(require("DATABASE_URL", "postgresql")) as url:
        migrate.upgrade(url)
        yield url, broker


class Stack:
    """An app plus worker and beat processes sharing its database and broker, each under
    scripts/supervise.py (``kill`` takes the supervisor with it).

    ``settings`` reach the processes as environment variables and the in-process app as
    config, so give them typed (1, not "1"). ``pool`` is the worker's Celery pool.
    """

    def __init__(self, url: str, broker: str, tmp_path: Path, pool: str = "prefork", **settings) -> None:
        self.logs = tmp_path
        self.pool = pool
        config = {"DATABASE_URL": url, "CELERY_BROKER_URL": broker,
                  "CELERY_BROKER_DIR": str(tmp_path / "broker"),
                  "MASTHEAD_INSTANCE_DIR": str(tmp_path), **{k: str(v) for k, v in settings.items()}}
        self.env = {**os.environ, **config}
        self.env.pop("TEST_DATABASE_URL", None)
        self.app = make_app(url, CELERY_BROKER_URL=broker, CELERY_BROKER_DIR=config["CELERY_BROKER_DIR"],
                            INSTANCE_DIR=str(tmp_path), **settings)
        self.app.extensions["celery"].control.purge()
        self.processes: list[subprocess.Popen] = []

    def start(self) -> None:
        self.start_worker()
        self.start_beat()

    def start_beat(self) -> None:
        self._spawn(["beat", "--loglevel", "INFO", "-s", str(self.logs / "schedule")], "beat.log")

    def start_worker(self, *options: str, log: str = "worker.log") -> subprocess.Popen:
        """A worker; without ``--queues`` in ``options`` it consumes every queue."""
        self._spawn(["worker", "--pool", self.pool, "--concurrency", "2", "--loglevel", "INFO",
                     *options], log)
        return self.processes[-1]

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL, as a crash or the OOM killer would: no chance to finish or ack anything
        (the supervisor, the process and its children all at once)."""
        kill_session(process.pid)
        process.wait()
        self.processes.remove(process)

    def _spawn(self, args: list[str], log: str) -> None:
        with (self.logs / log).open("a") as out:
            self.processes.append(subprocess.Popen(
                [*SUPERVISED, CELERY, "-A", "tasks.worker", *args], cwd=ROOT, env=self.env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True))

    def stop(self) -> None:
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_session(process.pid)
                process.wait()
        self.processes = []

    def wait_for(self, check, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.25)
        worker = (self.logs / "worker.log").read_text()[-3000:]
        beat = (self.logs / "beat.log").read_text()[-1500:]
        pytest.fail(f"timed out\n--- worker ---\n{worker}\n--- beat ---\n{beat}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ApiServer:
    """The API under gunicorn on loopback, with the stack's settings."""

    def __init__(self, stack: Stack, **settings) -> None:
        self.env = {**stack.env, **{k: str(v) for k, v in settings.items()}}
        self.log = stack.logs / "gunicorn.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "--workers", "2", "--bind",
                 f"127.0.0.1:{self.port}", "wsgi:app"], cwd=ROOT, env=self.env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"gunicorn did not start\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            connection.request(method, path, body=payload,
                               headers={"Content-Type": "application/json"} if payload else {})
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()


class RedisServer:
    """A private redis-server on a free loopback port, without persistence: a restart
    loses every message, as a crashed broker without AOF would."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.1)
        pytest.fail(f"redis-server did not start\n{self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
