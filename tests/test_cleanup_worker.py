"""Cleanup with real Celery workers on PostgreSQL + Redis: a page of 20,000+ distinct lines,
a run past its time limit, a run that outlives its lease in a live worker, the run of a
killed worker taken back, and huge pages that hold up no delivery (separate queues)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.factories import Factory
from tests.receiver import Receiver
from tests.test_cleanup_runs import distinct_lines
from tests.worker_stack import Stack, database
from tests.workflow_helpers import transition

pytestmark = pytest.mark.worker
SECRET = "whsec_cleanup_worker_0123456789"
WAIT = 150  # seconds; generous, for a busy two-core machine
# Pages that take a worker seconds to clean (about 4.5 MB; 200,000 lines took 35 s on the
# shared machine, in-process).
BIG = 100_000


@contextmanager
def services_stack(tmp_path: Path, *, split_queues: bool = False, **settings) -> Iterator[Stack]:
    """Worker(s) and beat on PostgreSQL + Redis. ``split_queues``: the `make run` layout, a
    worker for cleanup only and one for everything else."""
    with database("services", tmp_path) as (url, broker):
        stack = Stack(url, broker, tmp_path, **settings)
        if split_queues:
            stack.start_worker("--queues", "celery,deliveries", "--hostname", "worker@%h")
            stack.start_worker("--queues", "cleanup", "--concurrency", "1", "--hostname", "cleanup@%h",
                               log="cleanup.log")
            stack.start_beat()
        else:
            stack.start()
        try:
            yield stack
        finally:
            stack.stop()


def _editor(stack: Stack) -> tuple:
    client = stack.app.test_client()
    return client, Factory(stack.app, client).login("editor")[1]


def _import(client, headers, page: bytes, source: str = "wire") -> str:
    """A page in English (said, so that no run waits for the language model to load)."""
    created = client.post("/v1/imports", data=page, content_type="text/plain; charset=utf-8",
                          headers=headers, query_string={"source": source, "language": "en"})
    assert created.status_code == 202, created.get_json()
    return created.headers["Location"]


def _status(client, headers, location: str) -> dict:
    return client.get(location, headers=headers).get_json()


def _finished(stack: Stack, client, headers, location: str, timeout: float = WAIT) -> dict:
    done = stack.wait_for(lambda: (r := _status(client, headers, location))["status"]
                          in ("succeeded", "failed") and r, timeout)
    return done["runs"][-1]


def test_page_of_20000_distinct_lines(tmp_path):
    with services_stack(tmp_path) as stack:
        client, headers = _editor(stack)
        run = _finished(stack, client, headers, _import(client, headers, distinct_lines(20_500)))
        assert run["status"] == "succeeded", run["error"]
        assert len(run["result"]["body_paragraphs"]) == 20_500 and run["attempts"] == 1


def test_run_past_its_time_limit_fails_and_the_worker_goes_on(tmp_path):
    with services_stack(tmp_path, CLEANUP_TIME_LIMIT_SECONDS=2) as stack:
        client, headers = _editor(stack)
        page = distinct_lines(BIG)
        location = _import(client, headers, page)
        run = _finished(stack, client, headers, location)
        assert run["status"] == "failed" and "time limit (2 s)" in run["error"], run
        assert _status(client, headers, location)["size"] == len(page)  # the bytes are kept
        small = _finished(stack, client, headers, _import(client, headers, distinct_lines(3)))
        assert small["status"] == "succeeded", small["error"]


def test_live_worker_keeps_its_run_past_its_lease(tmp_path):
    """The sweeper runs every half second and the lease is 0.6 s: only the renewals keep
    a run that takes several seconds with the worker that has it."""
    settings = {"CLEANUP_LEASE_SECONDS": 0.6, "CLEANUP_SWEEP_SECONDS": 0.5, "CLEANUP_SWEEP_AGE_SECONDS": 1}
    with services_stack(tmp_path, **settings) as stack:
        client, headers = _editor(stack)
        run = _finished(stack, client, headers, _import(client, headers, distinct_lines(BIG)))
    assert run["status"] == "succeeded", run["error"]
    assert run["duration_ms"] > 3000, "the run must outlast its lease several times over"
    assert run["attempts"] == 1


def test_run_of_a_killed_worker_is_taken_back(tmp_path):
    settings = {"CLEANUP_LEASE_SECONDS": 1, "CLEANUP_SWEEP_SECONDS": 0.5}
    with services_stack(tmp_path, **settings) as stack:
        client, headers = _editor(stack)
        location = _import(client, headers, distinct_lines(BIG))
        stack.wait_for(lambda: _status(client, headers, location)["status"] == "running", WAIT)
        stack.kill(next(p for p in stack.processes if "worker" in p.args))  # and its supervisor
        stack.start_worker()
        run = _finished(stack, client, headers, location)
    assert run["status"] == "succeeded", run["error"]
    assert run["attempts"] == 2


def _publish(factory: Factory, client, receiver: Receiver) -> str:
    admin, writer, editor = (factory.login(role)[1] for role in ("admin", "writer", "editor"))
    outlet = client.post("/v1/outlets", headers=admin, json={
        "name": "Partner", "kind": "webhook", "url": receiver.url, "secret": SECRET})
    assert outlet.status_code == 201, outlet.get_json()
    article = factory.article(writer, headline="Published behind huge pages")
    for headers, action in ((writer, "submit"), (editor, "approve"), (editor, "publish")):
        assert transition(client, article, headers, action).status_code == 200, action
    return article["id"]


def test_huge_pages_do_not_delay_deliveries(tmp_path):
    """Three pages that take a cleanup worker many seconds each are queued first; a
    publish right after them is delivered while they are still being cleaned."""
    with services_stack(tmp_path, split_queues=True, WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8") as stack, \
            Receiver(secret=SECRET) as receiver:
        client = stack.app.test_client()
        factory = Factory(stack.app, client)
        headers = factory.login("editor")[1]
        pages = [_import(client, headers, distinct_lines(BIG + n)) for n in range(3)]
        stack.wait_for(lambda: _status(client, headers, pages[0])["status"] == "running", WAIT)
        article_id = _publish(factory, client, receiver)
        [delivered] = stack.wait_for(lambda: receiver.processed, 30)
        waiting = [_status(client, headers, page)["status"] for page in pages]
        assert delivered.article == article_id
        assert waiting.count("succeeded") <= 1, waiting  # the delivery did not wait for them
        for page in pages:
            assert _finished(stack, client, headers, page)["status"] == "succeeded"
