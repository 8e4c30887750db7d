"""Scheduled publishing with a real worker and beat: every scheduled article is published
exactly once, on time while they run and late (with the lateness recorded) after an
outage. On PostgreSQL + Redis with 200 articles; on the embedded stack with 30."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Article, ArticleState, AuditEvent, utcnow
from tests.factories import Factory
from tests.worker_stack import Stack, database
from tests.workflow_helpers import transition

pytestmark = pytest.mark.worker
COUNTS = {"services": 200, "embedded": 30}


@pytest.fixture(params=["embedded", "services"])
def stack(request, tmp_path):
    with database(request.param, tmp_path) as (url, broker):
        stack = Stack(url, broker, tmp_path, SCHEDULER_INTERVAL_SECONDS=1)
        stack.count = COUNTS[request.param]
        try:
            yield stack
        finally:
            stack.stop()


def _approved_articles(client, factory, writer, editor, count: int) -> list[str]:
    ids = []
    for n in range(count):
        article = factory.article(writer, headline=f"story {n}")
        transition(client, article, writer, "submit")
        transition(client, article, editor, "approve")
        ids.append(article["id"])
    return ids


def _schedule_all(client, editor, ids: list[str], lead: timedelta):
    """Each article due ``lead`` after it is scheduled (one shared time could already be
    past by the last of 200 on a busy machine); returns the last due time."""
    for article_id in ids:
        when = utcnow() + lead
        response = transition(client, article_id, editor, "schedule", publish_at=when.isoformat())
        assert response.status_code == 200, response.get_json()
    return when


def _published(app, ids: list[str]) -> int:
    with app.app_context():
        query = select(func.count()).select_from(Article).where(
            Article.id.in_(ids), Article.state == ArticleState.PUBLISHED)
        return db.session.scalar(query)


def _publish_events(app, ids: list[str]) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.article_id, func.count()).where(
                AuditEvent.article_id.in_(ids), AuditEvent.action == "publish")
            .group_by(AuditEvent.article_id))
        return dict(rows.all())


def _lateness(app, ids: list[str]) -> list[float]:
    with app.app_context():
        query = select(Article.publish_lateness_seconds).where(Article.id.in_(ids))
        return list(db.session.scalars(query))


def test_scheduled_articles_publish_once_on_time_and_after_an_outage(stack):
    app = stack.app
    client = app.test_client()
    factory = Factory(app, client)
    writer, editor = factory.login("writer")[1], factory.login("editor")[1]

    # While worker and beat run: published once each, soon after publish_at.
    on_time = _approved_articles(client, factory, writer, editor, stack.count)
    stack.start()
    _schedule_all(client, editor, on_time, timedelta(seconds=6))
    stack.wait_for(lambda: _published(app, on_time) == len(on_time), 120)
    assert _publish_events(app, on_time) == {article_id: 1 for article_id in on_time}
    assert all(late is not None and late >= 0 for late in _lateness(app, on_time))

    # Outage: schedules fall due while nothing runs; on restart each is published once, late.
    stack.stop()
    late_ids = _approved_articles(client, factory, writer, editor, stack.count // 4)
    due = _schedule_all(client, editor, late_ids, timedelta(seconds=2))
    while utcnow() < due + timedelta(seconds=4):
        time.sleep(0.5)
    assert _published(app, late_ids) == 0
    stack.start()
    stack.wait_for(lambda: _published(app, late_ids) == len(late_ids), 120)
    assert _publish_events(app, late_ids) == {article_id: 1 for article_id in late_ids}
    assert all(late >= 4 for late in _lateness(app, late_ids))
    assert _publish_events(app, on_time) == {article_id: 1 for article_id in on_time}
