"""Headline tests with real processes: the seed article's two headlines tested end to end
through the API with a real worker and beat, to each of the three verdicts; and no event
lost or double counted when the worker and the API are killed while events arrive
(PostgreSQL and Redis)."""

import random

import feedparser
import pytest
import redis

from tests.experiment_helpers import live_seed_article, site_key
from tests.factories import Factory
from tests.services import require
from tests.worker_stack import ApiServer, Stack, database

pytestmark = pytest.mark.worker
FAST = {"EXPERIMENT_RECOMPUTE_SECONDS": 1, "EXPERIMENT_MIN_SECONDS": 0, "EXPERIMENT_MIN_IMPRESSIONS": 200,
        "PUBLIC_RATE_LIMIT_PER_MINUTE": 10 ** 6}


def _redis_url() -> str:
    url = require("EVENTS_REDIS_URL", "redis")
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(params=["embedded", "services"])
def stack(request, tmp_path):
    settings = dict(FAST, **({"EVENTS_REDIS_URL": _redis_url()} if request.param == "services" else {}))
    with database(request.param, tmp_path) as (url, broker):
        stack = Stack(url, broker, tmp_path, **settings)
        stack.app.config["SERVING_REFRESH_SECONDS"] = 0  # the in-process client reads fresh data
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()


def _people(stack):
    client = stack.app.test_client()
    factory = Factory(stack.app, client)
    writer, editor, admin = (factory.login(role)[1] for role in ("writer", "editor", "admin"))

    def cleaned_by_worker(created):
        location = f"/v1/imports/{created['id']}"
        stack.wait_for(lambda: client.get(location, headers=writer).get_json()["status"]
                       == "succeeded", 60)

    article_id, candidates = live_seed_article(stack.app, client, writer, editor,
                                               clean=cleaned_by_worker)
    return client, article_id, candidates, editor, site_key(client, admin), admin


def _visit(client, key, article_id, visitors, rates, rng, engaged=0.0):
    """Serve each visitor, report the impression, at the headline's rate the click, and at
    ``engaged`` the reader staying on the article afterwards."""
    events = []
    for visitor in visitors:
        served = client.get(f"/v1/serve/headlines?articles={article_id}&visitor={visitor}&key={key}")
        item = served.get_json()["items"][0]
        if item["experiment_id"] is None:
            return False  # concluded: everyone sees the kept headline now
        event = {"experiment_id": item["experiment_id"], "candidate_id": item["candidate_id"],
                 "visitor": visitor}
        events.append({"type": "impression", **event})
        if rng.random() < rates[item["candidate_id"]]:
            events.append({"type": "click", **event})
            if rng.random() < engaged:
                events.append({"type": "engaged", **event})
    report = client.post(f"/v1/events?key={key}", json={"events": events}).get_json()
    assert report["accepted"] == len(events), report
    return True


def _run_until_concluded(stack, client, editor, key, article_id, rates, rng, engaged=0.0, rounds=40):
    url = f"/v1/articles/{article_id}/experiment"
    for _ in range(rounds):
        visitors = [f"{article_id[-6:]}-{rng.random():.9f}-{n}" for n in range(150)]
        if not _visit(client, key, article_id, visitors, rates, rng, engaged):
            break
        if client.get(url, headers=editor).get_json()["experiment"]["status"] == "concluded":
            break
    return stack.wait_for(lambda: (r := client.get(url, headers=editor).get_json())
                          ["experiment"]["status"] == "concluded" and r, 30)


def _history(client, editor, article_id) -> list[dict]:
    return client.get(f"/v1/articles/{article_id}/history", headers=editor).get_json()["items"]


