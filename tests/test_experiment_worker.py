"""Headline tests with real processes: the seed article's two headlines tested end to end
through the API with a real worker and beat; and no event lost or double counted when the
worker and the API are killed while events arrive (PostgreSQL and Redis)."""

import random

import pytest
import redis

from tests.experiment_helpers import live_seed_article, site_key
from tests.factories import Factory
from tests.services import require
from tests.worker_stack import ApiServer, Stack, database

pytestmark = pytest.mark.worker
FAST = {"EXPERIMENT_RECOMPUTE_SECONDS": 1, "EXPERIMENT_MIN_SECONDS": 0, "EXPERIMENT_MIN_IMPRESSIONS": 200}


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
    return client, article_id, candidates, editor, site_key(client, admin)


def _visit(client, key, article_id, visitors, rates, rng):
    """Serve each visitor, report the impression and, at the headline's rate, the click."""
    events = []
    for visitor in visitors:
        served = client.get(f"/v1/serve/headlines?articles={article_id}&visitor={visitor}&key={key}")
        item = served.get_json()["items"][0]
        if item["experiment_id"] is None:
            return False  # concluded: everyone sees the winner now
        event = {"experiment_id": item["experiment_id"], "candidate_id": item["candidate_id"],
                 "visitor": visitor}
        events.append({"type": "impression", **event})
        if rng.random() < rates[item["candidate_id"]]:
            events.append({"type": "click", **event})
    report = client.post(f"/v1/events?key={key}", json={"events": events}).get_json()
    assert report["accepted"] == len(events), report
    return True


def test_seed_headlines_tested_end_to_end_with_a_real_worker(stack):
    client, article_id, candidates, editor, key = _people(stack)
    rates = {candidates[0]: 0.03, candidates[1]: 0.15}
    rng = random.Random(7)
    url = f"/v1/articles/{article_id}/experiment"
    for round_ in range(40):
        if not _visit(client, key, article_id, [f"r{round_}v{n}" for n in range(150)], rates, rng):
            break
        if client.get(url, headers=editor).get_json()["experiment"]["status"] == "concluded":
            break
    done = stack.wait_for(lambda: (r := client.get(url, headers=editor).get_json())
                          ["experiment"]["status"] == "concluded" and r, 30)
    assert done["experiment"]["outcome"] == "winner"
    assert done["experiment"]["winner_candidate_id"] == candidates[1]
    assert done["experiment"]["verdict"]["outcome"] == "winner"
    assert sum(a["impressions"] for a in done["arms"]) >= 400
    served = client.get(f"/v1/serve/headlines?articles={article_id}&visitor=later&key={key}")
    assert served.get_json()["items"][0]["candidate_id"] == candidates[1]
    article = client.get(f"/v1/articles/{article_id}", headers=editor).get_json()
    assert article["canonical_headline_id"] == candidates[1]


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
    client, article_id, candidates, editor, key = _people(stack)
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
