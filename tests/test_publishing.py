"""Publishing to outlets through the API, on SQLite and PostgreSQL: the outbox, signed
webhooks to a real loopback receiver (sent in-process by the delivery service), retries,
dead letters, ordering, takedowns, the Atom feed, the delivery log and the URL guard."""

import time
from datetime import datetime, timedelta

import feedparser
import pytest
from sqlalchemy import select

from app.editorial import scheduler
from app.extensions import db
from app.models import Delivery, DeliveryState, utcnow
from app.publishing import delivery_runs
from tests.experiment_helpers import etag_headers, live_seed_article
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
    waited = datetime.fromisoformat(waiting["next_attempt_at"]) - \
        datetime.fromisoformat(detail["attempt_log"][0]["started_at"])
    assert waited >= timedelta(seconds=119)  # the receiver's 120 s, not the milliseconds of backoff


def test_private_addresses_refused(client, people, app):
    _, _, admin = people
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ""
    for url in ("http://127.0.0.1:9/hook", "http://169.254.169.254/latest", "http://10.0.0.5/x",
                "http://[::1]/x", "ftp://example.com/x"):
        response = client.post("/v1/outlets", json={"name": url, "kind": "webhook", "url": url},
                               headers=admin)
        assert response.status_code == 422, url
        assert response.content_type == "application/problem+json"


def correct(client, article_id, writer, editor, body: str) -> None:
    """Edit the live article, review it again and publish the correction."""
    edited = client.patch(f"/v1/articles/{article_id}", json={"body": body},
                          headers=etag_headers(client, article_id, writer))
    assert edited.status_code == 200, edited.get_json()
    for actor, action in ((writer, "submit"), (editor, "approve"), (editor, "publish")):
        assert transition(client, article_id, actor, action).status_code == 200


def test_correction_never_overtakes_a_retrying_first_version(app, client, people, receiver):
    writer, editor, admin = people
    add_webhook(client, admin, receiver)
    receiver.fail_next(2, 503)
    article_id, _ = live_seed_article(app, client, writer, editor)
    with app.app_context():
        [first] = _pending_ids(utcnow())
        assert delivery_runs.attempt(first) == "retry"
    correct(client, article_id, writer, editor, "Corrected body")
    assert send_pending(app) == ["retry", "delivered", "delivered"]
    assert [(d.event, d.sequence) for d in receiver.processed] == [("publish", 1), ("update", 2)]
    assert receiver.processed[1].body["bodies"][0]["value"] == "Corrected body"


def test_takedown_supersedes_waiting_versions(app, client, people, receiver):
    writer, editor, admin = people
    add_webhook(client, admin, receiver)
    article_id, _ = live_seed_article(app, client, writer, editor)
    assert send_pending(app) == ["delivered"]
    correct(client, article_id, writer, editor, "A correction never sent")
    assert transition(client, article_id, editor, "unpublish").status_code == 200
    assert send_pending(app) == ["delivered"]
    assert [d.event for d in receiver.processed] == ["publish", "takedown"]
    [cancelled] = deliveries(client, editor, state="cancelled")
    assert cancelled["kind"] == "update" and cancelled["last_error"] == "superseded by a takedown"


def test_circuit_opens_after_repeated_failures_and_a_probe_closes_it(app, client, people, receiver):
    writer, editor, admin = people
    app.config.update(OUTLET_BREAKER_FAILURES=2, OUTLET_BREAKER_COOLDOWN_SECONDS=0.3)
    outlet = add_webhook(client, admin, receiver)
    receiver.respond_always(503)
    live_seed_article(app, client, writer, editor)
    with app.app_context():
        [first] = _pending_ids(utcnow())
        outcomes = [delivery_runs.attempt(first)]
        time.sleep(0.05)  # the first backoff (milliseconds here)
        outcomes.append(delivery_runs.attempt(first))
    assert outcomes == ["retry", "retry"]
    health = client.get(f"/v1/outlets/{outlet['id']}/health", headers=editor).get_json()
    assert health["circuit"] == "open" and health["paused"] and health["consecutive_failures"] >= 2
    with app.app_context():
        assert delivery_runs.attempt(first) == "skipped"  # paused: no request made
    requests_while_open = receiver.requests
    receiver.respond_always(None)
    time.sleep(0.35)
    assert send_pending(app) == ["delivered"]  # the probe
    assert receiver.requests == requests_while_open + 1
    health = client.get(f"/v1/outlets/{outlet['id']}/health", headers=editor).get_json()
    assert health["circuit"] == "closed" and health["last_success_at"]
    assert health["failure_rate_last_hour"] == 2 / 3
    app.config.update(OUTLET_BREAKER_FAILURES=5, OUTLET_BREAKER_COOLDOWN_SECONDS=60)


