"""A slow or hostile outlet, through the API and the delivery service, on SQLite and
PostgreSQL: an attempt cut at its deadline counts toward the breaker, a DNS answer that
changes between the check and the connection cannot move a delivery, refusals do not
map the internal network, an outlet at its in-flight limit defers instead of blocking,
and a worker whose lease was taken away sends nothing."""

import threading
import time

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Delivery, DeliveryState, utcnow
from app.publishing import delivery_runs
from tests.factories import Factory
from tests.receiver import Receiver, TricklingReceiver
from tests.test_publishing import add_webhook, deliveries, send_pending
from tests.workflow_helpers import transition

SECRET = "whsec_test_secret_0123456789"


@pytest.fixture
def configure(app, monkeypatch):
    """Set config keys of the shared app for this test only."""
    def update(**settings):
        for key, value in settings.items():
            monkeypatch.setitem(app.config, key, value)
    return update


@pytest.fixture
def people(factory):
    return factory.login("writer")[1], factory.login("editor")[1], factory.login("admin")[1]


def publish(client, writer: dict, editor: dict, headline: str) -> str:
    article = client.post("/v1/articles", json={"language": "en", "headline": headline, "body": "Text."},
                          headers=writer).get_json()
    for headers, action in ((writer, "submit"), (editor, "approve"), (editor, "publish")):
        assert transition(client, article, headers, action).status_code == 200, action
    return article["id"]


def add_webhook_at(client, admin: dict, url: str) -> dict:
    response = client.post("/v1/outlets", json={"name": "Partner", "kind": "webhook", "url": url,
                                                "secret": SECRET}, headers=admin)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def pending_ids(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Delivery.id).where(Delivery.state == DeliveryState.PENDING)
                                       .order_by(Delivery.created_at, Delivery.id)))


# -- the deadline ----------------------------------------------------------------------------


def test_a_trickling_outlet_fails_at_the_deadline_and_opens_the_circuit(app, client, people, configure):
    writer, editor, admin = people
    configure(WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8", WEBHOOK_DEADLINE_SECONDS=1.0,
              WEBHOOK_TIMEOUT_SECONDS=5, OUTLET_BREAKER_FAILURES=2)
    with TricklingReceiver(interval=0.3) as trickler:
        outlet = add_webhook_at(client, admin, trickler.url)
        publish(client, writer, editor, "Slow news")
        [delivery_id] = pending_ids(app)
        outcomes = []
        for _ in range(2):
            with app.app_context():
                db.session.execute(update(Delivery).values(next_attempt_at=utcnow()))  # skip the backoff
                db.session.commit()
                started = time.monotonic()
                outcomes.append(delivery_runs.attempt(delivery_id))
                assert time.monotonic() - started < 10  # the deadline, not the ~30 s answer
    assert outcomes == ["retry", "retry"]  # failures, never "lost"
    log = client.get(f"/v1/deliveries/{delivery_id}", headers=editor).get_json()["attempt_log"]
    assert [(a["outcome"], a["error"]) for a in log] == [("retry", "deadline exceeded")] * 2
    assert all(a["latency_ms"] < 10_000 for a in log)
    health = client.get(f"/v1/outlets/{outlet['id']}/health", headers=editor).get_json()
    assert health["circuit"] == "open" and health["consecutive_failures"] == 2


# -- the address guard -----------------------------------------------------------------------


def test_a_rebinding_name_cannot_move_a_delivery_to_another_address(app, client, people, resolver,
                                                                    configure):
    """The name answers the allowed address to the outlet's save and to the attempt's
    check, and another loopback address to any lookup after that: the request goes to the
    checked address, one lookup per attempt; once the check itself gets the other address,
    the delivery is refused and its log does not say where the name pointed."""
    writer, editor, admin = people
    configure(WEBHOOK_ALLOWED_NETWORKS="127.0.0.2/32")
    with Receiver(secret=SECRET, address=("127.0.0.2", 0)) as checked, \
            Receiver(address=("127.0.0.1", checked.port)) as internal:
        resolver.scripts["partner.test"] = [["127.0.0.2"], ["127.0.0.2"], ["127.0.0.1"]]
        url = f"http://partner.test:{checked.port}/hook"
        assert add_webhook_at(client, admin, url)["url"] == url
        publish(client, writer, editor, "First")
        assert send_pending(app) == ["delivered"]
        assert internal.requests == 0 and len(checked.processed) == 1 and not checked.rejected
        assert checked.processed[0].headers["Host"] == f"partner.test:{checked.port}"
        assert resolver.lookups == {"partner.test": 2}  # the save, the attempt: no second lookup

        publish(client, writer, editor, "Second")
        assert send_pending(app) == ["dead"]
        assert internal.requests == 0 and len(checked.processed) == 1
    [dead] = deliveries(client, editor, state="dead")
    [attempt] = client.get(f"/v1/deliveries/{dead['id']}", headers=editor).get_json()["attempt_log"]
    assert attempt["error"] == "refused: partner.test resolves to an address that is not public."


