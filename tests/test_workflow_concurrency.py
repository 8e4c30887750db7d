"""Races with real commits: conflicting transitions and edits with one ETag, and the
scheduler against an editor unscheduling the same article."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.editorial import scheduler
from app.extensions import db
from app.models import Article, ArticleState, AuditEvent, utcnow
from tests.factories import Factory
from tests.workflow_helpers import transition


@pytest.fixture
def desk(committed_app):
    client = committed_app.test_client()
    factory = Factory(committed_app, client)
    writer, editor = factory.login("writer")[1], factory.login("editor")[1]
    return committed_app, client, factory, writer, editor


def _audit(app, article_id: str, *actions: str) -> int:
    with app.app_context():
        query = select(func.count()).select_from(AuditEvent).where(
            AuditEvent.article_id == article_id, AuditEvent.action.in_(actions))
        return db.session.scalar(query)


def _parallel(app, calls):
    """Run ``calls`` (method, url, json, headers) at once; return the status codes."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        method, url, body, headers = call
        with app.test_client() as client:
            barrier.wait()
            return client.open(url, method=method, json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_conflicting_transitions_one_winner(desk):
    app, client, factory, writer, editor = desk
    article = factory.article(writer)
    transition(client, article, writer, "submit")
    url = f"/v1/articles/{article['id']}"
    etag = client.get(url, headers=editor).headers["ETag"]
    headers = {**editor, "If-Match": etag}
    calls = [("POST", f"{url}/transitions", {"action": "approve"}, headers)] * 10 + \
            [("POST", f"{url}/transitions", {"action": "request_changes", "comment": "no"},
              headers)] * 10
    statuses = _parallel(app, calls)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 409, 412}, statuses
    assert _audit(app, article["id"], "approve", "request_changes") == 1


def test_edits_racing_transitions_one_winner(desk):
    app, client, factory, writer, editor = desk
    article = factory.article(writer)
    transition(client, article, writer, "submit")
    url = f"/v1/articles/{article['id']}"
    headers = {**editor, "If-Match": client.get(url, headers=editor).headers["ETag"]}
    calls = [("PATCH", url, {"body": f"edit {n}"}, headers) for n in range(10)] + \
            [("POST", f"{url}/transitions", {"action": "approve"}, headers)] * 10
    statuses = _parallel(app, calls)
    assert statuses.count(200) == 1, statuses
    assert _audit(app, article["id"], "edit", "approve") == 1


def _scheduled(app, client, writer, editor, factory, due_in: timedelta) -> str:
    article = factory.article(writer)
    transition(client, article, writer, "submit")
    transition(client, article, editor, "approve")
    when = utcnow() + timedelta(hours=1)
    assert transition(client, article, editor, "schedule", publish_at=when.isoformat()).status_code == 200
    with app.app_context():  # make it due (the API only accepts future times)
        db.session.execute(update(Article).where(Article.id == article["id"])
                           .values(publish_at=utcnow() + due_in))
        db.session.commit()
    return article["id"]


def test_scheduler_publishes_each_due_article_once(desk):
    app, client, factory, writer, editor = desk
    due = [_scheduled(app, client, writer, editor, factory, timedelta(seconds=-30))
           for _ in range(3)]
    future = _scheduled(app, client, writer, editor, factory, timedelta(hours=1))
    with app.app_context():
        assert sorted(scheduler.publish_due(100)) == sorted(due)
        assert scheduler.publish_due(100) == []
    for article_id in due:
        body = client.get(f"/v1/articles/{article_id}", headers=editor).get_json()
        assert body["state"] == "published" and body["live_revision"] == body["approved_revision"]
        assert body["publish_lateness_seconds"] >= 30
        assert _audit(app, article_id, "publish") == 1
        event = client.get(f"/v1/articles/{article_id}/history", headers=editor).get_json()["items"][-1]
        assert event["actor_id"] is None and event["details"]["lateness_seconds"] >= 30
    assert client.get(f"/v1/articles/{future}", headers=editor).get_json()["state"] == "scheduled"


def test_scheduler_skips_embargoed(desk):
    app, client, factory, writer, editor = desk
    article_id = _scheduled(app, client, writer, editor, factory, timedelta(seconds=-1))
    with app.app_context():
        db.session.execute(update(Article).where(Article.id == article_id)
                           .values(embargo_until=utcnow() + timedelta(hours=1)))
        db.session.commit()
        assert scheduler.publish_due(10) == []


def test_parallel_schedulers_publish_once(desk):
    app, client, factory, writer, editor = desk
    due = {_scheduled(app, client, writer, editor, factory, timedelta(seconds=-1)) for _ in range(12)}

    def run(_):
        with app.app_context():
            return scheduler.publish_due(100)

    with ThreadPoolExecutor(max_workers=4) as pool:
        published = [a for batch in pool.map(run, range(4)) for a in batch]
    assert sorted(published) == sorted(due)
    for article_id in due:
        assert _audit(app, article_id, "publish") == 1


def _race_scheduler_and_unschedule(app, url: str, headers: dict) -> tuple[list[str], int]:
    barrier = threading.Barrier(2)

    def run_scheduler():
        with app.app_context():
            barrier.wait()
            return scheduler.publish_due(10)

    def unschedule():
        with app.test_client() as own:
            barrier.wait()
            return own.post(f"{url}/transitions", json={"action": "unschedule"},
                            headers=headers).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        published, status = pool.submit(run_scheduler), pool.submit(unschedule)
        return published.result(), status.result()


def test_unschedule_racing_the_scheduler_never_double_publishes(desk):
    app, client, factory, writer, editor = desk
    for _ in range(8):
        article_id = _scheduled(app, client, writer, editor, factory, timedelta(seconds=-1))
        url = f"/v1/articles/{article_id}"
        headers = {**editor, "If-Match": client.get(url, headers=editor).headers["ETag"]}
        published, status = _race_scheduler_and_unschedule(app, url, headers)
        final = client.get(url, headers=editor).get_json()
        if status == 200:
            assert published == [] and final["state"] == "approved" and not final["is_live"]
            assert _audit(app, article_id, "publish") == 0
        else:
            assert status in (409, 412) and published == [article_id]
            assert final["state"] == "published" and _audit(app, article_id, "publish") == 1
        with app.app_context():
            state = db.session.get(Article, article_id).state
            assert state in (ArticleState.APPROVED, ArticleState.PUBLISHED)
