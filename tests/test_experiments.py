"""Headline experiments through the API: start on publish, serve, count, decide, promote."""

import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from app.experiments import chart, experiment_counts, experiment_runs
from app.experiments.event_stores import RedisEventStore, event_store
from app.experiments.experiment_counts import Tally
from app.models import utcnow
from app.platform.uow import transaction
from tests.experiment_helpers import etag_headers, live_seed_article, site_key
from tests.workflow_helpers import transition

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def live(app, client, factory):
    writer = factory.login("writer")[1]
    editor = factory.login("editor")[1]
    admin = factory.login("admin")[1]
    article_id, candidates = live_seed_article(app, client, writer, editor)
    return article_id, candidates, editor, site_key(client, admin), writer


def _serve(client, key, article_id, visitor):
    response = client.get(f"/v1/serve/headlines?articles={article_id}&visitor={visitor}&key={key}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"][0]


def _events(client, key, events):
    return client.post(f"/v1/events?key={key}", json={"events": events})


def _impressions_and_clicks(client, key, experiment_id, candidate_id, shown, clicked, tag):
    events = [{"type": "impression", "experiment_id": experiment_id, "candidate_id": candidate_id,
               "visitor": f"{tag}{n}"} for n in range(shown)]
    events += [{"type": "click", "experiment_id": experiment_id, "candidate_id": candidate_id,
                "visitor": f"{tag}{n}"} for n in range(clicked)]
    for start in range(0, len(events), 500):
        report = _events(client, key, events[start:start + 500]).get_json()
        assert report["accepted"] == len(events[start:start + 500]), report


def test_publishing_two_approved_candidates_starts_a_test(client, live):
    article_id, candidates, editor, _key, _writer = live
    body = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()
    experiment = body["experiment"]
    assert experiment["status"] == "running" and experiment["started_by_id"] is None
    assert experiment["arm_ids"] == candidates and experiment["weights"] == [0.5, 0.5]
    assert experiment["default_candidate_id"] in candidates
    assert [a["impressions"] for a in body["arms"]] == [0, 0]
    assert body["series"] == []
    history = client.get(f"/v1/articles/{article_id}/history", headers=editor).get_json()["items"]
    assert "experiment_started" in [e["action"] for e in history]


def test_serving_is_sticky_and_splits_visitors(client, live):
    article_id, candidates, _editor, key, _writer = live
    seen = {}
    for n in range(60):
        first = _serve(client, key, article_id, f"visitor-{n}")
        assert _serve(client, key, article_id, f"visitor-{n}") == first
        seen[first["candidate_id"]] = first["headline"]
        assert first["experiment_id"] is not None
    assert set(seen) == set(candidates)
    assert all(text for text in seen.values())


def test_front_page_request_lists_missing_articles(client, live):
    article_id, _candidates, _editor, key, _writer = live
    response = client.get(f"/v1/serve/headlines?articles={article_id},01NOTLIVE0000000000000000,"
                          f"{article_id}&visitor=v&key={key}")
    body = response.get_json()
    assert [i["article_id"] for i in body["items"]] == [article_id]
    assert body["missing"] == ["01NOTLIVE0000000000000000"]
    assert response.headers["Cache-Control"].startswith("private, max-age=")


@pytest.mark.parametrize(("query", "status"), [
    ("articles={a}&visitor=v", 401),
    ("articles={a}&visitor=v&key=pk_wrong", 401),
    ("articles={a}&visitor=bad%20visitor&key={k}", 422),
    ("articles=&visitor=v&key={k}", 422),
    ("articles={a}&visitor=v&key={k}&extra=1", 422),
    ("articles=a%2Fb&visitor=v&key={k}", 422),
])
def test_serving_refuses_bad_requests(client, live, query, status):
    article_id, _candidates, _editor, key, _writer = live
    response = client.get("/v1/serve/headlines?" + query.format(a=article_id, k=key))
    assert response.status_code == status
    assert response.content_type == "application/problem+json"


