"""Articles: create, read, update with If-Match, soft delete, permissions."""

from sqlalchemy import func, select

from app.extensions import db
from app.models import Article, ArticleRevision


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_create_returns_article_with_etag_and_location(client, writer):
    user, headers = writer
    response = client.post("/v1/articles", headers=headers, json={
        "language": "ar-eg", "headline": "عنوان", "body": "نص", "tags": ["سياسة"],
        "source_name": "aawsat", "source_url": "https://aawsat.com/x",
    })
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["ETag"] == '"v1"'
    assert response.headers["Location"] == f"/v1/articles/{body['id']}"
    assert body["language"] == "ar-EG" and body["direction"] == "rtl"
    assert body["state"] == "draft" and body["author_id"] == user.id
    assert body["revision"]["number"] == 1 and body["version"] == 1
    assert body["created_at"].endswith("+00:00")


def test_read_sends_etag(client, factory, writer):
    created = factory.article(writer[1])
    response = client.get(f"/v1/articles/{created['id']}", headers=writer[1])
    assert response.status_code == 200 and response.headers["ETag"] == '"v1"'
    assert response.get_json()["direction"] == "ltr"


def test_update_requires_if_match(client, factory, writer, app):
    created = factory.article(writer[1])
    response = client.patch(f"/v1/articles/{created['id']}", json={"body": "x"}, headers=writer[1])
    assert response.status_code == 428
    assert response.content_type == "application/problem+json"
    assert _count(app, ArticleRevision) == 1


def test_stale_if_match_is_412_and_changes_nothing(client, factory, writer, app):
    created = factory.article(writer[1])
    url = f"/v1/articles/{created['id']}"
    ok = client.patch(url, json={"body": "second"}, headers={**writer[1], "If-Match": '"v1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"v2"'
    stale = client.patch(url, json={"body": "third"}, headers={**writer[1], "If-Match": '"v1"'})
    assert stale.status_code == 412
    assert stale.get_json()["current_version"] == 2
    assert client.get(url, headers=writer[1]).get_json()["body"] == "second"
    assert _count(app, ArticleRevision) == 2


def test_if_match_star_and_unknown_tags(client, factory, writer):
    created = factory.article(writer[1])
    url = f"/v1/articles/{created['id']}"
    assert client.patch(url, json={"tags": ["a"]},
                        headers={**writer[1], "If-Match": "*"}).status_code == 200
    assert client.patch(url, json={"tags": ["b"]},
                        headers={**writer[1], "If-Match": '"garbage"'}).status_code == 412
    assert client.patch(url, json={"tags": ["b"]},
                        headers={**writer[1], "If-Match": 'W/"v2"'}).status_code == 412


def test_text_change_creates_revision_metadata_change_does_not(client, factory, writer):
    created = factory.article(writer[1])
    url = f"/v1/articles/{created['id']}"
    meta = client.patch(url, json={"tags": ["x"], "language": "fr"},
                        headers={**writer[1], "If-Match": '"v1"'}).get_json()
    assert meta["revision"]["number"] == 1 and meta["version"] == 2
    same = client.patch(url, json={"body": created["body"]},
                        headers={**writer[1], "If-Match": '"v2"'}).get_json()
    assert same["revision"]["number"] == 1
    text = client.patch(url, json={"summary": "new"},
                        headers={**writer[1], "If-Match": '"v3"'}).get_json()
    assert text["revision"]["number"] == 2 and text["summary"] == "new"
    assert text["body"] == created["body"]


def test_soft_delete_hides_article_but_keeps_revisions(client, factory, writer, app):
    created = factory.article(writer[1])
    url = f"/v1/articles/{created['id']}"
    assert client.delete(url, headers=writer[1]).status_code == 428
    assert client.delete(url, headers={**writer[1], "If-Match": '"v1"'}).status_code == 204
    assert client.get(url, headers=writer[1]).status_code == 404
    assert client.get("/v1/articles", headers=writer[1]).get_json()["items"] == []
    assert _count(app, Article) == 1 and _count(app, ArticleRevision) == 1


def test_writer_cannot_edit_someone_elses_article_but_assignee_can(client, factory, editor):
    _other, other_headers = factory.login("writer")
    assignee, assignee_headers = factory.login("writer")
    created = factory.article(editor[1], assignee_id=assignee.id)
    url = f"/v1/articles/{created['id']}"
    denied = client.patch(url, json={"body": "x"}, headers={**other_headers, "If-Match": "*"})
    assert denied.status_code == 403
    allowed = client.patch(url, json={"body": "x"}, headers={**assignee_headers, "If-Match": "*"})
    assert allowed.status_code == 200
    assert client.delete(url, headers={**other_headers, "If-Match": "*"}).status_code == 403


def test_editor_can_edit_any_article(client, factory, writer, editor):
    created = factory.article(writer[1])
    response = client.patch(f"/v1/articles/{created['id']}", json={"headline": "Better"},
                            headers={**editor[1], "If-Match": '"v1"'})
    assert response.status_code == 200
    revision = client.get(f"/v1/articles/{created['id']}/revisions/2", headers=editor[1]).get_json()
    assert revision["created_by_id"] == editor[0].id


def test_unknown_assignee_is_422(client, writer):
    response = client.post("/v1/articles", headers=writer[1],
                           json={"language": "en", "assignee_id": "nobody"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "/assignee_id"


def test_missing_article_is_404_problem(client, writer):
    response = client.get("/v1/articles/01nonexistent", headers=writer[1])
    assert response.status_code == 404
    problem = response.get_json()
    assert problem["status"] == 404 and problem["type"].endswith(":not-found")


def test_malformed_if_match_is_412_not_an_error(client, factory, writer):
    created = factory.article(writer[1])
    for value in ('W/"", "", "e,"', '""', ",", '"v"', '"v99999999999"'):
        response = client.delete(f"/v1/articles/{created['id']}",
                                  headers={**writer[1], "If-Match": value})
        assert response.status_code == 412, value
