"""The three verdicts through the API, engaged events and quality clicks, the sample-ratio
check against the weights in force, and the policy the service runs (the replay's)."""

from datetime import timedelta

import pytest

from app.config import load_config
from app.experiments import experiment_counts, experiment_priors, experiment_runs, experiments
from app.experiments.engine import policy_from_settings
from app.experiments.experiment_counts import Tally
from app.extensions import db
from app.models import Experiment, ExperimentStatus, utcnow
from app.platform.uow import transaction
from bench.experiment_replay import Masthead
from tests.experiment_helpers import live_seed_article, site_key

LOOPBACK = "127.0.0.0/8"


@pytest.fixture
def app(app):
    app.config.update(WEBHOOK_ALLOWED_NETWORKS=LOOPBACK, EXPERIMENT_MIN_SECONDS=0)
    yield app
    app.config.update(WEBHOOK_ALLOWED_NETWORKS="", EXPERIMENT_MIN_SECONDS=600)


@pytest.fixture
def live(app, client, factory):
    writer, editor, admin = (factory.login(role)[1] for role in ("writer", "editor", "admin"))
    outlet = client.post("/v1/outlets", headers=admin, json={
        "name": "Partner", "kind": "webhook", "url": "http://127.0.0.1:9/hook",
        "secret": "whsec_test_secret_0123456789"})
    assert outlet.status_code == 201, outlet.get_json()
    article_id, candidates = live_seed_article(app, client, writer, editor)
    experiment = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()["experiment"]
    return article_id, candidates, editor, site_key(client, admin), experiment


def _send(client, key, experiment, candidate, kind, visitors, prefix):
    events = [{"type": kind, "experiment_id": experiment["id"], "candidate_id": candidate,
               "visitor": f"{prefix}{n}"} for n in visitors]
    for start in range(0, len(events), 500):
        report = client.post(f"/v1/events?key={key}", json={"events": events[start:start + 500]}).get_json()
        assert report["accepted"] == len(events[start:start + 500]), report


def _traffic(client, key, experiment, candidate, shown, clicked, engaged, prefix):
    _send(client, key, experiment, candidate, "impression", range(shown), prefix)
    _send(client, key, experiment, candidate, "click", range(clicked), prefix)
    _send(client, key, experiment, candidate, "engaged", range(engaged), prefix)


def _counted(app, experiment, candidate, impressions, clicks, engaged=0):
    """Counts as the event stores write them (their rules are tested through the API in
    test_event_stores.py), for tests that need tens of thousands of events."""
    with app.app_context(), transaction():
        period = experiment_counts.period_start(utcnow())
        experiment_counts.add({(experiment["id"], candidate, period): Tally(
            impressions, clicks, engaged, expected=impressions)})


def _step(app, experiment) -> str:
    with app.app_context():
        return experiment_runs.step(experiment["id"], utcnow())


def _updates(client, editor, article_id) -> int:
    found = client.get(f"/v1/deliveries?article_id={article_id}&kind=update", headers=editor).get_json()
    return len(found["items"])


def _history(client, editor, article_id) -> list[dict]:
    return client.get(f"/v1/articles/{article_id}/history", headers=editor).get_json()["items"]


def test_a_winner_is_promoted_and_reaches_outlets(app, client, live):
    article_id, candidates, editor, key, experiment = live
    default = experiment["default_candidate_id"]
    other = next(c for c in candidates if c != default)
    _traffic(client, key, experiment, default, 3000, 60, 30, "a")
    _traffic(client, key, experiment, other, 3000, 240, 120, "b")
    assert _step(app, experiment) == "winner"
    body = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()
    assert body["experiment"]["outcome"] == "winner" and body["experiment"]["winner_candidate_id"] == other
    assert body["verdict"]["probability_best"] >= 0.95
    article = client.get(f"/v1/articles/{article_id}", headers=editor).get_json()
    assert article["canonical_headline_id"] == other
    assert _updates(client, editor, article_id) == 1
    concluded = next(e for e in _history(client, editor, article_id) if e["action"] == "experiment_concluded")
    assert concluded["details"]["promoted"] is True


