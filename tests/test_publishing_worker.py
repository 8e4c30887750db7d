"""Publishing with real processes: deliveries sent by a real Celery worker (beat runs the
sweeper) to a real loopback receiver, through a worker SIGKILLed mid-batch, a broker that
goes down while articles are published, and a correction that must wait for the version
before it. What tests/test_publishing.py checks in-process is checked here across process
boundaries, where messages get lost, leases expire and requests are sent twice."""

import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.editorial import articles, transitions
from app.extensions import db
from app.models import Delivery, DeliveryKind, DeliveryState, User
from app.platform.uow import transaction
from tests.experiment_helpers import etag_headers, live_seed_article
from tests.factories import Factory
from tests.receiver import Receiver, TricklingReceiver
from tests.worker_stack import Stack, database
from tests.workflow_helpers import transition

pytestmark = pytest.mark.worker
SECRET = "whsec_worker_test_0123456789"
# Short sweeps, leases and backoffs, so recovery happens within seconds, not minutes.
FAST = {"WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8", "DELIVERY_SWEEP_SECONDS": 1,
        "DELIVERY_SWEEP_AGE_SECONDS": 2, "DELIVERY_LEASE_SECONDS": 5, "WEBHOOK_TIMEOUT_SECONDS": 2,
        "WEBHOOK_DEADLINE_SECONDS": 3, "DELIVERY_BACKOFF_BASE_SECONDS": 0.2}
WAIT = 90  # seconds; generous, for a busy two-core machine
# Where no worker dies, a lease that cannot run out mid-attempt on a slow machine: there a
# second request for a delivery would be a bug, not a recovery.
LONG_LEASE = {"DELIVERY_LEASE_SECONDS": 30}


@contextmanager
def running_stack(kind: str, tmp_path: Path, *, broker: str | None = None, pool: str = "prefork",
                  **settings):
    """Worker and beat on ``kind`` ('embedded' or 'services'), with FAST settings."""
    with database(kind, tmp_path) as (url, default_broker):
        stack = Stack(url, broker or default_broker, tmp_path, pool=pool, **{**FAST, **settings})
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()


@pytest.fixture
def receiver():
    with Receiver(secret=SECRET) as receiver:
        yield receiver


def _until(stack: Stack, done):
    """``done()``'s first truthy value, polled (a worker that exits is restarted by its
    supervisor, as in every deployment)."""
    return stack.wait_for(done, WAIT)


def _processed(stack: Stack, receiver: Receiver, count: int) -> list:
    """The receiver's processed deliveries, once there are ``count``."""
    return _until(stack, lambda: len(receiver.processed) >= count and receiver.processed)


@dataclass
class Desk:
    """The in-process API client and a writer, an editor and an admin (auth headers)."""
    client: FlaskClient
    factory: Factory
    writer_user: User
    writer: dict
    editor_user: User
    editor: dict
    admin: dict


def _desk(stack: Stack) -> Desk:
    client = stack.app.test_client()
    factory = Factory(stack.app, client)
    writer_user, writer = factory.login("writer")
    editor_user, editor = factory.login("editor")
    return Desk(client, factory, writer_user, writer, editor_user, editor, factory.login("admin")[1])


def _add_outlet(desk: Desk, body: dict) -> dict:
    response = desk.client.post("/v1/outlets", json=body, headers=desk.admin)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _add_webhook(desk: Desk, receiver: Receiver, name: str = "Partner") -> dict:
    return _add_outlet(desk, {"name": name, "kind": "webhook", "url": receiver.url, "secret": SECRET})


def _publish_new(desk: Desk, headline: str) -> str:
    """A new article through the API: created, submitted, approved and published."""
    article = desk.factory.article(desk.writer, headline=headline, body=f"{headline}.")
    for headers, action in ((desk.writer, "submit"), (desk.editor, "approve"), (desk.editor, "publish")):
        response = transition(desk.client, article, headers, action)
        assert response.status_code == 200, (action, response.get_json())
    return article["id"]