def test_events_are_validated_one_by_one(client, live):
    article_id, candidates, editor, key, _writer = live
    experiment_id = _serve(client, key, article_id, "v1")["experiment_id"]
    good = {"type": "impression", "experiment_id": experiment_id, "candidate_id": candidates[0],
            "visitor": "v1", "event_id": "e-1"}
    batch = [
        good,
        {**good},  # replayed event id
        {**good, "event_id": "e-2", "type": "click"},
        {**good, "event_id": "e-3", "type": "click"},  # a second click for one impression
        {**good, "event_id": "e-4", "type": "click", "candidate_id": candidates[1]},
        {**good, "event_id": "e-5", "experiment_id": "01UNKNOWN0000000000000000"},
        {**good, "event_id": "e-6", "candidate_id": "01UNKNOWN0000000000000000"},
        {**good, "event_id": "e-7", "visitor": "<script>"},
        {**good, "event_id": "e-8", "type": "purchase"},
        {**good, "event_id": "e-9", "count": -5},
        {**good, "event_id": 12},
        "not an object",
        {"type": "impression"},
    ]
    report = _events(client, key, batch).get_json()
    assert report["received"] == 13 and report["accepted"] == 2 and report["duplicates"] == 1
    reasons = {r["index"]: r["reason"] for r in report["rejected"]}
    assert reasons == {3: "click_without_impression", 4: "click_without_impression",
                       5: "unknown_experiment", 6: "unknown_candidate", 7: "invalid_visitor",
                       8: "invalid_type", 9: "unknown_field", 10: "invalid_event_id",
                       11: "invalid_event", 12: "invalid_event"}
    arms = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()["arms"]
    assert [(a["impressions"], a["clicks"]) for a in arms] == [(1, 1), (0, 0)]
    # A click refused for want of an impression can be sent again, once there is one.
    retried = _events(client, key, [{**good, "event_id": "e-10", "candidate_id": candidates[1]},
                                    {**good, "event_id": "e-4", "type": "click",
                                     "candidate_id": candidates[1]}]).get_json()
    assert retried["accepted"] == 2


@pytest.mark.parametrize("body", [{"events": "x"}, {"events": []} | {"more": 1}, [], {"e": []}])
def test_malformed_batches_are_refused_whole(client, live, body):
    _article_id, _candidates, _editor, key, _writer = live
    response = client.post(f"/v1/events?key={key}", json=body)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


def test_oversize_batches_and_bad_json_are_refused(app, client, live, monkeypatch):
    _article_id, _candidates, _editor, key, _writer = live
    monkeypatch.setitem(app.config, "EVENT_BATCH_MAX", 3)
    assert _events(client, key, [{}] * 4).status_code == 413
    assert _events(client, key, [{}] * 3).status_code == 200
    bad = client.post(f"/v1/events?key={key}", data=b'{"events": [', content_type="application/json")
    assert bad.status_code == 400
    assert client.post("/v1/events", json={"events": []}).status_code == 401


def test_the_engine_declares_and_promotes_a_winner(app, client, live, monkeypatch):
    article_id, candidates, editor, key, _writer = live
    monkeypatch.setitem(app.config, "EXPERIMENT_MIN_SECONDS", 0)
    experiment_id = _serve(client, key, article_id, "v")["experiment_id"]
    with app.app_context():
        assert experiment_runs.step(experiment_id, utcnow()) == "running"
    _impressions_and_clicks(client, key, experiment_id, candidates[0], 1500, 30, "a")
    _impressions_and_clicks(client, key, experiment_id, candidates[1], 1500, 150, "b")
    with app.app_context():
        assert experiment_runs.step(experiment_id, utcnow()) == "winner"
    body = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()
    assert body["experiment"]["outcome"] == "winner"
    assert body["experiment"]["winner_candidate_id"] == candidates[1]
    assert body["arms"][1]["probability_best"] > 0.99 and body["arms"][1]["is_winner"]
    assert body["verdict"]["outcome"] == "winner" and body["verdict"]["probability_best"] >= 0.95
    served = _serve(client, key, article_id, "anyone")
    assert served["candidate_id"] == candidates[1] and served["experiment_id"] is None
    article = client.get(f"/v1/articles/{article_id}", headers=editor).get_json()
    assert article["canonical_headline_id"] == candidates[1]
    actions = [e["action"] for e in client.get(f"/v1/articles/{article_id}/history",
                                               headers=editor).get_json()["items"]]
    assert {"experiment_concluded", "headline_promoted"} <= set(actions)
    late = _events(client, key, [{"type": "impression", "experiment_id": experiment_id,
                                  "candidate_id": candidates[0], "visitor": "late"}]).get_json()
    assert late["rejected"][0]["reason"] == "experiment_concluded"