def test_three_verdicts_end_to_end_with_a_real_worker(stack):
    """The seed article's two headlines: a winner (promoted, into the feed), then a test of
    two equally good headlines (equivalent: the default kept, no promotion), then one
    capped before any verdict (no_verdict); engaged events counted throughout."""
    client, article_id, candidates, editor, key, admin = _people(stack)
    feed = client.post("/v1/outlets", json={"name": "Feed", "kind": "feed"}, headers=admin).get_json()
    rng = random.Random(7)
    url = f"/v1/articles/{article_id}/experiment"

    won = _run_until_concluded(stack, client, editor, key, article_id,
                               {candidates[0]: 0.03, candidates[1]: 0.15}, rng, engaged=0.5)
    assert won["experiment"]["outcome"] == "winner"
    assert won["experiment"]["winner_candidate_id"] == candidates[1]
    assert won["verdict"]["outcome"] == "winner" and sum(a["impressions"] for a in won["arms"]) >= 200
    assert all(a["engaged"] > 0 for a in won["arms"] if a["clicks"] > 10)
    served = client.get(f"/v1/serve/headlines?articles={article_id}&visitor=later&key={key}")
    assert served.get_json()["items"][0]["candidate_id"] == candidates[1]
    article = client.get(f"/v1/articles/{article_id}", headers=editor).get_json()
    assert article["canonical_headline_id"] == candidates[1]
    winner_text = next(a["text"] for a in won["arms"] if a["candidate_id"] == candidates[1])
    assert feedparser.parse(client.get(f"/v1/feeds/{feed['id']}").data).entries[0].title == winner_text

    assert client.post(url, json={}, headers=editor).status_code == 201
    even = _run_until_concluded(stack, client, editor, key, article_id,
                                {candidates[0]: 0.5, candidates[1]: 0.5}, rng, rounds=80)
    assert even["experiment"]["outcome"] == "equivalent"
    assert even["experiment"]["winner_candidate_id"] == even["experiment"]["default_candidate_id"]
    concluded = next(e for e in _history(client, editor, article_id) if e["action"] == "experiment_concluded"
                     and e["details"]["experiment_id"] == even["experiment"]["id"])
    assert concluded["details"]["outcome"] == "equivalent" and concluded["details"]["promoted"] is False
    assert "No meaningful difference" in concluded["details"]["summary"]
    assert client.get(f"/v1/articles/{article_id}", headers=editor).get_json()[
        "canonical_headline_id"] == candidates[1]

    # Rare clicks and a small cap: no verdict can be reached before the cap, however many
    # impressions one step of the worker sees at once.
    assert client.post(url, json={"max_impressions": 1000}, headers=editor).status_code == 201
    capped = _run_until_concluded(stack, client, editor, key, article_id,
                                  {candidates[0]: 0.01, candidates[1]: 0.01}, rng)
    assert capped["experiment"]["outcome"] == "no_verdict"
    assert capped["experiment"]["winner_candidate_id"] is None
    assert "maximum sample" in capped["verdict"]["reason"]


@pytest.fixture
def services_stack(tmp_path):
    settings = {"EVENTS_REDIS_URL": _redis_url(), "EXPERIMENT_RECOMPUTE_SECONDS": 1,
                "EXPERIMENT_MIN_IMPRESSIONS": 10 ** 9}  # keep the test running throughout
    with database("services", tmp_path) as (url, broker):
        stack = Stack(url, broker, tmp_path, **settings)
        stack.app.config["SERVING_REFRESH_SECONDS"] = 0
        stack.start()
        api = ApiServer(stack, SERVING_REFRESH_SECONDS=0.5)
        api.start()
        try:
            yield stack, api
        finally:
            api.kill()
            stack.stop()


def _send_until_answered(stack, api, path, events) -> dict:
    """Retry a batch (same event ids) until the API answers, restarting it if it is down."""
    for _attempt in range(60):
        try:
            status, report = api.request("POST", path, {"events": events})
            if status == 200:
                return report
        except OSError:
            if api.process.poll() is not None:
                api.start()
    pytest.fail(f"the API never answered\n{(stack.logs / 'gunicorn.log').read_text()[-3000:]}")


def test_no_event_lost_or_double_counted_across_worker_and_api_crashes(services_stack):
    stack, api = services_stack
    client, article_id, candidates, editor, key, _admin = _people(stack)
    path = f"/v1/events?key={key}"
    experiment_id = client.get(f"/v1/articles/{article_id}/experiment",
                               headers=editor).get_json()["experiment"]["id"]
    plan = [("impression", range(start, start + 100)) for start in range(0, 3000, 100)]
    plan += [("click", range(start, start + 100)) for start in range(0, 1000, 100)]
    worker = stack.processes[0]
    for number, (kind, visitors) in enumerate(plan):
        events = [{"type": kind, "experiment_id": experiment_id, "candidate_id": candidates[n % 2],
                   "visitor": f"v{n}", "event_id": f"{kind}-{n}"} for n in visitors]
        if number in (8, 24):  # the worker dies (perhaps mid-flush); a new one takes over
            stack.kill(worker)
            worker = stack.start_worker()
        if number in (14, 33):  # the API dies with requests in flight
            api.kill()
        report = _send_until_answered(stack, api, path, events)
        assert report["accepted"] + report["duplicates"] == 100 and not report["rejected"], report

    def flushed():
        arms = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()["arms"]
        return [(a["impressions"], a["clicks"]) for a in arms] == [(1500, 500), (1500, 500)]

    stack.wait_for(flushed, 60)
    store = redis.Redis.from_url(stack.env["EVENTS_REDIS_URL"])
    assert not list(store.scan_iter(match="mh:events:flush:*")) and not store.exists("mh:events:pending")
