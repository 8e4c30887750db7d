"""`make run`'s process layout with real processes: honcho runs the Procfile, each process
under scripts/supervise.py. A worker or beat that dies (SIGKILL) is started again and the
stack goes on; Redis restarting under the workers loses nothing; stopping honcho stops
every process it started."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from app import migrate
from tests.conftest import make_app
from tests.factories import Factory
from tests.test_cleanup_runs import distinct_lines
from tests.worker_stack import database, free_port

pytestmark = pytest.mark.worker
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WAIT = 120

if not Path("/proc/self/stat").exists():
    pytest.skip("finding the processes honcho started reads /proc (Linux)", allow_module_level=True)


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it ended meanwhile
        if state != "Z":  # a zombie has ended (a container's init may never reap it)
            found[int(entry.name)] = (int(parent), command)
    return found


def _supervised(root: int, marker: str) -> int | None:
    """The pid of the process running ``marker`` directly under a supervisor under ``root``."""
    processes = _processes()

    def under_root(pid: int) -> bool:
        while pid > 1:
            if pid == root:
                return True
            pid = processes.get(pid, (1, ""))[0]
        return False

    for pid, (parent, command) in processes.items():
        if marker in command and "supervise.py" not in command and \
                "supervise.py" in processes.get(parent, (0, ""))[1] and under_root(pid):
            return pid
    return None


class MakeRun:
    """The Procfile under honcho, as `make run` starts it, on ``url`` and ``broker``."""

    def __init__(self, tmp_path: Path, url: str, broker: str, **settings) -> None:
        self.port, self.log = free_port(), tmp_path / "honcho.log"
        self.env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": broker,
                    "CELERY_BROKER_DIR": str(tmp_path / "broker"), "MASTHEAD_INSTANCE_DIR": str(tmp_path),
                    "PORT": str(self.port), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
                    **{k: str(v) for k, v in settings.items()}}
        self.env.pop("TEST_DATABASE_URL", None)
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        app = make_app(url, CELERY_BROKER_URL=broker, CELERY_BROKER_DIR=self.env["CELERY_BROKER_DIR"])
        self.headers = Factory(app, app.test_client()).login("admin")[1]
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen([str(BIN / "honcho"), "-f", str(ROOT / "Procfile"), "start"],
                                            cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.wait_for(lambda: self._answers("/healthz"), "the API to answer")

    def stop(self) -> list[str]:
        """SIGTERM to honcho, as Ctrl-C would; returns the processes left running."""
        started = set(_descendants(self.process.pid))
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        time.sleep(1)
        running = _processes()
        left = [f"{pid}: {running[pid][1]}" for pid in started if pid in running]
        for pid in started & set(running):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return left

    def pid(self, marker: str) -> int:
        return self.wait_for(lambda: _supervised(self.process.pid, marker), f"a process running {marker}")

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str = "application/json") -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body,
                               headers={**self.headers, "Content-Type": content_type})
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    def heartbeat(self) -> dict:
        """A heartbeat through the API, once a worker has completed it."""
        status, queued = self.request("POST", "/v1/system/heartbeats")
        assert status == 202, queued
        return self.wait_for(lambda: (r := self.request("GET", f"/v1/system/heartbeats/{queued['id']}")[1])
                             ["status"] == "completed" and r, "a worker to answer a heartbeat")

    def wait_for(self, check, what: str):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with suppress(OSError):
                result = check()
                if result:
                    return result
            time.sleep(0.25)
        pytest.fail(f"timed out waiting for {what}\n{self.log.read_text()[-4000:]}")

    def _answers(self, path: str) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request("GET", path)
            return connection.getresponse().status == 200
        finally:
            connection.close()


def _descendants(root: int) -> dict[int, str]:
    processes, found, frontier = _processes(), {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, command) in processes.items():
            if ppid == parent:
                found[pid] = command
                frontier.append(pid)
    return found


@contextmanager
def make_run(tmp_path: Path, url: str, broker: str, **settings):
    stack = MakeRun(tmp_path, url, broker, **settings)
    stack.start()
    try:
        yield stack
    finally:
        assert stack.stop() == [], "processes outlived honcho"


def _restarts(stack: MakeRun) -> list[dict]:
    lines = [line.split("| ", 1)[-1] for line in stack.log.read_text().splitlines()]
    return [json.loads(line) for line in lines if '"logger": "supervise"' in line]


WORKER, CLEANUP, BEAT = "--queues celery,deliveries", "--queues cleanup", "tasks.worker beat"


def test_killed_worker_and_beat_come_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'masthead.db'}"
    migrate.upgrade(url)
    with make_run(tmp_path, url, "filesystem://", BEAT_HEARTBEAT_SECONDS=1) as stack:
        stack.heartbeat()
        killed = {marker: stack.pid(marker) for marker in (WORKER, CLEANUP, BEAT)}
        for pid in killed.values():
            os.kill(pid, signal.SIGKILL)  # the process only: its supervisor sees it die
        killed_at = time.time()
        for marker, old in killed.items():
            assert stack.wait_for(lambda m=marker, o=old: (p := _supervised(stack.process.pid, m)) != o and p,
                                  f"{marker} to be started again")
        assert stack.heartbeat()["completed_at"]  # a worker answers again
        stack.wait_for(lambda: stack.request("GET", "/v1/system/workers")[1]["last_beat"]["completed_at"]
                       > _iso(killed_at), "beat to tick again")
        page = stack.request("POST", "/v1/imports?source=wire", distinct_lines(50), "text/plain")[1]
        stack.wait_for(lambda: stack.request("GET", f"/v1/imports/{page['id']}")[1]["status"] == "succeeded",
                       "the cleanup worker to clean a page")
        restarted = {line["process"] for line in _restarts(stack)}
    assert restarted == {"worker", "cleanup", "beat"}


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment))


def test_redis_restart_under_the_workers(tmp_path, private_redis):
    """Redis goes away (and comes back empty) while the cleanup worker holds unacknowledged
    pages: every page still ends succeeded and heartbeats are answered again, whether the
    workers reconnected or exited and were started again by their supervisors."""
    settings = {"CLEANUP_SWEEP_SECONDS": 1, "CLEANUP_SWEEP_AGE_SECONDS": 2, "CLEANUP_LEASE_SECONDS": 2}
    with database("services", tmp_path) as (url, _broker), \
            make_run(tmp_path, url, private_redis.url, **settings) as stack:
        stack.heartbeat()
        pages = [stack.request("POST", "/v1/imports?source=wire", distinct_lines(30_000 + n),
                               "text/plain")[1]["id"] for n in range(3)]
        stack.wait_for(lambda: stack.request("GET", f"/v1/imports/{pages[0]}")[1]["status"] == "running",
                       "the first page to be cleaned")
        private_redis.kill()
        time.sleep(2)
        private_redis.start()
        assert stack.heartbeat()["completed_at"]
        for page in pages:
            stack.wait_for(lambda p=page: stack.request("GET", f"/v1/imports/{p}")[1]["status"]
                           == "succeeded", f"import {page} to be cleaned")
        restarts = _restarts(stack)
    assert {line["process"] for line in restarts} <= {"worker", "cleanup"}
    for line in restarts:  # kombu's exit on a Redis restart, made good by the supervisor
        warnings.warn(f"{line['process']} exited with status {line['status']} when Redis restarted; "
                      "its supervisor started it again", stacklevel=1)
