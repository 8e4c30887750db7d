"""Liveness and readiness against real (and really unreachable) dependencies."""

from tests.conftest import make_app
from tests.factories import Factory
from tests.services import require


def test_healthz_needs_no_token(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_ok(client):
    body = client.get("/readyz").get_json()
    assert body == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


def test_readyz_with_real_redis(database_url):
    broker = require("CELERY_BROKER_URL", "redis")
    response = make_app(database_url, CELERY_BROKER_URL=broker).test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()


def test_readyz_503_when_broker_unreachable(database_url):
    app = make_app(database_url, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] != "ok" and "127.0.0.1" not in body["checks"]["broker"]


def test_readyz_503_when_database_unreachable():
    app = make_app("postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "OperationalError"
    assert "secret" not in response.get_data(as_text=True)


def test_heartbeat_with_broker_down_is_503(committed_app_factory):
    app = committed_app_factory(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    client = app.test_client()
    response = client.post("/v1/system/heartbeats", headers=Factory(app, client).login("admin")[1])
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
