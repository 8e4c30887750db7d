"""Revisions: immutable history, reading, and line diffs between any two."""

import pytest

from app.extensions import db
from app.models import ArticleRevision
from tests.assertions import assert_write_once


@pytest.fixture
def edited(client, factory, writer):
    created = factory.article(writer[1], body="one\ntwo\nthree", headline="H")
    url = f"/v1/articles/{created['id']}"
    client.patch(url, json={"body": "one\n2\nthree\nfour"}, headers={**writer[1], "If-Match": '"v1"'})
    client.patch(url, json={"headline": "H2"}, headers={**writer[1], "If-Match": '"v2"'})
    return created["id"], writer[1]


def test_list_and_read_revisions(client, edited):
    article_id, headers = edited
    page = client.get(f"/v1/articles/{article_id}/revisions", headers=headers).get_json()
    assert [r["number"] for r in page["items"]] == [1, 2, 3]
    assert page["items"][0]["body"] == "one\ntwo\nthree"
    first_two = client.get(f"/v1/articles/{article_id}/revisions?limit=2", headers=headers)
    assert "rel=\"next\"" in first_two.headers["Link"]
    one = client.get(f"/v1/articles/{article_id}/revisions/2", headers=headers).get_json()
    assert one["body"] == "one\n2\nthree\nfour" and one["headline"] == "H"
    assert client.get(f"/v1/articles/{article_id}/revisions/9", headers=headers).status_code == 404


def test_line_diff_between_any_two(client, edited):
    article_id, headers = edited
    diff = client.get(f"/v1/articles/{article_id}/revisions/diff?from=1&to=3",
                      headers=headers).get_json()
    assert set(diff["fields"]) == {"body", "headline"}
    hunks = diff["fields"]["body"]["hunks"]
    assert {"op": "replace", "from_line": 2, "from_lines": ["two"], "to_line": 2,
            "to_lines": ["2"]} in hunks
    assert {"op": "insert", "from_line": 4, "from_lines": [], "to_line": 4,
            "to_lines": ["four"]} in hunks
    assert "-two\n+2" in diff["fields"]["body"]["unified"]
    backwards = client.get(f"/v1/articles/{article_id}/revisions/diff?from=3&to=1",
                           headers=headers).get_json()
    assert backwards["fields"]["body"]["hunks"][0]["from_lines"] == ["2"]
    same = client.get(f"/v1/articles/{article_id}/revisions/diff?from=2&to=2", headers=headers)
    assert same.get_json()["fields"] == {}


def test_diff_needs_existing_revisions(client, edited):
    article_id, headers = edited
    assert client.get(f"/v1/articles/{article_id}/revisions/diff?from=1&to=7",
                      headers=headers).status_code == 404
    assert client.get(f"/v1/articles/{article_id}/revisions/diff?from=1",
                      headers=headers).status_code == 422


def test_revisions_of_missing_article_are_404(client, writer):
    assert client.get("/v1/articles/nope/revisions", headers=writer[1]).status_code == 404


def test_revisions_cannot_be_changed_or_deleted(app, edited):
    article_id, _ = edited
    with app.app_context():
        revision_id = db.session.query(ArticleRevision.id).filter_by(article_id=article_id).limit(1).scalar()
    assert_write_once(app, ArticleRevision, revision_id, "body", "immutable")