def _correct(desk: Desk, article_id: str, body: str) -> None:
    """A correction of a live article: edit, submit, approve and publish again."""
    edited = desk.client.patch(f"/v1/articles/{article_id}", json={"body": body},
                               headers=etag_headers(desk.client, article_id, desk.writer))
    assert edited.status_code == 200, edited.get_json()
    for headers, action in ((desk.writer, "submit"), (desk.editor, "approve"), (desk.editor, "publish")):
        response = transition(desk.client, article_id, headers, action)
        assert response.status_code == 200, (action, response.get_json())


def _deliveries(stack: Stack, *where) -> list[Delivery]:
    with stack.app.app_context():
        return list(db.session.scalars(select(Delivery).where(*where).order_by(Delivery.sequence)))


def _all_delivered(stack: Stack, *where) -> list[Delivery] | None:
    found = _deliveries(stack, *where)
    return found if found and all(d.state == DeliveryState.DELIVERED for d in found) else None


def _feed_titles(desk: Desk, outlet_id: str) -> list[str]:
    parsed = feedparser.parse(desk.client.get(f"/v1/feeds/{outlet_id}").data)
    assert not parsed.bozo, parsed.bozo_exception
    return [entry.title for entry in parsed.entries]


# -- 1. the seed article, end to end ------------------------------------------------------


@pytest.fixture(params=["embedded", "services"])
def stack(request, tmp_path):
    with running_stack(request.param, tmp_path, **LONG_LEASE) as stack:
        yield stack


def _cleaned_by_worker(stack: Stack, desk: Desk):
    def clean(created: dict) -> None:
        location = f"/v1/imports/{created['id']}"
        _until(stack, lambda: desk.client.get(location, headers=desk.writer).get_json()["status"]
               == "succeeded")
    return clean


def _pick_winner(desk: Desk, article_id: str, published_title: str) -> dict:
    """Promote the candidate that is not the headline published, so the update shows."""
    candidates = desk.client.get(f"/v1/articles/{article_id}/headlines", headers=desk.editor).get_json()
    winner = next(c for c in candidates if c["text"] != published_title)
    picked = desk.client.post(f"/v1/articles/{article_id}/experiment/winner",
                              json={"candidate_id": winner["id"]}, headers=desk.editor)
    assert picked.status_code == 200, picked.get_json()
    return winner


def _delivery_log(desk: Desk, article_id: str, webhook_id: str) -> list[tuple]:
    """(sent to the webhook?, kind, state) of the article's deliveries, per the API."""
    log = desk.client.get(f"/v1/deliveries?article_id={article_id}", headers=desk.editor).get_json()["items"]
    return sorted((d["outlet_id"] == webhook_id, d["kind"], d["state"]) for d in log)


def _next_received(stack: Stack, receiver: Receiver, event: str):
    """The next webhook the receiver processes: ``event``, and later in sequence than the last."""
    count = len(receiver.processed) + 1
    processed = _processed(stack, receiver, count)
    got = processed[count - 1]
    assert got.event == event, got
    assert count == 1 or got.sequence > processed[count - 2].sequence
    return got


def test_seed_article_end_to_end(stack, receiver):
    """Every change of what is live reaches a webhook (signed, in sequence) and the feed:
    the publish, a promoted headline (an update) and the takedown, all through the API."""
    desk = _desk(stack)
    webhook = _add_webhook(desk, receiver)
    feed = _add_outlet(desk, {"name": "Feed", "kind": "feed"})
    article_id, _ = live_seed_article(stack.app, desk.client, desk.writer, desk.editor,
                                      clean=_cleaned_by_worker(stack, desk))
    published = _next_received(stack, receiver, "publish")
    assert published.article == article_id and published.headers["Masthead-Signature"]
    title = published.body["headlines"][0]["value"]
    assert _feed_titles(desk, feed["id"]) == [title]

    winner = _pick_winner(desk, article_id, title)
    assert _next_received(stack, receiver, "update").body["headlines"][0]["value"] == winner["text"]
    assert _feed_titles(desk, feed["id"]) == [winner["text"]]

    down = transition(desk.client, article_id, desk.editor, "unpublish", comment="legal")
    assert down.status_code == 200, down.get_json()
    assert _next_received(stack, receiver, "takedown").body["pubstatus"] == "canceled"
    assert _feed_titles(desk, feed["id"]) == []
    assert not receiver.rejected and receiver.duplicates == 0  # every signature verified, sent once

    expected = [(to_webhook, kind, "delivered") for to_webhook in (False, True)
                for kind in ("publish", "takedown", "update")]
    # The receiver has the takedown before the worker records it: poll the log until it has.
    _until(stack, lambda: _delivery_log(desk, article_id, webhook["id"]) == expected)


