"""A real Celery worker and beat, on the embedded stack (SQLite + filesystem broker) and on
real PostgreSQL + Redis: the API queues a heartbeat, a worker completes it, beat ticks."""

import pytest

from app.services import system
from tests.factories import Factory
from tests.worker_stack import Stack, database

pytestmark = pytest.mark.worker


@pytest.fixture(params=["embedded", "services"])
def stack(request, tmp_path):
    with database(request.param, tmp_path) as (url, broker):
        stack = Stack(url, broker, tmp_path, BEAT_HEARTBEAT_SECONDS="1")
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()


def test_worker_answers_heartbeat_and_beat_ticks(stack):
    client = stack.app.test_client()
    _admin, headers = Factory(stack.app, client).login("admin")
    queued = client.post("/v1/system/heartbeats", headers=headers)
    assert queued.status_code == 202, queued.get_json()
    location = queued.headers["Location"]
    assert queued.get_json()["status"] == "pending"

    done = stack.wait_for(lambda: (r := client.get(location, headers=headers).get_json())
                          ["status"] == "completed" and r, 60)
    assert done["worker"] and done["completed_at"] >= done["requested_at"]

    workers = stack.wait_for(lambda: (w := client.get("/v1/system/workers", headers=headers)
                                      .get_json())["last_beat"] and w, 60)
    assert workers["last_probe"]["id"] == done["id"]

    with stack.app.app_context():  # a redelivered task changes nothing
        assert system.complete_heartbeat(done["id"]) is False
    assert client.get(location, headers=headers).get_json() == done