def test_editor_controls_and_override(client, live):
    article_id, candidates, editor, key, writer = live
    url = f"/v1/articles/{article_id}/experiment"
    assert client.post(f"{url}/actions", json={"action": "pause"}, headers=writer).status_code == 403
    assert client.post(f"{url}/actions", json={"action": "pause"}, headers=editor).get_json()[
        "status"] == "paused"
    paused = _serve(client, key, article_id, "v")
    assert paused["experiment_id"] is None
    assert client.post(f"{url}/actions", json={"action": "pause"}, headers=editor).status_code == 409
    assert client.post(f"{url}/actions", json={"action": "resume"}, headers=editor).get_json()[
        "status"] == "running"
    assert client.post(f"{url}/winner", json={"candidate_id": "nope"}, headers=editor).status_code == 422
    picked = client.post(f"{url}/winner", json={"candidate_id": candidates[0]}, headers=editor).get_json()
    assert picked["outcome"] == "override" and picked["winner_candidate_id"] == candidates[0]
    # What the statistics said at the time: no verdict yet, stated as final.
    assert picked["verdict"]["outcome"] == "no_verdict"
    assert picked["verdict"]["reason"].startswith("overridden before a verdict")
    assert client.post(f"{url}/actions", json={"action": "stop"}, headers=editor).status_code == 409
    again = client.post(url, json={"allocation": "fixed"}, headers=editor)
    assert again.status_code == 201 and again.get_json()["allocation"] == "fixed"
    assert client.post(url, json={}, headers=editor).status_code == 409  # one at a time
    stopped = client.post(f"{url}/actions", json={"action": "stop"}, headers=editor).get_json()
    assert stopped["outcome"] == "stopped" and stopped["winner_candidate_id"] is None


def test_unpublishing_stops_the_test(client, live):
    article_id, _candidates, editor, key, _writer = live
    transition(client, article_id, editor, "unpublish")
    body = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()
    assert body["experiment"]["outcome"] == "stopped"
    served = client.get(f"/v1/serve/headlines?articles={article_id}&visitor=v&key={key}").get_json()
    assert served["missing"] == [article_id]


def test_chart_is_svg_an_editor_can_read(client, live):
    article_id, candidates, editor, key, _writer = live
    experiment_id = _serve(client, key, article_id, "v")["experiment_id"]
    _impressions_and_clicks(client, key, experiment_id, candidates[0], 40, 4, "a")
    _impressions_and_clicks(client, key, experiment_id, candidates[1], 40, 9, "b")
    response = client.get(f"/v1/articles/{article_id}/experiment/chart.svg", headers=editor)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    texts = "".join(root.itertext())
    assert "وزير الخارجية" in texts and "P(best)" in texts and "engaged" in texts
    # One period: a point with its interval per candidate (a line needs two), one share bar.
    assert len(root.findall(f"{SVG}circle")) == 2 and not root.findall(f"{SVG}polyline")
    assert "Period start (UTC)" in texts