# -- 2. SIGKILL of the worker in the middle of 500 deliveries -------------------------------


@pytest.fixture
def services_stack(tmp_path):
    with running_stack("services", tmp_path) as stack:
        yield stack


def _publish_many(stack: Stack, desk: Desk, count: int) -> None:
    """``count`` articles published through the service layer in one transaction, so that
    every delivery is queued at once, when it commits."""
    steps = ((desk.writer_user, "submit"), (desk.editor_user, "approve"), (desk.editor_user, "publish"))
    with stack.app.app_context(), transaction():
        for number in range(count):
            article = articles.create_article(desk.writer_user, {
                "language": "en", "headline": f"Bulk {number}", "body": f"Bulk article {number}."})
            for actor, action in steps:
                transitions.apply(actor, article.id, None, action, comment=None, publish_at=None)


def test_sigkill_worker_mid_500_deliveries(services_stack, receiver):
    """A worker killed mid-batch loses its prefetched messages and leaves leases behind;
    the sweeper must recover all of them, and the receiver see each delivery once."""
    stack = services_stack
    desk = _desk(stack)
    for number in range(10):
        _add_webhook(desk, receiver, name=f"Partner {number}")
    receiver.stall_next(500, 0.02)  # a little slow, so the kill lands mid-way
    _publish_many(stack, desk, 50)
    ids = {d.id for d in _deliveries(stack)}
    assert len(ids) == 500

    _processed(stack, receiver, 100)
    # Requests that outlast the client timeout: the worker dies holding them (or times
    # out), while the receiver still processes them, so the sender's resend is a duplicate.
    receiver.stall_next(2, 5.0)
    time.sleep(1.0)
    stack.kill(next(p for p in stack.processes if "worker" in p.args))
    at_kill = len(receiver.processed)
    assert 0 < at_kill < 500
    stack.start_worker()

    keys = [d.key for d in _processed(stack, receiver, 500)]
    assert len(keys) == len(set(keys)) and set(keys) == ids  # every delivery, each processed once
    _until(stack, lambda: receiver.duplicates >= 1)  # a resend was deduplicated
    assert len(_until(stack, lambda: _all_delivered(stack))) == 500
    assert not receiver.rejected


# -- 3. the broker down while articles are published ---------------------------------------


def test_broker_down_during_publishing(private_redis, tmp_path, receiver):
    """Publishing must not depend on the broker: the outbox rows are the record, and the
    sweeper queues them once the broker is back (empty, as after a crash)."""
    with running_stack("services", tmp_path, broker=private_redis.url, **LONG_LEASE) as stack:
        desk = _desk(stack)
        _add_webhook(desk, receiver)
        published = [_publish_new(desk, "Before the outage")]
        _until(stack, lambda: _all_delivered(stack))  # recorded: no delivery in flight

        private_redis.kill()
        during = [_publish_new(desk, f"During the outage {n}") for n in range(2)]  # still 201/200
        waiting = _deliveries(stack, Delivery.article_id.in_(during))
        assert [d.state for d in waiting] == [DeliveryState.PENDING] * 2  # held by the outbox
        private_redis.start()  # empty: the messages queued before the outage are gone too
        published += [*during, _publish_new(desk, "After the outage")]

        processed = _processed(stack, receiver, 4)  # worker and beat reconnect on their own
        assert sorted(d.article for d in processed) == sorted(published)
        delivered = _until(stack, lambda: _all_delivered(stack))
        assert {d.id for d in delivered} == set(receiver.by_key)
        assert receiver.duplicates == 0 and not receiver.rejected


# -- 4. a correction waits for the version before it ---------------------------------------


@pytest.fixture(params=["embedded", "services"])
def ordering_stack(request, tmp_path):
    """The breaker is kept out of the way: the first version fails on purpose for a while."""
    with running_stack(request.param, tmp_path, OUTLET_BREAKER_FAILURES=1000) as stack:
        yield stack