@pytest.mark.parametrize("answer", [["10.20.30.40"], ["93.184.215.14", "192.168.7.7"], ["::ffff:10.9.9.9"],
                                    ["64:ff9b::a14:1e28"], ["2002:a14:1e28::1"], ["239.1.2.3"]])
def test_a_refused_outlet_url_does_not_say_where_the_name_points(client, people, resolver, answer):
    _, _, admin = people
    resolver.answers["intranet.test"] = answer
    response = client.post("/v1/outlets", json={"name": "Probe", "kind": "webhook",
                                                "url": "https://intranet.test/hook"}, headers=admin)
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    body = response.get_data(as_text=True)
    assert "not public" in body and not any(address in body for address in answer)
    assert not any(part in body for part in ("10.20", "192.168", "10.9", "a14", "239."))


# -- per-outlet concurrency and the lease ------------------------------------------------------


@pytest.fixture
def committed(committed_app_factory):
    """An app whose commits are real (attempts run on two threads), its client and people."""
    app = committed_app_factory(WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8", OUTLET_MAX_IN_FLIGHT=1,
                                DELIVERY_SWEEP_AGE_SECONDS=0, DELIVERY_BACKOFF_BASE_SECONDS=0.01)
    client = app.test_client()
    factory = Factory(app, client)
    return app, client, factory.login("writer")[1], factory.login("editor")[1], factory.login("admin")[1]


def _state(app, delivery_id: str) -> DeliveryState:
    with app.app_context():
        return db.session.get(Delivery, delivery_id).state


def _deferred_at(app, delivery_id: str):
    with app.app_context():
        return db.session.get(Delivery, delivery_id).deferred_at


def _wait_until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_an_outlet_at_its_limit_defers_without_blocking_others(committed):
    app, client, writer, editor, admin = committed
    with Receiver(secret=SECRET) as slow, Receiver(secret=SECRET) as fast:
        slow_outlet = add_webhook(client, admin, slow, name="Slow")
        add_webhook(client, admin, fast, name="Fast")
        publish(client, writer, editor, "One")
        publish(client, writer, editor, "Two")
        by_outlet = {}
        for d in deliveries(client, editor):
            by_outlet.setdefault(d["outlet_id"], []).append(d["id"])
        first, second = sorted(by_outlet.pop(slow_outlet["id"]))
        fast_ids = by_outlet.popitem()[1]

        slow.stall_next(1, 1.5)
        outcomes = {}
        sender = threading.Thread(target=lambda: outcomes.update(first=_attempt(app, first)))
        sender.start()
        _wait_until(lambda: _state(app, first) == DeliveryState.SENDING)
        assert _attempt(app, second) == "deferred"  # the outlet's one slot is taken: not blocked
        assert _state(app, second) == DeliveryState.PENDING and _deferred_at(app, second) is not None
        with app.app_context():
            assert delivery_runs.sweep()["queued"] == len(fast_ids)  # not the full outlet's
        assert [_attempt(app, d) for d in fast_ids] == ["delivered", "delivered"]  # others flow
        sender.join()
        assert outcomes == {"first": "delivered"}
        assert _attempt(app, second) == "delivered"  # its slot is free again
        assert _deferred_at(app, second) is None
        # One request at a time: the second was sent only after the first was answered.
        assert [a.key for a in slow.attempts] == [first, second] and len(fast.processed) == 2


def _attempt(app, delivery_id: str) -> str:
    with app.app_context():
        return delivery_runs.attempt(delivery_id)


def test_a_worker_that_lost_its_lease_sends_nothing(committed, resolver):
    """The attempt stalls in DNS past its lease; the sweeper gives the delivery back. The
    lease check right before sending sees it is no longer the holder: nothing is sent,
    and the next attempt delivers it once."""
    app, client, writer, editor, admin = committed
    with Receiver(secret=SECRET, address=("127.0.0.1", 0)) as receiver:
        resolver.answers["partner.test"] = ["127.0.0.1"]
        add_webhook_at(client, admin, f"http://partner.test:{receiver.port}/hook")
        publish(client, writer, editor, "Leased")
        [delivery_id] = pending_ids(app)

        def lease_runs_out_meanwhile():
            with app.app_context():
                db.session.execute(update(Delivery).values(lease_expires_at=utcnow()))
                db.session.commit()
                assert delivery_runs.sweep()["released"] == 1

        resolver.hooks["partner.test"] = lease_runs_out_meanwhile
        assert _attempt(app, delivery_id) == "late"
        assert receiver.requests == 0
        del resolver.hooks["partner.test"]
        assert _attempt(app, delivery_id) == "delivered"
        assert receiver.requests == 1
    log = client.get(f"/v1/deliveries/{delivery_id}", headers=editor).get_json()["attempt_log"]
    assert [a["outcome"] for a in log] == ["lost", "delivered"]
