"""Idempotency-Key on creating POSTs: replays, mismatches, and concurrent retries."""

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from app.extensions import db
from app.models import Article, IdempotencyRecord
from tests.factories import Factory


def test_replay_returns_first_response(client, writer):
    headers = {**writer[1], "Idempotency-Key": "create-1"}
    first = client.post("/v1/articles", json={"language": "en", "headline": "A"}, headers=headers)
    again = client.post("/v1/articles", json={"language": "en", "headline": "A"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    listed = client.get("/v1/articles", headers=writer[1]).get_json()["items"]
    assert len(listed) == 1


def test_same_key_other_body_is_422(client, writer):
    headers = {**writer[1], "Idempotency-Key": "create-2"}
    client.post("/v1/articles", json={"language": "en", "headline": "A"}, headers=headers)
    other = client.post("/v1/articles", json={"language": "en", "headline": "B"}, headers=headers)
    assert other.status_code == 422
    assert other.get_json()["errors"][0]["field"] == "/Idempotency-Key"


def test_keys_are_per_user(client, factory, writer):
    _other, other_headers = factory.login("writer")
    body = {"language": "en", "headline": "A"}
    mine = client.post("/v1/articles", json=body, headers={**writer[1], "Idempotency-Key": "k"})
    theirs = client.post("/v1/articles", json=body, headers={**other_headers, "Idempotency-Key": "k"})
    assert mine.get_json()["id"] != theirs.get_json()["id"]


def test_failed_request_does_not_burn_the_key(client, writer):
    headers = {**writer[1], "Idempotency-Key": "create-3"}
    bad = client.post("/v1/articles", json={"language": "en", "assignee_id": "ghost"}, headers=headers)
    assert bad.status_code == 422
    good = client.post("/v1/articles", json={"language": "en", "assignee_id": "ghost"}, headers=headers)
    assert good.status_code == 422 and "Idempotent-Replayed" not in good.headers


def test_invalid_key_is_422(client, writer):
    headers = {**writer[1], "Idempotency-Key": "x" * 300}
    response = client.post("/v1/articles", json={"language": "en"}, headers=headers)
    assert response.status_code == 422


def test_concurrent_retries_create_exactly_one(committed_app):
    client = committed_app.test_client()
    _user, headers = Factory(committed_app, client).login("writer")
    headers = {**headers, "Idempotency-Key": "race-1"}

    def post(_):
        with committed_app.test_client() as own:
            response = own.post("/v1/articles", json={"language": "ar", "headline": "سباق"},
                                headers=headers)
            return response.status_code, response.get_json().get("id"), \
                response.headers.get("Idempotent-Replayed")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(post, range(16)))
    statuses = {status for status, _id, _replayed in results}
    ids = {article_id for _status, article_id, _replayed in results}
    assert statuses <= {201, 409}, results  # 409 only while the first is still running
    assert len(ids - {None}) == 1
    with committed_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Article)) == 1
        assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_idempotent_create_returns_a_complete_body(client, admin):
    headers = {**admin[1], "Idempotency-Key": "user-1"}
    body = {"email": "new@example.org", "role": "editor"}
    first = client.post("/v1/users", json=body, headers=headers).get_json()
    assert first["id"] and first["is_active"] is True and first["created_at"]
    assert client.post("/v1/users", json=body, headers=headers).get_json() == first
