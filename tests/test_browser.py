"""What browsers get: security headers on every response, CORS preflights for the
editorial API (configured origins only) and the public endpoints (any site by default)."""

import pytest

from tests.conftest import make_app
from tests.experiment_helpers import site_key

PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key"}


@pytest.fixture(scope="module")
def desk_app(tmp_path_factory):
    from app import migrate
    url = f"sqlite:///{tmp_path_factory.mktemp('cors') / 'm.db'}"
    migrate.upgrade(url)
    return make_app(url, CORS_ORIGINS="https://desk.example.org",
                    PUBLIC_CORS_ORIGINS="https://www.example.org")


@pytest.mark.parametrize("path", ["/healthz", "/v1/articles", "/v1/nowhere"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_public_endpoints_preflight_from_any_site_by_default(client):
    response = client.options("/v1/events", headers={**PREFLIGHT, "Origin": "https://news.example"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://news.example")
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    served = client.get("/v1/serve/headlines?articles=A&visitor=v1&key=pk_x",
                        headers={"Origin": "https://news.example"})
    assert served.headers["Access-Control-Allow-Origin"] in ("*", "https://news.example")


def test_editorial_api_refuses_cross_origin_by_default(client):
    response = client.options("/v1/articles", headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_configured_origins(desk_app):
    client = desk_app.test_client()
    allowed = client.options("/v1/articles", headers={**PREFLIGHT, "Origin": "https://desk.example.org"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://desk.example.org"
    assert "Idempotency-Key" in allowed.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    other = client.options("/v1/articles", headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    public = client.options("/v1/events", headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in public.headers
    read = client.get("/v1/articles", headers={"Origin": "https://desk.example.org"})
    assert read.status_code == 401  # CORS lets the browser read the answer, not skip auth
    assert "ETag" in read.headers["Access-Control-Expose-Headers"]
    assert "Origin" in read.headers["Vary"]  # caches keep one answer per origin


def test_body_limits_per_route(client, monkeypatch, app, admin):
    """An event batch has its own (smaller) limit; other JSON bodies the general one."""
    monkeypatch.setitem(app.config, "EVENTS_MAX_BYTES", 1000)
    big = b'{"events": [' + b",".join([b'{"type": "impression"}'] * 100) + b"]}"
    key = site_key(client, admin[1])  # the key is checked before the body is read
    refused = client.post(f"/v1/events?key={key}", data=big, content_type="application/json")
    assert refused.status_code == 413 and refused.content_type == "application/problem+json"
    elsewhere = client.post("/v1/articles", data=big, content_type="application/json")
    assert elsewhere.status_code == 401  # under MAX_BODY_BYTES: it reaches authentication
