"""/metrics: request, task and scheduler series from the processes, state series read at
scrape time, and who may scrape."""

import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tasks.system import purge_expired
from tests.experiment_helpers import live_seed_article
from tests.receiver import Receiver
from tests.test_publishing import add_webhook


def scrape(client, headers) -> dict[str, list]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.data[:300]
    return {family.name: family.samples for family in text_string_to_metric_families(response.data.decode())}


def test_metrics_cover_requests_tasks_and_state(app, client, factory):
    writer, editor, admin = (factory.login(role)[1] for role in ("writer", "editor", "admin"))
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.0/8"
    try:
        with Receiver() as receiver:
            add_webhook(client, admin, receiver)
    finally:
        app.config["WEBHOOK_ALLOWED_NETWORKS"] = ""
    live_seed_article(app, client, writer, editor)
    with app.app_context():
        purge_expired.apply()
    families = scrape(client, admin)
    requests = families["masthead_http_request_duration_seconds"]
    assert any(s.labels.get("route") == "/v1/articles/<article_id>/transitions"
               and s.labels.get("status") == "200" for s in requests)
    assert any(s.labels.get("task") == "masthead.system.purge_expired"
               for s in families["masthead_task_duration_seconds"])
    assert ("Partner", "pending") in {(s.labels["outlet"], s.labels["state"])
                                      for s in families["masthead_deliveries"]}
    assert {s.labels["status"]: s.value for s in families["masthead_cleanup_runs"]}["succeeded"] >= 1
    assert "masthead_experiment_events" in families and "masthead_scheduler_lateness_seconds" in families


def test_queue_depth_of_the_embedded_broker(app, client, factory, tmp_path, monkeypatch):
    """Per queue, as the embedded broker names its message files (<id>.<queue>.msg)."""
    (tmp_path / "queue").mkdir()
    for n, queue in enumerate(["celery", "celery", "celery", "cleanup", "cleanup"]):
        (tmp_path / "queue" / f"{n}_message.{queue}.msg").write_text("{}")
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "filesystem://")
    monkeypatch.setitem(app.config, "CELERY_BROKER_DIR", str(tmp_path))
    samples = scrape(client, factory.login("admin")[1])["masthead_queue_depth"]
    assert {s.labels["queue"]: s.value for s in samples} == {"celery": 3, "cleanup": 2, "deliveries": 0}


def test_scraper_token_and_roles(app, client, factory):
    app.config["METRICS_TOKEN"] = "scrape-secret-0123456789"
    try:
        assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"}) \
            .status_code == 200
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/metrics", headers=factory.login("editor")[1]).status_code == 403
        assert client.get("/metrics").status_code == 401
    finally:
        app.config["METRICS_TOKEN"] = ""


@pytest.mark.parametrize("name", [
    "masthead_http_request_duration_seconds", "masthead_task_duration_seconds",
    "masthead_task_failures_total", "masthead_deliveries", "masthead_cleanup_runs",
    "masthead_experiment_events_total", "masthead_queue_depth", "masthead_scheduler_lateness_seconds",
])
def test_every_metric_is_documented_in_the_readme(name):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert re.search(rf"`{name}", readme), name
