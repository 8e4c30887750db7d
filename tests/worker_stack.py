"""Real Celery worker and beat processes for integration tests, on the embedded stack
(SQLite + filesystem broker) or on real PostgreSQL + Redis."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from app import migrate
from tests.conftest import make_app
from tests.services import require, scratch_postgres

ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).parent / "celery")


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
    """An app plus worker and beat processes sharing its database and broker."""

    def __init__(self, url: str, broker: str, tmp_path: Path, **settings) -> None:
        self.logs = tmp_path
        config = {"DATABASE_URL": url, "CELERY_BROKER_URL": broker,
                  "CELERY_BROKER_DIR": str(tmp_path / "broker"),
                  "MASTHEAD_INSTANCE_DIR": str(tmp_path), **settings}
        self.env = {**os.environ, **config}
        self.env.pop("TEST_DATABASE_URL", None)
        self.app = make_app(url, CELERY_BROKER_URL=broker, CELERY_BROKER_DIR=config["CELERY_BROKER_DIR"],
                            INSTANCE_DIR=str(tmp_path))
        self.app.extensions["celery"].control.purge()
        self.processes: list[subprocess.Popen] = []

    def start(self) -> None:
        self._spawn(["worker", "--concurrency", "2", "--loglevel", "INFO"], "worker.log")
        self._spawn(["beat", "--loglevel", "INFO", "-s", str(self.logs / "schedule")], "beat.log")

    def _spawn(self, args: list[str], log: str) -> None:
        with (self.logs / log).open("a") as out:
            self.processes.append(subprocess.Popen(
                [CELERY, "-A", "tasks.worker", *args], cwd=ROOT, env=self.env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True))

    def stop(self) -> None:
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
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