def test_equivalent_keeps_the_default_without_a_promotion(app, client, live):
    article_id, candidates, editor, _key, experiment = live
    for index, candidate in enumerate(candidates):
        _counted(app, experiment, candidate, 60_000, 3000 + 10 * index)
    assert _step(app, experiment) == "equivalent"
    body = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()
    assert body["experiment"]["outcome"] == "equivalent"
    assert body["experiment"]["winner_candidate_id"] == experiment["default_candidate_id"]
    article = client.get(f"/v1/articles/{article_id}", headers=editor).get_json()
    assert article["canonical_headline_id"] is None  # the default headline, untouched
    assert _updates(client, editor, article_id) == 0
    history = _history(client, editor, article_id)
    concluded = next(e for e in history if e["action"] == "experiment_concluded")
    assert concluded["details"]["promoted"] is False
    assert "No meaningful difference" in concluded["details"]["summary"]
    assert "headline_promoted" not in [e["action"] for e in history]


def test_no_verdict_at_the_sample_cap_keeps_the_default(app, client, live):
    article_id, candidates, editor, key, experiment = live
    with app.app_context(), transaction():
        db.session.get(Experiment, experiment["id"]).max_impressions = 1000
    for index, candidate in enumerate(candidates):
        _traffic(client, key, experiment, candidate, 600, 12 + index, 0, f"v{index}-")
    assert _step(app, experiment) == "no_verdict"
    body = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()
    assert body["experiment"]["outcome"] == "no_verdict" and body["experiment"]["winner_candidate_id"] is None
    assert "maximum sample" in body["verdict"]["reason"] and _updates(client, editor, article_id) == 0


def test_a_stopped_test_reports_its_final_verdict(app, client, live):
    article_id, _candidates, editor, _key, _experiment = live
    url = f"/v1/articles/{article_id}/experiment"
    stopped = client.post(f"{url}/actions", json={"action": "stop"}, headers=editor).get_json()
    assert stopped["outcome"] == "stopped" and stopped["verdict"]["outcome"] == "no_verdict"
    assert stopped["verdict"]["reason"].startswith("stopped before a verdict")
    assert client.get(url, headers=editor).get_json()["verdict"]["outcome"] == "no_verdict"


def test_engaged_events_need_a_click_and_count_per_arm(app, client, live):
    article_id, candidates, editor, key, experiment = live
    _send(client, key, experiment, candidates[0], "impression", range(4), "r")
    _send(client, key, experiment, candidates[0], "click", range(2), "r")
    events = [{"type": "engaged", "experiment_id": experiment["id"], "candidate_id": candidates[0],
               "visitor": visitor, "event_id": f"e-{visitor}"} for visitor in ("r0", "r0", "r3")]
    report = client.post(f"/v1/events?key={key}", json={"events": events}).get_json()
    assert report["accepted"] == 1 and report["duplicates"] == 1
    assert [r["reason"] for r in report["rejected"]] == ["engaged_without_click"]
    arm = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()["arms"][0]
    assert (arm["impressions"], arm["clicks"], arm["engaged"]) == (4, 2, 1)
    assert arm["engaged_share"] == 0.5
    svg = client.get(f"/v1/articles/{article_id}/experiment/chart.svg", headers=editor).data.decode()
    assert "50% engaged" in svg


def test_a_quality_clicks_test_decides_on_readers_who_stay(app, client, live):
    article_id, candidates, editor, _key, _experiment = live
    url = f"/v1/articles/{article_id}/experiment"
    client.post(f"{url}/actions", json={"action": "stop"}, headers=editor)
    started = client.post(url, json={"metric": "quality_clicks"}, headers=editor).get_json()
    assert started["metric"] == "quality_clicks"
    # The second headline gets more clicks, the first keeps its readers.
    _counted(app, started, candidates[0], 4000, 200, 160)
    _counted(app, started, candidates[1], 4000, 320, 64)
    assert _step(app, started) == "winner"
    assert client.get(url, headers=editor).get_json()["experiment"]["winner_candidate_id"] == candidates[0]


