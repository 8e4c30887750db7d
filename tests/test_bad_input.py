"""Bad input gets a clear problem+json and changes nothing."""

import gzip
import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Article, ArticleRevision
from tests.conftest import make_app


def _counts(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))
                     for m in (Article, ArticleRevision))


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"]
    return body


RAW_BODIES = [
    (b'{"language": "en",', "application/json", 400),
    (b'\xff\xfe{"language": "en"}', "application/json", 400),
    (b'{"language": "en", "body": "\xc3\x28"}', "application/json", 400),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
    (b'{"language": "en"}', "text/plain", 415),
    (b'language=en', "application/x-www-form-urlencoded", 415),
    (b'[]', "application/json", 422),
    (b'"just a string"', "application/json", 422),
    (b'{"language": "en", "body": 5}', "application/json", 422),
    (b'{"language": "en", "tags": "notalist"}', "application/json", 422),
    (b'{"language": "en", "secret_field": 1}', "application/json", 422),
    (b'{"language": "english please"}', "application/json", 422),
    (b'{"language": "en_US"}', "application/json", 422),
    (b'{"body": "no language"}', "application/json", 422),
    (b'{"language": "en", "body": "<script>alert(1)</script>"}', "application/json", 422),
    (b'{"language": "en", "headline": "<b>bold</b>"}', "application/json", 422),
    (b'{"language": "en", "body": "nul \\u0000 byte"}', "application/json", 422),
    (b'{"language": "en", "body": "lone \\ud800 surrogate"}', "application/json", 422),
    (b'{"language": "en", "source_url": "javascript:alert(1)"}', "application/json", 422),
    (b'{"language": "en", "source_url": "http://"}', "application/json", 422),
    (b'{"language": "en", "tags": [""]}', "application/json", 422),
]


@pytest.mark.parametrize(("raw", "content_type", "status"), RAW_BODIES)
def test_bad_create_bodies_change_nothing(client, app, writer, raw, content_type, status):
    before = _counts(app)
    response = client.post("/v1/articles", data=raw, content_type=content_type, headers=writer[1])
    _problem(response, status)
    assert _counts(app) == before


def test_validation_errors_name_each_field(client, writer):
    response = client.post("/v1/articles", headers=writer[1], json={
        "language": "xx-invalid-tag-that-is-long", "tags": ["ok", 3], "bogus": True,
    })
    errors = _problem(response, 422)["errors"]
    fields = {(e["location"], e["field"]) for e in errors}
    assert {("json", "/language"), ("json", "/tags/1"), ("json", "/bogus")} <= fields


def test_bad_update_changes_nothing(client, app, factory, writer):
    created = factory.article(writer[1])
    url = f"/v1/articles/{created['id']}"
    headers = {**writer[1], "If-Match": '"v1"'}
    _problem(client.patch(url, data=b"{", content_type="application/json", headers=headers), 400)
    _problem(client.patch(url, json={"body": 1, "summary": "ok"}, headers=headers), 422)
    _problem(client.patch(url, json={"state": "published"}, headers=headers), 422)
    after = client.get(url, headers=writer[1])
    assert after.headers["ETag"] == '"v1"' and after.get_json()["summary"] == ""


def test_oversized_body_is_413(app, client, writer):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        response = client.post("/v1/articles", json={"language": "en", "body": "x" * 2000},
                               headers=writer[1])
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    _problem(response, 413)


def test_field_length_limits(client, writer):
    response = client.post("/v1/articles", headers=writer[1],
                           json={"language": "en", "headline": "h" * 1001})
    assert _problem(response, 422)["errors"][0]["field"] == "/headline"


def test_text_is_stored_nfc(client, writer):
    decomposed = "e\u0301t\u0301e\u0301"  # e + combining acute accents
    created = client.post("/v1/articles", json={"language": "fr", "headline": decomposed},
                          headers=writer[1]).get_json()
    assert created["headline"] == "\u00e9t\u0301\u00e9"


def test_plain_text_with_angle_brackets_is_kept(client, writer):
    text = "a < b and c > d, 3<4, Tom & Jerry"
    created = client.post("/v1/articles", json={"language": "en", "body": text},
                          headers=writer[1]).get_json()
    assert created["body"] == text


def test_unknown_route_and_method(client, writer):
    _problem(client.get("/v1/nothing-here", headers=writer[1]), 404)
    response = client.put("/v1/articles", json={}, headers=writer[1])
    _problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_unexpected_error_is_500_without_internals(database_url):
    broken = make_app(database_url)

    @broken.get("/v1/explode")
    def explode():
        raise RuntimeError("secret internals: password=hunter2")

    response = broken.test_client().get("/v1/explode")
    body = _problem(response, 500)
    assert "hunter2" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)
    assert body["type"] == "about:blank"


