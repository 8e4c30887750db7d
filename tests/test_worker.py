"""A real Celery worker and beat, on the embedded stack (SQLite + filesystem broker) and on
real PostgreSQL + Redis: the API queues a heartbeat, a worker completes it, beat ticks."""

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from app import migrate
from app.services import system
from tests.conftest import make_app
from tests.factories import Factory
from tests.services import require, scratch_postgres

pytestmark = pytest.mark.worker
ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).parent / "celery")


@contextmanager
def _process(args: list[str], env: dict, log: Path):
    with log.open("w") as out:
        process = subprocess.Popen([CELERY, "-A", "tasks.worker", *args], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def _database(kind: str, tmp_path: Path):
    if kind == "embedded":
        url = f"sqlite:///{tmp_path / 'masthead.db'}"
        migrate.upgrade(url)
        yield url, "filesystem://"
        return
    broker = require("CELERY_BROKER_URL", "redis")
    with scratch_postgres(require("DATABASE_URL", "postgresql")) as url:
        migrate.upgrade(url)
        yield url, broker


@pytest.fixture(params=["embedded", "services"])
def stack(request, tmp_path):
    """(app, log folder) with a worker and beat running against the same database and broker."""
    with ExitStack() as stack:
        url, broker = stack.enter_context(_database(request.param, tmp_path))
        settings = {"DATABASE_URL": url, "CELERY_BROKER_URL": broker,
                    "CELERY_BROKER_DIR": str(tmp_path / "broker"),
                    "MASTHEAD_INSTANCE_DIR": str(tmp_path), "BEAT_HEARTBEAT_SECONDS": "1"}
        env = {**os.environ, **settings}
        env.pop("TEST_DATABASE_URL", None)
        app = make_app(url, CELERY_BROKER_URL=broker, CELERY_BROKER_DIR=settings["CELERY_BROKER_DIR"],
                       INSTANCE_DIR=str(tmp_path))
        app.extensions["celery"].control.purge()
        stack.enter_context(_process(["worker", "--concurrency", "1", "--loglevel", "INFO"],
                                     env, tmp_path / "worker.log"))
        stack.enter_context(_process(["beat", "--loglevel", "INFO", "-s",
                                      str(tmp_path / "schedule")], env, tmp_path / "beat.log"))
        yield app, tmp_path


def _wait_for(check, timeout: float, logs: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    worker_log = (logs / "worker.log").read_text()[-3000:]
    beat_log = (logs / "beat.log").read_text()[-1500:]
    pytest.fail(f"timed out\n--- worker ---\n{worker_log}\n--- beat ---\n{beat_log}")


def test_worker_answers_heartbeat_and_beat_ticks(stack):
    app, logs = stack
    client = app.test_client()
    _admin, headers = Factory(app, client).login("admin")
    queued = client.post("/v1/system/heartbeats", headers=headers)
    assert queued.status_code == 202, queued.get_json()
    location = queued.headers["Location"]
    assert queued.get_json()["status"] == "pending"

    done = _wait_for(lambda: (r := client.get(location, headers=headers).get_json())
                     ["status"] == "completed" and r, 60, logs)
    assert done["worker"] and done["completed_at"] >= done["requested_at"]

    workers = _wait_for(lambda: (w := client.get("/v1/system/workers", headers=headers)
                                 .get_json())["last_beat"] and w, 60, logs)
    assert workers["last_probe"]["id"] == done["id"]

    with app.app_context():  # a redelivered task changes nothing
        assert system.complete_heartbeat(done["id"]) is False
    assert client.get(location, headers=headers).get_json() == done