def test_winning_headline_reaches_outlets_as_an_update(app, client, people, receiver):
    writer, editor, admin = people
    add_webhook(client, admin, receiver)
    feed = client.post("/v1/outlets", json={"name": "Feed", "kind": "feed"}, headers=admin).get_json()
    article_id, candidates = live_seed_article(app, client, writer, editor)
    etag = client.get(f"/v1/feeds/{feed['id']}").headers["ETag"]
    picked = client.post(f"/v1/articles/{article_id}/experiment/winner",
                         json={"candidate_id": candidates[1]}, headers=editor)
    assert picked.status_code == 200, picked.get_json()
    listed = client.get(f"/v1/articles/{article_id}/headlines", headers=editor).get_json()
    winner_text = next(c["text"] for c in listed if c["id"] == candidates[1])
    assert send_pending(app) == ["delivered", "delivered"]
    assert [d.event for d in receiver.processed] == ["publish", "update"]
    assert receiver.processed[1].body["headlines"][0]["value"] == winner_text
    changed = client.get(f"/v1/feeds/{feed['id']}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and feedparser.parse(changed.data).entries[0].title == winner_text
    unchanged = client.get(f"/v1/feeds/{feed['id']}", headers={"If-None-Match": changed.headers["ETag"]})
    assert unchanged.status_code == 304


def test_filters_choose_outlets(app, client, people, receiver):
    writer, editor, admin = people
    add_webhook(client, admin, receiver, name="English desk", filters={"languages": ["en"]})
    arabic = add_webhook(client, admin, receiver, name="Arabic desk",
                         filters={"languages": ["ar"], "sources": ["aawsat"]})
    live_seed_article(app, client, writer, editor)
    assert [d["outlet_id"] for d in deliveries(client, editor)] == [arabic["id"]]


def test_cancel_and_redeliver_rules(app, client, people, receiver):
    writer, editor, admin = people
    add_webhook(client, admin, receiver)
    article_id, _ = live_seed_article(app, client, writer, editor)
    [pending] = deliveries(client, editor, state="pending")
    assert client.post(f"/v1/deliveries/{pending['id']}/redeliver", headers=editor).status_code == 409
    cancelled = client.post(f"/v1/deliveries/{pending['id']}/cancel", headers=editor)
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    assert client.post(f"/v1/deliveries/{pending['id']}/cancel", headers=editor).status_code == 409
    correct(client, article_id, writer, editor, "v2")
    assert send_pending(app) == ["delivered"]
    assert receiver.processed[0].event == "publish"  # the cancelled version never counted as held
    assert transition(client, article_id, editor, "unpublish").status_code == 200
    [takedown] = deliveries(client, editor, kind="takedown")
    assert client.post(f"/v1/deliveries/{takedown['id']}/cancel", headers=editor).status_code == 409
    [sent] = deliveries(client, editor, state="delivered")
    refused = client.post(f"/v1/deliveries/{sent['id']}/redeliver", headers=editor)
    assert refused.status_code == 409 and refused.get_json()["newer_delivery_id"] == takedown["id"]
    history = client.get(f"/v1/articles/{article_id}/history", headers=editor).get_json()["items"]
    assert "delivery_cancelled" in {event["action"] for event in history}


def test_delivery_log_filters_and_pages(app, client, people, receiver):
    writer, editor, admin = people
    for n in range(3):
        add_webhook(client, admin, receiver, name=f"Outlet {n}")
    article_id, _ = live_seed_article(app, client, writer, editor)
    first = client.get("/v1/deliveries?limit=2", headers=editor)
    assert len(first.get_json()["items"]) == 2 and 'rel="next"' in first.headers["Link"]
    rest = client.get(f"/v1/deliveries?limit=2&cursor={first.get_json()['next_cursor']}", headers=editor)
    ids = [d["id"] for d in first.get_json()["items"] + rest.get_json()["items"]]
    assert len(set(ids)) == 3 and rest.get_json()["next_cursor"] is None
    assert {d["sequence"] for d in deliveries(client, editor, article_id=article_id)} == {1}
    assert deliveries(client, editor, since="2999-01-01T00:00:00Z") == []
    assert client.get("/v1/deliveries?state=lost", headers=editor).status_code == 422


@pytest.mark.parametrize("body", [
    {"name": "x", "kind": "carrier-pigeon"},
    {"name": "x", "kind": "feed", "url": "https://93.184.215.14/x"},
    {"name": "x", "kind": "webhook"},
    {"name": "x", "kind": "webhook", "url": "https://93.184.215.14/x", "format": "atom"},
    {"name": "x", "kind": "webhook", "url": "https://93.184.215.14/x", "headers": {"X-A": "1\r\nX-B: 2"}},
    {"name": "x", "kind": "webhook", "url": "https://93.184.215.14/x", "headers": {"Bad Name": "1"}},
    {"name": "x", "kind": "webhook", "url": "https://93.184.215.14/x", "secret": "short"},
    {"name": "", "kind": "feed"},
    {"name": "x" * 201, "kind": "feed"},
    {"name": "x", "kind": "feed", "filters": {"languages": ["not a tag!"]}},
    {"name": "x", "kind": "feed", "enabled": "maybe"},
])
def test_bad_outlets_are_refused(client, people, body):
    _, _, admin = people
    response = client.post("/v1/outlets", json=body, headers=admin)
    assert response.status_code == 422, response.get_json()
    assert client.get("/v1/outlets", headers=admin).get_json() == []


def test_duplicate_outlet_name_conflicts(client, people):
    _, _, admin = people
    assert client.post("/v1/outlets", json={"name": "Feed", "kind": "feed"}, headers=admin).status_code == 201
    again = client.post("/v1/outlets", json={"name": "Feed", "kind": "feed"}, headers=admin)
    assert again.status_code == 409 and again.content_type == "application/problem+json"


def test_disabled_feed_is_gone_and_unknown_feed_404(client, people):
    _, _, admin = people
    feed = client.post("/v1/outlets", json={"name": "Feed", "kind": "feed"}, headers=admin).get_json()
    assert feed["feed_url"].endswith(f"/v1/feeds/{feed['id']}")
    disabled = client.patch(f"/v1/outlets/{feed['id']}", json={"enabled": False}, headers=admin)
    assert disabled.status_code == 200 and disabled.get_json()["enabled"] is False
    assert client.get(f"/v1/feeds/{feed['id']}").status_code == 404
    assert client.get("/v1/feeds/NOPE").status_code == 404


def test_scheduled_publish_goes_through_the_outbox(app, client, people, receiver):
    writer, editor, admin = people
    add_webhook(client, admin, receiver)
    article = client.post("/v1/articles", json={"language": "en", "headline": "Due soon", "body": "Text"},
                          headers=writer).get_json()
    transition(client, article, writer, "submit")
    transition(client, article, editor, "approve")
    when = (utcnow() + timedelta(seconds=1)).isoformat()
    assert transition(client, article, editor, "schedule", publish_at=when).status_code == 200
    assert deliveries(client, editor) == []  # nothing goes out before the article is live
    time.sleep(1.1)
    with app.app_context():
        assert scheduler.publish_due(10) == [article["id"]]
    assert send_pending(app) == ["delivered"]
    assert receiver.processed[0].body["headlines"][0]["value"] == "Due soon"


def test_a_refused_publish_creates_no_delivery(app, client, people, receiver):
    writer, editor, admin = people
    add_webhook(client, admin, receiver)
    article = client.post("/v1/articles", json={"language": "en", "headline": "Embargoed", "body": "Text",
                                                "embargo_until": (utcnow() + timedelta(hours=1)).isoformat()},
                          headers=writer).get_json()
    transition(client, article, writer, "submit")
    transition(client, article, editor, "approve")
    assert transition(client, article, editor, "publish").status_code == 409
    assert deliveries(client, editor) == []