def test_overlong_language_tag_is_422(client, writer):
    tag = "lwh-Q-lvmz0-VYLcWsxZ-lshHhK0-qmEu-GXacpneQ-I64As"  # found by schemathesis: a 500
    response = client.post("/v1/articles", json={"language": tag}, headers=writer[1])
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "/language"


@pytest.mark.parametrize(("url", "status"), [
    ("/v1/review-queue?assignee=%00x", 422),  # found by schemathesis: a 500 on PostgreSQL
    ("/v1/articles?author=a%00b", 422),
    ("/v1/articles?source=%00", 422),
    ("/v1/articles/ab%00cd", 404),
    ("/v1/imports/%00", 404),
])
def test_nul_in_urls(client, editor, url, status):
    response = client.get(url, headers=editor[1])
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"


class WatchedBody(io.BytesIO):
    """A request body that records whether anyone read it."""

    read_at_all = False

    def read(self, *args):
        WatchedBody.read_at_all = True
        return super().read(*args)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer mh_invented"}])
def test_anonymous_bodies_are_never_read(client, headers):
    """Authentication comes before the body: 10 MiB sent without a valid token costs a
    token lookup, not a parse."""
    WatchedBody.read_at_all = False
    response = client.post("/v1/imports?source=x", input_stream=WatchedBody(b"x" * (10 * 1024 * 1024)),
                           content_type="text/plain", headers=headers)
    assert response.status_code == 401 and not WatchedBody.read_at_all


def test_writers_cannot_make_admin_routes_read_their_bodies(client, writer):
    WatchedBody.read_at_all = False
    response = client.post("/v1/outlets", input_stream=WatchedBody(b"{" * 500_000),
                           content_type="application/json", headers=writer[1])
    assert response.status_code == 403 and not WatchedBody.read_at_all


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "x-custom"])
def test_compressed_bodies_are_refused_not_stored(client, writer, encoding):
    body = gzip.compress("نص عربي".encode())
    response = client.post("/v1/imports?source=x", data=body, content_type="text/plain",
                           headers={**writer[1], "Content-Encoding": encoding})
    assert _problem(response, 415)["detail"].startswith("Content-Encoding")
    assert client.get("/v1/articles", headers=writer[1]).get_json()["items"] == []


def _chunked(client, url, size, headers, content_type="text/plain"):
    """A body without Content-Length, as gunicorn hands a chunked upload over (de-chunked,
    the stream marked as ending by itself)."""
    return client.post(url, input_stream=io.BytesIO(b"x" * size), content_type=content_type,
                       headers={**headers, "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_chunked_bodies_over_the_limit_are_413_and_store_nothing(app, client, writer):
    app.config["IMPORT_MAX_BYTES"] = 5000
    try:
        over = _chunked(client, "/v1/imports?source=x", 5001, writer[1])
        at = _chunked(client, "/v1/imports?source=x", 5000, writer[1])
        json_over = _chunked(client, "/v1/articles", app.config["MAX_CONTENT_LENGTH"] + 1, writer[1],
                             content_type="application/json")
    finally:
        app.config["IMPORT_MAX_BYTES"] = 10 * 1024 * 1024
    assert _problem(over, 413)["detail"] == "The body is larger than 5000 bytes."
    assert at.status_code == 202
    assert _problem(json_over, 413)
    imported = client.get(f"/v1/imports/{at.get_json()['id']}", headers=writer[1]).get_json()
    assert imported["size"] == 5000
    assert len(client.get("/v1/articles", headers=writer[1]).get_json()["items"]) == 1


@pytest.mark.parametrize("number", [2 ** 31, 2 ** 31 - 1, 2 ** 63, 0, -1])
def test_database_sized_integers_never_reach_the_database(client, writer, number):
    """A revision number past 32 bits is a 404 (path) or 422 (query, body), never a 500."""
    article = client.post("/v1/articles", json={"language": "en", "body": "text"}, headers=writer[1])
    url = f"/v1/articles/{article.get_json()['id']}"
    assert client.get(f"{url}/revisions/{number}", headers=writer[1]).status_code == 404
    diff = client.get(f"{url}/revisions/diff?from=1&to={number}", headers=writer[1])
    assert diff.status_code in (404, 422), diff.get_json()
    comment = client.post(f"{url}/comments", json={"body": "x", "revision": number}, headers=writer[1])
    assert comment.status_code in (404, 422), comment.get_json()
    restore = client.post(f"{url}/cleanup/restore", json={"index": number},
                          headers={**writer[1], "If-Match": article.headers["ETag"]})
    assert restore.status_code in (404, 422), restore.get_json()
