"""Task routing on the real brokers: every message lands in exactly one queue, the one its
task belongs to (a queue bound under another's routing key would get a copy of each)."""

from pathlib import Path

import pytest
import redis

from app.extensions import QUEUES
from tests.conftest import make_app
from tests.services import require

SENT = {"masthead.cleanup.run": "cleanup", "masthead.publishing.deliver": "deliveries",
        "masthead.system.complete_heartbeat": "celery"}



def _send_after_workers_declared_every_queue(app, task: str) -> None:
    """Workers declare (bind) all their queues when they start; then a task is sent."""
    celery = app.extensions["celery"]
    with celery.connection_for_write() as connection:
        for queue in celery.amqp.queues.values():
            queue(connection.default_channel).declare()
    celery.send_task(task, args=["some-id"])


def _expected(task: str) -> dict[str, int]:
    return {queue: int(queue == SENT[task]) for queue in QUEUES}


@pytest.mark.parametrize("task", SENT)
def test_embedded_broker_puts_a_message_in_one_queue(tmp_path, task):
    app = make_app(f"sqlite:///{tmp_path / 'm.db'}", CELERY_BROKER_URL="filesystem://",
                   CELERY_BROKER_DIR=str(tmp_path / "broker"))
    _send_after_workers_declared_every_queue(app, task)
    files = [path.name for path in Path(tmp_path / "broker" / "queue").iterdir()]
    assert {queue: sum(name.endswith(f".{queue}.msg") for name in files) for queue in QUEUES} \
        == _expected(task)


@pytest.mark.services
@pytest.mark.parametrize("task", SENT)
def test_redis_broker_puts_a_message_in_one_queue(task):
    url = require("CELERY_BROKER_URL", "redis")
    client = redis.Redis.from_url(url)
    app = make_app("sqlite://", CELERY_BROKER_URL=url)
    app.extensions["celery"].control.purge()
    try:
        _send_after_workers_declared_every_queue(app, task)
        assert {queue: client.llen(queue) for queue in QUEUES} == _expected(task)
    finally:
        app.extensions["celery"].control.purge()
        client.close()