def test_correction_waits_for_first_version(ordering_stack, receiver):
    """A subscriber must never get an update before the version it updates, even when that
    version is still retrying when the correction is published."""
    stack = ordering_stack
    desk = _desk(stack)
    _add_webhook(desk, receiver)
    receiver.respond_always(503, {"Retry-After": "1"})  # the first version is retrying ...
    article_id = _publish_new(desk, "First version")
    first = _until(stack, lambda: receiver.attempts)[0].key

    _correct(desk, article_id, body="Corrected version.")  # ... when the correction is published
    [update_id] = [d.id for d in _deliveries(stack, Delivery.kind == DeliveryKind.UPDATE)]
    tried = len(receiver.attempts_for(first))
    _until(stack, lambda: len(receiver.attempts_for(first)) >= tried + 2)
    assert receiver.attempts_for(update_id) == []  # not sent while the first version is unfinished

    receiver.respond_always(None)
    publish, update = _processed(stack, receiver, 2)
    assert (publish.key, publish.event, update.key, update.event) == (first, "publish", update_id, "update")
    assert update.sequence == publish.sequence + 1
    assert all(a.arrived > publish.arrived for a in receiver.attempts_for(update_id))
    assert update.body["bodies"][0]["value"] == "Corrected version."
    assert len(_until(stack, lambda: _all_delivered(stack))) == 2


# -- 5. a receiver that trickles its answer --------------------------------------------------

TRICKLE_DEADLINE = 6  # seconds; the trickler sends a byte every 0.5 s, under the 2 s step timeout


@pytest.fixture(params=["threads", "prefork"])
def trickle_stack(request, tmp_path):
    """Two worker slots; one in flight per outlet; the breaker opens after two failures."""
    with running_stack("services", tmp_path, pool=request.param, OUTLET_MAX_IN_FLIGHT=1,
                       WEBHOOK_DEADLINE_SECONDS=TRICKLE_DEADLINE, OUTLET_BREAKER_FAILURES=2,
                       **LONG_LEASE) as stack:
        yield stack


def _open_circuit(desk: Desk, outlet_id: str) -> dict | None:
    health = desk.client.get(f"/v1/outlets/{outlet_id}/health", headers=desk.editor).get_json()
    return health if health["circuit"] == "open" else None


def test_trickling_outlet_is_cut_at_the_deadline_and_starves_nobody(trickle_stack, receiver):
    """The issue's hostile receiver, under the threads pool (no task time limits) and
    prefork: each attempt ends at the deadline as a failure (never ``lost``), the breaker
    opens, no delivery is ever open twice at once, and the healthy outlet's deliveries all
    arrive while the first trickled attempt is still open (one slot stays free for them)."""
    stack = trickle_stack
    desk = _desk(stack)
    with TricklingReceiver(interval=0.5) as trickler:
        slow = _add_outlet(desk, {"name": "Slow", "kind": "webhook", "url": trickler.url, "secret": SECRET})
        _add_webhook(desk, receiver, name="Healthy")
        for number in range(3):
            _publish_new(desk, f"Story {number}")
        healthy = _processed(stack, receiver, 3)
        first = _until(stack, lambda: trickler.requests and trickler.requests[0].closed
                       and trickler.requests[0])
        assert max(d.arrived for d in healthy) < first.closed  # none waited behind the trickler
        health = _until(stack, lambda: _open_circuit(desk, slow["id"]))
        assert health["consecutive_failures"] >= 2

        assert trickler.max_open() == 1 and trickler.overlapping_keys() == set()
        assert all(r.closed - r.opened < TRICKLE_DEADLINE + 0.5 for r in trickler.requests if r.closed)
    log = [a for d in _deliveries(stack, Delivery.outlet_id == slow["id"])
           for a in desk.client.get(f"/v1/deliveries/{d.id}", headers=desk.editor).get_json()["attempt_log"]]
    assert len(log) >= 2
    assert {(a["outcome"], a["error"]) for a in log} == {("retry", "deadline exceeded")}
    assert all(a["latency_ms"] <= TRICKLE_DEADLINE * 1000 for a in log)