def test_clickbait_guard_flags_a_clicks_leader_that_loses_readers(app, client, live):
    article_id, candidates, editor, _key, experiment = live
    app.config["EXPERIMENT_MIN_SECONDS"] = 10 ** 6  # keep it running: the guard reads the leader
    _counted(app, experiment, candidates[0], 4000, 200, 160)
    _counted(app, experiment, candidates[1], 4000, 320, 64)
    _step(app, experiment)
    quality = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()["quality"]
    assert quality["candidate_id"] == candidates[1] and quality["clickbait"] is True
    assert "quality clicks" in quality["message"]


def test_sample_ratio_compares_with_the_weights_in_force_when_impressions_arrived(app, client, live):
    """A burst of 600 impressions split 318/282 at 50/50, then the split moves: no alarm."""
    article_id, candidates, editor, key, experiment = live
    app.config["EXPERIMENT_MIN_SECONDS"] = 10 ** 6
    _traffic(client, key, experiment, candidates[0], 318, 6, 0, "a")
    _traffic(client, key, experiment, candidates[1], 282, 30, 0, "b")
    for _ in range(5):
        _step(app, experiment)  # the weights move towards the second headline
    body = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()
    assert body["experiment"]["weights"][1] > 0.7
    assert body["sample_ratio"]["expected"] == pytest.approx([300, 300])
    assert not body["sample_ratio"]["mismatch"] and body["sample_ratio"]["p_value"] > 0.1
    # Later impressions are expected at the new split.
    _traffic(client, key, experiment, candidates[1], 100, 0, 0, "c")
    ratio = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()["sample_ratio"]
    assert ratio["expected"][1] == pytest.approx(300 + 100 * body["experiment"]["weights"][1])


def test_dropped_arms_are_shown_with_the_reason(app, client, live):
    article_id, candidates, editor, _key, experiment = live
    app.config["EXPERIMENT_MIN_SECONDS"] = 10 ** 6
    _counted(app, experiment, candidates[0], 20000, 100)
    _counted(app, experiment, candidates[1], 20000, 400)
    _step(app, experiment)
    body = client.get(f"/v1/articles/{article_id}/experiment", headers=editor).get_json()
    assert body["experiment"]["weights"][0] == 0.0
    assert "clearly behind" in body["arms"][0]["dropped_reason"]
    assert body["experiment"]["dropped"] == {candidates[0]: body["arms"][0]["dropped_reason"]}


def test_the_service_runs_the_policy_the_replay_measures(app, live):
    """A test started on publish runs exactly the policy bench/experiment_replay.py replays."""
    experiment_id = live[4]["id"]
    app.config["EXPERIMENT_MIN_SECONDS"] = load_config()["EXPERIMENT_MIN_SECONDS"]
    with app.app_context():
        served = experiments.policy_for(db.session.get(Experiment, experiment_id))
    assert served == Masthead(load_config()).policy == policy_from_settings(load_config())


def test_the_prior_is_fitted_on_finished_tests_once_there_are_enough(app, client, live):
    article_id, candidates, editor, _key, experiment = live
    app.config["EXPERIMENT_PRIOR_MIN_TESTS"] = 1
    with app.app_context():
        assert experiment_priors.refit(utcnow()) == {}  # none finished yet
    _counted(app, experiment, candidates[0], 3000, 60)
    _counted(app, experiment, candidates[1], 3000, 75)
    client.post(f"/v1/articles/{article_id}/experiment/actions", json={"action": "stop"}, headers=editor)
    with app.app_context():
        fitted = experiment_priors.refit(utcnow() + timedelta(seconds=1))["clicks"]
        assert experiment_priors.current("clicks") == fitted
        experiment = db.session.get(Experiment, experiment["id"])
        assert experiment.status == ExperimentStatus.CONCLUDED
    started = client.post(f"/v1/articles/{article_id}/experiment", json={}, headers=editor).get_json()
    assert started["prior_sd"] == fitted