def test_chart_with_several_periods_has_lines_a_time_axis_and_a_legend_that_fits(app, client, live):
    article_id, candidates, editor, key, _writer = live
    experiment_id = _serve(client, key, article_id, "v")["experiment_id"]
    now = utcnow()
    with app.app_context(), transaction():
        experiment_counts.add({
            (experiment_id, candidate, experiment_counts.period_start(now - timedelta(minutes=m))):
                Tally(impressions=400, clicks=10 + 5 * index, engaged=3, expected=400.0)
            for m in (5, 10, 15) for index, candidate in enumerate(candidates)})
    root = ET.fromstring(client.get(f"/v1/articles/{article_id}/experiment/chart.svg",
                                    headers=editor).data)
    assert len(root.findall(f"{SVG}polyline")) == 2
    width = float(root.get("width"))
    for text in root.iter(f"{SVG}text"):  # nothing starts beyond the canvas
        assert float(text.get("x", 0)) < width
    legend = [t for t in root.iter(f"{SVG}tspan") if t.text]
    assert all(len(t.text) * chart.CHAR_WIDTH <= width - chart.LEFT - chart.RIGHT for t in legend)


def test_legend_cuts_long_headlines_with_an_ellipsis():
    long = "عنوان طويل جدا " * 20
    cut = chart.fit(long, 300)
    assert cut.endswith("\u2026") and len(cut) * chart.CHAR_WIDTH <= 300
    assert chart.fit("short", 300) == "short"


def test_starting_needs_a_live_article_with_two_candidates(client, factory):
    editor = factory.login("editor")[1]
    article = factory.article(editor)
    response = client.post(f"/v1/articles/{article['id']}/experiment", json={}, headers=editor)
    assert response.status_code == 409
    assert client.get(f"/v1/articles/{article['id']}/experiment", headers=editor).status_code == 404


def test_event_metrics_count_outcomes(client, live, factory):
    article_id, candidates, _editor, key, _writer = live
    admin = factory.login("admin")[1]
    experiment_id = _serve(client, key, article_id, "v")["experiment_id"]
    _events(client, key, [{"type": "click", "experiment_id": experiment_id,
                           "candidate_id": candidates[0], "visitor": "nobody"}, 5])
    metrics = client.get("/v1/experiments/event-metrics", headers=admin).get_json()
    assert metrics["store"] == "database"
    assert metrics["outcomes"]["click_without_impression"] >= 1
    assert metrics["outcomes"]["invalid_event"] >= 1


def test_purge_forgets_old_event_ids_and_ended_tests_visitors(app, client, live):
    article_id, candidates, editor, key, _writer = live
    experiment_id = _serve(client, key, article_id, "v")["experiment_id"]
    _events(client, key, [{"type": "impression", "experiment_id": experiment_id,
                           "candidate_id": candidates[0], "visitor": "v", "event_id": "old"}])
    client.post(f"/v1/articles/{article_id}/experiment/actions", json={"action": "stop"},
                headers=editor)
    with app.app_context():
        store = event_store()
        assert store.purge(utcnow()) == 0  # still inside the deduplication window
        assert store.purge(utcnow() + timedelta(days=2)) == 2


def test_public_endpoints_are_rate_limited_per_site_and_address(app, client, live, monkeypatch):
    article_id, _candidates, _editor, key, _writer = live
    monkeypatch.setitem(app.config, "PUBLIC_RATE_LIMIT_PER_MINUTE", 2)
    url = f"/v1/serve/headlines?articles={article_id}&visitor=v&key={key}"
    statuses = [client.get(url).status_code for _ in range(3)]
    if statuses == [200, 200, 200]:  # the minute turned between two requests: once more
        statuses = [client.get(url).status_code for _ in range(3)]
    assert statuses[-1] == 429
    limited = client.get(url)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.content_type == "application/problem+json"
    assert client.post(f"/v1/events?key={key}", json={"events": []}).status_code == 429


