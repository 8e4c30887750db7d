"""The public hot path (app/api/public_wsgi.py) answers valid serving and event requests
without Flask, with the headers, errors, rate limit and metrics Flask's answer has; what it
does not take reaches Flask unchanged."""

import io
import json

import pytest
from prometheus_client import REGISTRY

from app.api.limits import ProcessWindows, Window
from tests.experiment_helpers import live_seed_article, site_key


@pytest.fixture
def live(app, client, factory):
    writer, editor, admin = (factory.login(role)[1] for role in ("writer", "editor", "admin"))
    article_id, candidates = live_seed_article(app, client, writer, editor)
    experiment = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()
    return article_id, candidates, experiment["experiment"]["id"], site_key(client, admin)


@pytest.fixture
def flask_calls(app, monkeypatch):
    """The requests the hot path handed to Flask (paths)."""
    calls, fallback = [], app.wsgi_app.fallback

    def counted(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return fallback(environ, start_response)

    monkeypatch.setattr(app.wsgi_app, "fallback", counted)
    return calls


def _impression(experiment_id: str, candidate_id: str, visitor: str) -> dict:
    return {"type": "impression", "experiment_id": experiment_id, "candidate_id": candidate_id,
            "visitor": visitor}


def test_valid_requests_never_reach_flask(client, live, flask_calls):
    article_id, candidates, experiment_id, key = live
    served = client.get(f"/v1/serve/headlines?articles={article_id}&visitor=v1&key={key}")
    events = client.post(f"/v1/events?key={key}",
                         json={"events": [_impression(experiment_id, candidates[0], "v1")]})
    beacon = client.post(f"/v1/events?key={key}", content_type="text/plain;charset=UTF-8",
                         data=json.dumps({"events": [_impression(experiment_id, candidates[0], "v2")]}))
    assert served.status_code == 200 and served.get_json()["items"][0]["article_id"] == article_id
    assert events.get_json()["accepted"] == 1 and beacon.get_json()["accepted"] == 1
    assert flask_calls == []


def test_what_the_hot_path_does_not_take_reaches_flask(client, live, flask_calls):
    article_id, candidates, experiment_id, key = live
    body = json.dumps({"events": [_impression(experiment_id, candidates[0], "chunked")]}).encode()
    assert client.get(f"/v1/serve/headlines?articles={article_id}&visitor=v&key=pk_nope").status_code == 401
    assert client.get(f"/v1/serve/headlines?articles={article_id}%00&visitor=v&key={key}").status_code == 422
    assert client.head(f"/v1/serve/headlines?articles={article_id}&visitor=v&key={key}").status_code == 200
    chunked = client.post(f"/v1/events?key={key}", input_stream=io.BytesIO(body),
                          content_type="application/json", headers={"Transfer-Encoding": "chunked"},
                          environ_overrides={"wsgi.input_terminated": True})  # as gunicorn de-chunks
    gzipped = client.post(f"/v1/events?key={key}", data=body, content_type="application/json",
                          headers={"Content-Encoding": "gzip"})
    assert chunked.get_json()["accepted"] == 1 and gzipped.status_code == 415
    assert len(flask_calls) == 5


@pytest.mark.parametrize("origins", ["*", "https://www.example.org"])
def test_flask_and_the_hot_path_answer_with_the_same_headers(app, client, live, monkeypatch, origins):
    """HEAD is answered by Flask, GET by the hot path: the same headers either way."""
    article_id, _candidates, _experiment_id, key = live
    monkeypatch.setitem(app.config, "PUBLIC_CORS_ORIGINS", origins)
    url = f"/v1/serve/headlines?articles={article_id}&visitor=v&key={key}"
    sent = {"Origin": "https://www.example.org", "X-Request-ID": "front-7"}
    by_flask, by_hot_path = client.head(url, headers=sent), client.get(url, headers=sent)
    assert dict(by_hot_path.headers) == dict(by_flask.headers)
    assert by_hot_path.headers["X-Request-ID"] == "front-7"
    assert by_hot_path.headers["Access-Control-Allow-Origin"] in ("*", "https://www.example.org")
    assert by_hot_path.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_errors_after_admission_are_problems_counted_once(app, client, live, monkeypatch):
    article_id, _candidates, _experiment_id, key = live
    monkeypatch.setitem(app.config, "PUBLIC_RATE_LIMIT_PER_MINUTE", 3)
    requests = [
        lambda: client.post(f"/v1/events?key={key}", data=b"{not json", content_type="application/json"),
        lambda: client.post(f"/v1/events?key={key}", json={"batch": []}),
        lambda: client.get(f"/v1/serve/headlines?articles={article_id}&visitor=v&key={key}&x=1"),
        lambda: client.get(f"/v1/serve/headlines?articles={article_id}&visitor=v&key={key}"),
    ]
    for _ in range(2):  # a minute may turn in between: once more
        answers = [send() for send in requests]
        if answers[-1].status_code == 429:
            break
    assert [a.status_code for a in answers] == [400, 422, 422, 429]
    assert all(a.content_type == "application/problem+json" for a in answers)
    assert answers[0].get_json()["detail"].startswith("The body is not valid JSON")
    assert answers[-1].get_json()["instance"] == "/v1/serve/headlines"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60


def test_the_hot_path_counts_request_metrics(client, live):
    article_id, _candidates, _experiment_id, key = live
    labels = {"method": "GET", "route": "/v1/serve/headlines", "status": "200"}
    before = REGISTRY.get_sample_value("masthead_http_request_duration_seconds_count", labels) or 0
    client.get(f"/v1/serve/headlines?articles={article_id}&visitor=v&key={key}")
    assert REGISTRY.get_sample_value("masthead_http_request_duration_seconds_count", labels) == before + 1


def test_an_unexpected_error_is_a_500_problem(app, client, live, monkeypatch):
    _article_id, candidates, experiment_id, key = live
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def broken(*_args):
        raise RuntimeError("a bug")

    monkeypatch.setattr("app.api.public_wsgi.events.ingest_body", broken)
    answer = client.post(f"/v1/events?key={key}",
                         json={"events": [_impression(experiment_id, candidates[0], "v")]})
    assert answer.status_code == 500 and answer.content_type == "application/problem+json"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_process_windows_count_each_key_for_a_minute(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("app.api.limits.time.time", lambda: clock[0])
    windows = ProcessWindows()
    assert [windows.hit(2, ("public", "k", "a")) for _ in range(3)] == [
        Window(1, 2, 1060.0), Window(2, 2, 1060.0), Window(3, 2, 1060.0)]
    assert not windows.hit(1, ("public", "k", "a")).allowed
    assert windows.hit(2, ("public", "k", "b")).allowed  # another address, its own budget
    clock[0] = 1030.0
    assert windows.hit(2, ("public", "k", "c")).allowed
    clock[0] = 1061.0  # a's and b's windows ended; c's runs to 1090
    assert windows.hit(2, ("public", "k", "a")) == Window(1, 2, 1121.0)
    assert [windows.hit(1, ("public", "k", "c")) for _ in range(2)] == [
        Window(2, 1, 1090.0), Window(3, 1, 1090.0)]
    assert len(windows._windows) == 2  # the ended window of b was forgotten


def test_the_one_pass_check_takes_only_batches_the_reference_path_accepts_whole(app, live):
    from app.errors import DomainError
    from app.experiments import events
    from app.experiments.event_stores import event_store

    _article_id, (first, second), experiment_id, _key = live
    valid = _impression(experiment_id, first, "fast")
    refused = [{**valid, "event_id": ""}, {**valid, "visitor": "v\n"}, {**valid, "visitor": "v" * 129},
               {**valid, "count": 2}, {**valid, "type": "view"}, {**valid, "experiment_id": "01NOPE"},
               {**valid, "candidate_id": "01NOPE"}, {**valid, "event_id": "x" * 65},
               {**valid, "visitor": 7}, {key: value for key, value in valid.items() if key != "visitor"}]
    with app.app_context():
        snapshot, store = app.extensions["serving"].get(), event_store()
        for event in refused:
            raw = json.dumps({"events": [valid, event]}).encode()
            assert events.ingest_body(raw, snapshot, store) is None, event
            assert events.ingest(json.loads(raw), snapshot, store)["rejected"][0]["index"] == 1
        for raw in (b'{"events": [1]}', b'{"events": [NaN]}'):
            assert events.ingest_body(raw, snapshot, store) is None, raw
            assert events.ingest(json.loads(raw), snapshot, store)["rejected"][0]["index"] == 0
        for raw in (b'{"events": [], "more": 1}', b'{"events": {}}', b'[1]'):
            assert events.ingest_body(raw, snapshot, store) is None, raw
            with pytest.raises(DomainError):
                events.ingest(json.loads(raw), snapshot, store)
        batch = [valid, {**valid, "type": "click"}, {**valid, "candidate_id": second, "event_id": "e-1"},
                 {**valid, "candidate_id": second, "event_id": "e-1"}]
        report = events.ingest_body(json.dumps({"events": batch}).encode(), snapshot, store)
    assert report == {"received": 4, "accepted": 3, "duplicates": 1, "rejected": []}
