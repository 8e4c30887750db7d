"""A real Celery worker and beat, on the embedded stack (SQLite + filesystem broker) and on
real PostgreSQL + Redis: the API queues a heartbeat, a worker completes it, beat ticks."""

import json
from pathlib import Path

import pytest

from app.platform import system
from tests.factories import Factory
from tests.worker_stack import Stack, database

pytestmark = pytest.mark.worker


@pytest.fixture(params=["embedded", "services"])
def stack(request, tmp_path):
    with database(request.param, tmp_path) as (url, broker):
        stack = Stack(url, broker, tmp_path, BEAT_HEARTBEAT_SECONDS=1)
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()


def test_worker_answers_heartbeat_and_beat_ticks(stack):
    client = stack.app.test_client()
    _admin, headers = Factory(stack.app, client).login("admin")
    queued = client.post("/v1/system/heartbeats", headers={**headers, "X-Request-ID": "trace-hb-1"})
    assert queued.status_code == 202, queued.get_json()
    assert queued.headers["X-Request-ID"] == "trace-hb-1"
    location = queued.headers["Location"]
    assert queued.get_json()["status"] == "pending"

    done = stack.wait_for(lambda: (r := client.get(location, headers=headers).get_json())
                          ["status"] == "completed" and r, 60)
    assert done["worker"] and done["completed_at"] >= done["requested_at"]
    task_lines = [line for line in _json_lines(stack.logs / "worker.log")
                  if line.get("request_id") == "trace-hb-1"]
    assert {line.get("task") for line in task_lines} >= {"masthead.system.complete_heartbeat"}

    workers = stack.wait_for(lambda: (w := client.get("/v1/system/workers", headers=headers)
                                      .get_json())["last_beat"] and w, 60)
    assert workers["last_probe"]["id"] == done["id"]

    with stack.app.app_context():  # a redelivered task changes nothing
        assert system.complete_heartbeat(done["id"]) is False
    assert client.get(location, headers=headers).get_json() == done
    if stack.env["CELERY_BROKER_URL"].startswith("filesystem://"):  # kombu's tables, not ./control
        assert list((Path(stack.env["CELERY_BROKER_DIR"]) / "control").glob("*.exchange"))


def test_import_is_cleaned_by_the_worker(stack):
    """The seed page through the API and a real worker ends in exactly the expected cleanup."""
    fixtures = Path(__file__).parent / "fixtures" / "seed"
    expected = json.loads((fixtures / "000_b0cbef1f536209a0.expected.json").read_text())
    client = stack.app.test_client()
    _editor, headers = Factory(stack.app, client).login("editor")
    created = client.post("/v1/imports?source=aawsat", headers=headers,
                          data=(fixtures / "000_b0cbef1f536209a0.txt").read_bytes(),
                          content_type="text/plain; charset=utf-8")
    assert created.status_code == 202
    location = created.headers["Location"]
    done = stack.wait_for(lambda: (r := client.get(location, headers=headers).get_json())
                          ["status"] in ("succeeded", "failed") and r, 60)
    result = done["runs"][-1]["result"]
    assert done["status"] == "succeeded", done["runs"][-1]["error"]
    assert result["body_paragraphs"] == expected["body_paragraphs"]
    assert [c["text"] for c in result["headline_candidates"]] == expected["headline_candidates"]
    assert [{"line": r["line"], "reason": r["reason"]} for r in result["removed"]] == expected["removed"]


def _json_lines(path: Path) -> list[dict]:
    """The worker's log: every line is one JSON object (structured logs)."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_task_names_are_one_list(app):
    """The tasks declare exactly the names in app.platform.task_names; beat schedules and
    routes only those (a renamed task cannot be left behind anywhere)."""
    from app.platform import task_names
    celery = app.extensions["celery"]
    celery.loader.import_default_modules()
    declared = {name for name in celery.tasks if name.startswith("masthead.")}
    constants = {value for key, value in vars(task_names).items() if key.isupper()}
    assert declared == constants
    assert {entry["task"] for entry in celery.conf.beat_schedule.values()} <= constants
    assert set(celery.conf.task_routes) <= constants
