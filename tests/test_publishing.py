"""Publishing to outlets through the API, on SQLite and PostgreSQL: the outbox, signed
webhooks to a real loopback receiver (sent in-process by the delivery service), retries,
dead letters, ordering, takedowns, the Atom feed, the delivery log and the URL guard."""

import time
from datetime import timedelta

import feedparser
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Delivery, DeliveryState, utcnow
from app.services import delivery_runs
from tests.experiment_helpers import live_seed_article
from tests.receiver import Receiver
from tests.workflow_helpers import transition

LOOPBACK = "127.0.0.0/8,::1/128"


@pytest.fixture
def app(app):
    app.config.update(WEBHOOK_ALLOWED_NETWORKS=LOOPBACK, WEBHOOK_TIMEOUT_SECONDS=2,
                      DELIVERY_BACKOFF_BASE_SECONDS=0.01)
    yield app
    app.config.update(WEBHOOK_ALLOWED_NETWORKS="", WEBHOOK_TIMEOUT_SECONDS=10,
                      DELIVERY_BACKOFF_BASE_SECONDS=5)


@pytest.fixture
def receiver():
    with Receiver(secret="whsec_test_secret_0123456789") as receiver:
        yield receiver


@pytest.fixture
def people(factory):
    return factory.login("writer")[1], factory.login("editor")[1], factory.login("admin")[1]


def add_webhook(client, admin, receiver, **extra) -> dict:
    body = {"name": extra.pop("name", "Partner"), "kind": "webhook", "url": receiver.url,
            "secret": "whsec_test_secret_0123456789", **extra}
    response = client.post("/v1/outlets", json=body, headers=admin)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def send_pending(app) -> list[str]:
    """Run pending deliveries as the worker would, each when due (backoffs here are
    milliseconds), until none is due within a second; returns the attempts' outcomes."""
    outcomes = []
    for _ in range(200):
        with app.app_context():
            due = _pending_ids(utcnow() + timedelta(seconds=1))
            if not due:
                return outcomes
            outcomes += [outcome for outcome in map(delivery_runs.attempt, due) if outcome != "skipped"]
        time.sleep(0.02)
    raise AssertionError(f"deliveries still pending after 200 rounds: {outcomes}")


def _pending_ids(due_by) -> list[str]:
    return list(db.session.scalars(select(Delivery.id).where(
        Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_at <= due_by)
        .order_by(Delivery.sequence)))


def deliveries(client, editor, **filters) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    return client.get(f"/v1/deliveries?{query}", headers=editor).get_json()["items"]


def test_seed_article_reaches_webhook_and_feed_signed_in_order(app, client, people, receiver):
    writer, editor, admin = people
    webhook = add_webhook(client, admin, receiver)
    assert webhook["secret"] == "whsec_test_secret_0123456789"
    feed = client.post("/v1/outlets", json={"name": "Feed", "kind": "feed"}, headers=admin).get_json()
    article_id, _ = live_seed_article(app, client, writer, editor)
    assert send_pending(app) == ["delivered"]
    got = receiver.processed[0]
    assert got.event == "publish" and got.article == article_id and got.sequence == 1
    assert got.body["pubstatus"] == "usable" and got.body["language"] == "ar"
    assert got.body["headlines"][0]["value"] and got.body["bodies"][0]["value"]
    assert not receiver.rejected  # the signature verified
    parsed = feedparser.parse(client.get(f"/v1/feeds/{feed['id']}").data)
    assert not parsed.bozo and len(parsed.entries) == 1
    assert parsed.entries[0].id == f"urn:masthead:article:{article_id}"

    assert transition(client, article_id, editor, "unpublish", comment="legal").status_code == 200
    assert send_pending(app) == ["delivered"]
    assert [d.event for d in receiver.processed] == ["publish", "takedown"]
    assert receiver.processed[1].body["pubstatus"] == "canceled"
    assert feedparser.parse(client.get(f"/v1/feeds/{feed['id']}").data).entries == []


def test_secret_and_header_values_never_shown_again(client, people, receiver):
    _, editor, admin = people
    created = add_webhook(client, admin, receiver, headers={"Authorization": "Bearer partner-token"})
    assert created["header_names"] == ["Authorization"]
    for response in (client.get(f"/v1/outlets/{created['id']}", headers=editor),
                     client.get("/v1/outlets", headers=admin)):
        assert b"whsec_test_secret" not in response.data and b"partner-token" not in response.data
    rotated = client.post(f"/v1/outlets/{created['id']}/secret", headers=admin).get_json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]


def test_retries_then_dead_letter_then_redeliver(app, client, people, receiver):
    writer, editor, admin = people
    app.config["DELIVERY_MAX_ATTEMPTS"] = 3
    add_webhook(client, admin, receiver)
    receiver.respond_always(503)
    live_seed_article(app, client, writer, editor)
    assert send_pending(app) == ["retry", "retry", "dead"]
    [dead] = deliveries(client, editor, state="dead")
    detail = client.get(f"/v1/deliveries/{dead['id']}", headers=editor).get_json()
    assert [a["status_code"] for a in detail["attempt_log"]] == [503, 503, 503]
    assert detail["document"]["uri"].startswith("urn:masthead:article:")
    receiver.respond_always(None)
    again = client.post(f"/v1/deliveries/{dead['id']}/redeliver", headers=editor)
    assert again.status_code == 201 and again.get_json()["sequence"] == 2
    assert send_pending(app) == ["delivered"]
    app.config["DELIVERY_MAX_ATTEMPTS"] = 12


@pytest.mark.parametrize("status", [400, 410, 422])
def test_client_errors_are_permanent(app, client, people, receiver, status):
    writer, editor, admin = people
    add_webhook(client, admin, receiver)
    receiver.respond_always(status)
    live_seed_article(app, client, writer, editor)
    assert send_pending(app) == ["dead"]


def test_retry_after_is_honoured(app, client, people, receiver):
    writer, editor, admin = people
    add_webhook(client, admin, receiver)
    receiver.fail_next(1, 429, headers={"Retry-After": "120"})
    live_seed_article(app, client, writer, editor)
    assert send_pending(app) == ["retry"]
    [waiting] = deliveries(client, editor, state="pending")
    detail = client.get(f"/v1/deliveries/{waiting['id']}", headers=editor).get_json()
    assert detail["attempt_log"][0]["status_code"] == 429
    assert waiting["next_attempt_at"] > detail["attempt_log"][0]["started_at"]


def test_private_addresses_refused(client, people, app):
    _, _, admin = people
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ""
    for url in ("http://127.0.0.1:9/hook", "http://169.254.169.254/latest", "http://10.0.0.5/x",
                "http://[::1]/x", "ftp://example.com/x"):
        response = client.post("/v1/outlets", json={"name": url, "kind": "webhook", "url": url},
                               headers=admin)
        assert response.status_code == 422, url
        assert response.content_type == "application/problem+json"
