"""The Redis event store against a real Redis: same rules as the database store, and a
flush to the database that applies every accepted event exactly once, crash or not."""

import pytest
import redis

from app.experiments import experiment_counts
from app.experiments.event_stores import FLUSHING, PENDING, RedisEventStore
from app.extensions import db
from app.models import EventFlush
from tests.experiment_helpers import live_seed_article, site_key
from tests.services import require


@pytest.fixture
def redis_store(app, monkeypatch):
    url = require("EVENTS_REDIS_URL", "redis")
    redis.Redis.from_url(url).flushdb()
    with app.app_context():
        store = RedisEventStore(url)
    monkeypatch.setitem(app.extensions, "event_store", store)
    return store


@pytest.fixture
def running(app, client, factory, redis_store):
    writer, editor, admin = (factory.login(role)[1] for role in ("writer", "editor", "admin"))
    article_id, candidates = live_seed_article(app, client, writer, editor)
    key = site_key(client, admin)
    served = client.get(f"/v1/serve/headlines?articles={article_id}&visitor=v&key={key}").get_json()
    return article_id, candidates, served["items"][0]["experiment_id"], key, editor, admin


def _post(client, key, events):
    return client.post(f"/v1/events?key={key}", json={"events": events}).get_json()


def _batch(experiment_id, candidate_id, kind, visitors, prefix="e"):
    return [{"type": kind, "experiment_id": experiment_id, "candidate_id": candidate_id,
             "visitor": f"v{n}", "event_id": f"{prefix}-{kind}-{candidate_id}-{n}"} for n in visitors]


def _counts(app, client, article_id, editor):
    arms = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()["arms"]
    return [(a["impressions"], a["clicks"]) for a in arms]


def test_redis_store_applies_the_same_rules(app, client, running):
    article_id, (first, second), experiment_id, key, editor, admin = running
    report = _post(client, key, _batch(experiment_id, first, "impression", range(10))
                   + _batch(experiment_id, first, "click", range(3))
                   + _batch(experiment_id, first, "click", range(3))  # replays
                   + _batch(experiment_id, second, "click", range(2), prefix="x"))  # never shown
    assert (report["accepted"], report["duplicates"]) == (13, 3)
    assert [r["reason"] for r in report["rejected"]] == ["click_without_impression"] * 2
    assert _counts(app, client, article_id, editor) == [(0, 0), (0, 0)]  # not flushed yet
    metrics = client.get("/v1/experiments/event-metrics", headers=admin).get_json()
    assert metrics["store"] == "redis" and metrics["pending"] == 13
    with app.app_context():
        assert app.extensions["event_store"].flush() == 13
    assert _counts(app, client, article_id, editor) == [(10, 3), (0, 0)]
    metrics = client.get("/v1/experiments/event-metrics", headers=admin).get_json()
    assert metrics["pending"] == 0
    assert metrics["outcomes"] == {"accepted": 13, "duplicate": 3, "click_without_impression": 2}


def test_a_flush_interrupted_after_its_commit_is_not_applied_twice(app, client, running, redis_store):
    article_id, (first, _second), experiment_id, key, editor, _admin = running
    _post(client, key, _batch(experiment_id, first, "impression", range(7)))
    batch_key = f"{FLUSHING}crashed-after-commit"
    redis_store.redis.rename(PENDING, batch_key)
    saved = redis_store.redis.hgetall(batch_key)
    with app.app_context():
        assert redis_store.flush() == 7
        # The worker died between the commit and the DEL: the batch is still in Redis.
        redis_store.redis.hset(batch_key, mapping=saved)
        assert redis_store.flush() == 0
        assert db.session.get(EventFlush, "crashed-after-commit").events == 7
    assert not redis_store.redis.exists(batch_key)
    assert _counts(app, client, article_id, editor) == [(7, 0), (0, 0)]


def test_a_flush_that_fails_keeps_its_batch_for_the_next(app, client, running, redis_store,
                                                         monkeypatch):
    article_id, (first, _second), experiment_id, key, editor, _admin = running
    _post(client, key, _batch(experiment_id, first, "impression", range(5)))
    real_add = experiment_counts.add

    def database_down(counts):
        raise ConnectionError("database went away")

    monkeypatch.setattr(experiment_counts, "add", database_down)
    with app.app_context(), pytest.raises(ConnectionError):
        redis_store.flush()
    monkeypatch.setattr(experiment_counts, "add", real_add)
    _post(client, key, _batch(experiment_id, first, "impression", range(5, 8)))
    with app.app_context():
        assert redis_store.flush() == 8  # the failed batch and the new one
    assert _counts(app, client, article_id, editor) == [(8, 0), (0, 0)]


def test_both_stores_give_every_event_the_same_outcome(app, running, redis_store):
    """One batch that exercises every rule, in order, on the database and the Redis store."""
    from app.experiments.event_stores import DatabaseEventStore
    from app.experiments.events import Event
    from app.models import utcnow

    _article_id, (first, second), experiment_id, _key, _editor, _admin = running

    def event(kind, candidate, visitor, event_id=""):
        return Event(kind, experiment_id, candidate, visitor, event_id)

    batch = [
        event("c", first, "a", "c-early"),  # a click before its impression: refused ...
        event("i", first, "a"), event("i", first, "a"),
        event("c", first, "a", "c-early"),  # ... so its id is free: counted now
        event("c", first, "a", "c-early"),  # a duplicate
        event("c", first, "a"), event("c", first, "a"),  # a third click, two impressions
        event("e", first, "a"), event("e", first, "a"), event("e", first, "a"),
        event("e", second, "a"), event("c", second, "a"),  # nothing shown of the second
        event("i", second, "b", "i-b"), event("i", second, "b", "i-b"), event("c", second, "b"),
    ]
    weights = {experiment_id: [(first, 0.5), (second, 0.5)]}
    with app.app_context():
        period = experiment_counts.period_start(utcnow())
        in_database = DatabaseEventStore().record(batch, period, [], weights)
        in_redis = redis_store.record(batch, period, [], weights)
    assert in_redis == in_database
    assert in_redis == ["click_without_impression", "accepted", "accepted", "accepted", "duplicate",
                        "accepted", "click_without_impression", "accepted", "accepted",
                        "engaged_without_click", "engaged_without_click", "click_without_impression",
                        "accepted", "duplicate", "accepted"]