def test_live_texts_are_the_approved_ones_until_republished(app, client, live, factory):
    article_id, candidates, editor, key, _writer = live
    url = f"/v1/articles/{article_id}/headlines"
    before = {_serve(client, key, article_id, f"v{n}")["headline"] for n in range(30)}
    edited = client.patch(f"{url}/{candidates[1]}", json={"text": "عنوان معدل لم يراجع بعد"},
                          headers=etag_headers(client, article_id, editor))
    assert edited.status_code == 200  # a correction: the article goes back to review
    after = {_serve(client, key, article_id, f"v{n}")["headline"] for n in range(30)}
    assert after == before and "عنوان معدل لم يراجع بعد" not in after
    again = client.post(f"/v1/articles/{article_id}/experiment", json={}, headers=editor)
    assert again.status_code == 409  # not while a correction is in review
    client.post(f"/v1/articles/{article_id}/experiment/winner", json={"candidate_id": candidates[1]},
                headers=editor)
    assert _serve(client, key, article_id, "v")["headline"] in before  # the approved text won
    # Re-approved without the winner: the promotion no longer applies.
    client.patch(f"{url}/{candidates[1]}", json={"status": "rejected"},
                 headers=etag_headers(client, article_id, editor))
    other = factory.login("editor")[1]
    assert transition(client, article_id, editor, "submit").status_code == 200
    assert transition(client, article_id, other, "approve").status_code == 200
    assert transition(client, article_id, other, "publish").status_code == 200
    article = client.get(f"/v1/articles/{article_id}", headers=editor).get_json()
    assert article["canonical_headline_id"] is None
    assert _serve(client, key, article_id, "v")["candidate_id"] is None


def test_republishing_other_candidates_restarts_the_test(app, client, live, factory):
    article_id, candidates, editor, _key, _writer = live
    first = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()["experiment"]
    added = client.post(f"/v1/articles/{article_id}/headlines", json={"text": "عنوان ثالث"},
                        headers=etag_headers(client, article_id, editor)).get_json()
    other = factory.login("editor")[1]
    assert transition(client, article_id, editor, "submit").status_code == 200
    assert transition(client, article_id, other, "approve").status_code == 200
    assert transition(client, article_id, other, "publish").status_code == 200
    second = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()["experiment"]
    assert second["id"] != first["id"] and second["arm_ids"] == [*candidates, added["id"]]


@pytest.mark.parametrize("visitor", ["v" * 128 + "\n", "v\n", "v" * 129])
def test_visitor_ids_with_a_trailing_newline_or_too_long_are_refused(client, live, visitor):
    article_id, candidates, _editor, key, _writer = live
    experiment_id = _serve(client, key, article_id, "v")["experiment_id"]
    report = _events(client, key, [{"type": "impression", "experiment_id": experiment_id,
                                    "candidate_id": candidates[0], "visitor": visitor,
                                    "event_id": "x" * 64 + "\n"}]).get_json()
    assert [r["reason"] for r in report["rejected"]] == ["invalid_visitor"]
    served = client.get("/v1/serve/headlines", query_string={
        "articles": article_id, "visitor": visitor, "key": key})
    assert served.status_code == 422


def test_events_may_come_as_a_text_beacon(client, live):
    article_id, candidates, _editor, key, _writer = live
    experiment_id = _serve(client, key, article_id, "v")["experiment_id"]
    body = json.dumps({"events": [{"type": "impression", "experiment_id": experiment_id,
                                   "candidate_id": candidates[0], "visitor": "beacon"}]})
    response = client.post(f"/v1/events?key={key}", data=body, content_type="text/plain;charset=UTF-8")
    assert response.get_json()["accepted"] == 1
    assert client.post(f"/v1/events?key={key}", data="not json",
                       content_type="text/plain").status_code == 400


def test_an_unreachable_redis_is_a_503_and_nothing_is_counted(app, client, live, monkeypatch):
    article_id, candidates, _editor, key, _writer = live
    with app.app_context():
        monkeypatch.setitem(app.extensions, "event_store", RedisEventStore("redis://127.0.0.1:1/0"))
    experiment_id = _serve(client, key, article_id, "v")["experiment_id"]
    response = _events(client, key, [{"type": "impression", "experiment_id": experiment_id,
                                      "candidate_id": candidates[0], "visitor": "v"}])
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.content_type == "application/problem+json"
