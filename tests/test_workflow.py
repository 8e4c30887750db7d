"""The review workflow through the API: four-eyes, pinning, corrections, embargo, history,
comments and the review queue."""

from datetime import timedelta
from pathlib import Path

import pytest

from app.extensions import db
from app.models import AuditEvent, utcnow
from tests.assertions import assert_write_once
from tests.factories import Factory
from tests.workflow_helpers import transition

SEED = (Path(__file__).parent / "fixtures" / "seed" / "000_b0cbef1f536209a0.txt").read_text("utf-8")


@pytest.fixture
def desk(factory):
    """A writer and an editor, and a draft by the writer."""
    writer = factory.login("writer")
    editor = factory.login("editor")
    article = factory.article(writer[1], body="para one\npara two", headline="Draft headline")
    return writer[1], editor[1], article


def _approved(client, desk):
    writer, editor, article = desk
    assert transition(client, article, writer, "submit").status_code == 200
    approved = transition(client, article, editor, "approve")
    assert approved.status_code == 200, approved.get_json()
    return approved.get_json()


def _edit(client, article_id, headers, **changes):
    etag = client.get(f"/v1/articles/{article_id}", headers=headers).headers["ETag"]
    return client.patch(f"/v1/articles/{article_id}", json=changes,
                        headers={**headers, "If-Match": etag})


def test_seed_article_through_the_whole_workflow(client, factory):
    writer_user, writer = factory.login("writer")
    editor_user, editor = factory.login("editor")
    created = client.post("/v1/articles", headers=writer, json={
        "language": "ar", "headline": SEED.splitlines()[8], "body": "\n".join(SEED.splitlines()[:8]),
    }).get_json()
    steps = [
        (writer, "submit", {}, "in_review"),
        (editor, "request_changes", {"comment": "أضف مصدر الخبر"}, "changes_requested"),
        (writer, "submit", {}, "in_review"),
        (editor, "approve", {}, "approved"),
        (editor, "schedule", {"publish_at": (utcnow() + timedelta(hours=1)).isoformat()},
         "scheduled"),
        (editor, "publish", {}, "published"),
    ]
    for headers, action, extra, state in steps:
        response = transition(client, created, headers, action, **extra)
        assert response.status_code == 200, (action, response.get_json())
        assert response.get_json()["state"] == state
    final = client.get(f"/v1/articles/{created['id']}", headers=editor).get_json()
    assert final["live_revision"] == final["approved_revision"] == final["revision"]
    assert final["published_at"] and final["publish_at"] is None
    assert final["publish_lateness_seconds"] is None  # published by hand

    history = client.get(f"/v1/articles/{created['id']}/history", headers=writer).get_json()["items"]
    assert [(e["action"], e["from_state"], e["to_state"]) for e in history] == [
        ("create", None, "draft"),
        ("submit", "draft", "in_review"),
        ("request_changes", "in_review", "changes_requested"),
        ("submit", "changes_requested", "in_review"),
        ("approve", "in_review", "approved"),
        ("schedule", "approved", "scheduled"),
        ("publish", "scheduled", "published"),
    ]
    actors = [e["actor_id"] for e in history]
    assert actors == [writer_user.id, writer_user.id, editor_user.id, writer_user.id,
                      editor_user.id, editor_user.id, editor_user.id]
    assert history[2]["comment"] == "أضف مصدر الخبر"
    assert "publish_at" in history[5]["details"]


def test_four_eyes(client, factory):
    _author, author = factory.login("editor")
    _other, other = factory.login("editor")
    article = factory.article(author)
    transition(client, article, author, "submit")
    own = transition(client, article, author, "approve")
    assert own.status_code == 403 and "Four-eyes" in own.get_json()["detail"]
    assert "approve" not in client.get(f"/v1/articles/{article['id']}",
                                       headers=author).get_json()["allowed_actions"]
    assert transition(client, article, other, "approve").status_code == 200
    assert transition(client, article, author, "publish").status_code == 403
    assert transition(client, article, other, "publish").status_code == 200


def _rewrite(client, article_id, headers, **fields):
    etag = client.get(f"/v1/articles/{article_id}", headers=headers).headers["ETag"]
    response = client.patch(f"/v1/articles/{article_id}", json=fields, headers={**headers, "If-Match": etag})
    assert response.status_code == 200, response.get_json()


def test_four_eyes_counts_everyone_who_wrote_the_copy(client, factory):
    """An editor who rewrites a writer's article may not approve or publish it alone."""
    _writer, writer = factory.login("writer")
    _rewriter, rewriter = factory.login("editor")
    _other, other = factory.login("editor")
    article = factory.article(writer)
    _rewrite(client, article["id"], rewriter, body="Rewritten by the desk.")
    assert transition(client, article, rewriter, "submit").status_code == 200
    refused = transition(client, article, rewriter, "approve")
    assert refused.status_code == 403 and "Four-eyes" in refused.get_json()["detail"]
    assert transition(client, article, other, "approve").status_code == 200
    assert transition(client, article, rewriter, "publish").status_code == 403
    assert transition(client, article, other, "publish").status_code == 200
    # A correction of the live copy: only its own writer is new; the first round is approved.
    _rewrite(client, article["id"], other, body="Corrected.")
    assert transition(client, article, other, "submit").status_code == 200
    assert transition(client, article, other, "approve").status_code == 403
    assert transition(client, article, rewriter, "approve").status_code == 200


def test_writing_a_headline_candidate_counts_as_writing(client, factory):
    _author, author = factory.login("writer")
    _editor, editor = factory.login("editor")
    _other, other = factory.login("editor")
    article = factory.article(author)
    etag = client.get(f"/v1/articles/{article['id']}", headers=editor).headers["ETag"]
    added = client.post(f"/v1/articles/{article['id']}/headlines", json={"text": "عنوان بديل"},
                        headers={**editor, "If-Match": etag})
    assert added.status_code == 201, added.get_json()
    transition(client, article, author, "submit")
    assert transition(client, article, editor, "approve").status_code == 403
    assert transition(client, article, other, "approve").status_code == 200


def test_four_eyes_can_be_relaxed(committed_app_factory):
    app = committed_app_factory(FOUR_EYES_REQUIRED=False)
    client = app.test_client()
    factory = Factory(app, client)
    _author, author = factory.login("editor")
    article = factory.article(author)
    transition(client, article, author, "submit")
    assert transition(client, article, author, "approve").status_code == 200
    assert transition(client, article, author, "publish").status_code == 200


def test_writers_submit_only_their_own(client, factory, desk):
    _writer, _editor, article = desk
    stranger = factory.login("writer")[1]
    response = transition(client, article, stranger, "submit")
    assert response.status_code == 403


def test_request_changes_needs_a_comment_and_records_it(client, desk):
    writer, editor, article = desk
    transition(client, article, writer, "submit")
    for extra in ({}, {"comment": "   "}):
        response = transition(client, article, editor, "request_changes", **extra)
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["field"] == "/comment"
    ok = transition(client, article, editor, "request_changes", comment="Source the quote.")
    assert ok.status_code == 200
    comments = client.get(f"/v1/articles/{article['id']}/comments", headers=writer).get_json()
    assert [c["body"] for c in comments] == ["Source the quote."]
    assert comments[0]["revision_id"] == ok.get_json()["revision"]["id"]


def test_illegal_action_is_409_with_state_and_allowed_actions(client, desk):
    _writer, editor, article = desk
    response = transition(client, article, editor, "publish")
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["current_state"] == "draft"
    assert problem["allowed_actions"] == ["submit", "archive"]


def test_transition_needs_if_match(client, desk):
    writer, _editor, article = desk
    url = f"/v1/articles/{article['id']}/transitions"
    assert client.post(url, json={"action": "submit"}, headers=writer).status_code == 428
    stale = client.post(url, json={"action": "submit"}, headers={**writer, "If-Match": '"v0"'})
    assert stale.status_code == 412
    bad = client.post(url, json={"action": "fly"}, headers={**writer, "If-Match": "*"})
    assert bad.status_code == 422


def test_approval_pins_the_revision_and_edits_send_it_back(client, desk):
    writer, editor, article = desk
    approved = _approved(client, desk)
    assert approved["approved_revision"] == approved["revision"]
    edited = _edit(client, article["id"], writer, body="para one\npara two, fixed").get_json()
    assert edited["state"] == "in_review" and edited["approved_revision"] is None
    assert "approve" in client.get(f"/v1/articles/{article['id']}",
                                   headers=editor).get_json()["allowed_actions"]


def test_metadata_edit_keeps_approval(client, factory, desk):
    _writer, editor, article = desk
    _approved(client, desk)
    other = factory.user("writer")
    kept = _edit(client, article["id"], editor, assignee_id=other.id).get_json()
    assert kept["state"] == "approved" and kept["approved_revision"] is not None


def test_editing_scheduled_copy_unschedules_it(client, desk):
    writer, editor, article = desk
    _approved(client, desk)
    when = (utcnow() + timedelta(hours=3)).isoformat()
    assert transition(client, article, editor, "schedule", publish_at=when).status_code == 200
    edited = _edit(client, article["id"], writer, headline="New headline").get_json()
    assert edited["state"] == "in_review" and edited["publish_at"] is None


def test_schedule_needs_a_future_time(client, desk):
    _writer, editor, article = desk
    _approved(client, desk)
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    for extra in ({}, {"publish_at": past}, {"publish_at": "2030-01-01T00:00:00"}):
        assert transition(client, article, editor, "schedule", **extra).status_code == 422, extra
    wrong_action = transition(client, article, editor, "publish", publish_at=past)
    assert wrong_action.status_code == 422


def test_corrections_keep_the_live_revision_until_republished(client, desk):
    writer, editor, article = desk
    _approved(client, desk)
    published = transition(client, article, editor, "publish").get_json()
    live = published["live_revision"]
    correction = _edit(client, article["id"], writer, body="para one\npara two (corrected)")
    body = correction.get_json()
    assert body["state"] == "draft" and body["is_live"] is True
    assert body["live_revision"] == live and body["revision"]["number"] == live["number"] + 1
    assert transition(client, article, writer, "submit").status_code == 200
    assert transition(client, article, editor, "approve").status_code == 200
    republished = transition(client, article, editor, "publish").get_json()
    assert republished["live_revision"] == republished["revision"] != live
    assert republished["published_at"] == published["published_at"]
    assert republished["last_published_at"] > published["last_published_at"]


def test_unpublish_archive_restore(client, desk):
    writer, editor, article = desk
    _approved(client, desk)
    transition(client, article, editor, "publish")
    assert transition(client, article, editor, "archive").status_code == 409  # live
    url = f"/v1/articles/{article['id']}"
    assert client.delete(url, headers={**editor, "If-Match": "*"}).status_code == 409
    down = transition(client, article, editor, "unpublish").get_json()
    assert down["state"] == "unpublished" and down["is_live"] is False
    assert transition(client, article, editor, "archive").get_json()["state"] == "archived"
    assert _edit(client, article["id"], writer, body="x").status_code == 409
    assert transition(client, article, editor, "restore").get_json()["state"] == "draft"


def test_unpublish_during_a_correction(client, desk):
    writer, editor, article = desk
    _approved(client, desk)
    transition(client, article, editor, "publish")
    _edit(client, article["id"], writer, body="correction")
    transition(client, article, writer, "submit")
    down = transition(client, article, editor, "unpublish")
    assert down.status_code == 200 and down.get_json()["is_live"] is False


def test_embargo_blocks_publish_and_schedule(client, desk):
    writer, editor, article = desk
    embargo = utcnow() + timedelta(hours=2)
    _edit(client, article["id"], writer, embargo_until=embargo.isoformat())
    _approved(client, desk)
    now = transition(client, article, editor, "publish")
    assert now.status_code == 409 and "embargo" in now.get_json()["detail"]
    early = (embargo - timedelta(minutes=5)).isoformat()
    assert transition(client, article, editor, "schedule", publish_at=early).status_code == 409
    late = (embargo + timedelta(minutes=5)).isoformat()
    assert transition(client, article, editor, "schedule", publish_at=late).status_code == 200
    later_embargo = (embargo + timedelta(hours=1)).isoformat()
    assert _edit(client, article["id"], editor, embargo_until=later_embargo).status_code == 409


def test_comments_add_list_resolve(client, factory, desk):
    writer, editor, article = desk
    url = f"/v1/articles/{article['id']}/comments"
    first = client.post(url, json={"body": "Check the figure", "revision": 1}, headers=editor)
    assert first.status_code == 201
    assert client.post(url, json={"body": "x", "revision": 9}, headers=editor).status_code == 404
    assert client.post(url, json={"body": ""}, headers=editor).status_code == 422
    comment = first.get_json()
    stranger = factory.login("writer")[1]
    resolve = f"{url}/{comment['id']}/resolve"
    assert client.post(resolve, headers=stranger).status_code == 403
    resolved = client.post(resolve, headers=writer).get_json()
    assert resolved["resolved_at"] and client.post(resolve, headers=writer).get_json() == resolved
    assert client.get(f"{url}?resolved=false", headers=writer).get_json() == []
    assert len(client.get(f"{url}?resolved=true", headers=writer).get_json()) == 1


def test_review_queue_oldest_first_and_filters(client, factory):
    writer_user, writer = factory.login("writer")
    _editor, editor = factory.login("editor")
    ids = []
    for n in range(3):
        article = factory.article(writer, headline=f"story {n}",
                                  assignee_id=writer_user.id if n == 1 else None)
        transition(client, article, writer, "submit")
        ids.append(article["id"])
    factory.article(writer, headline="still a draft")
    queue = client.get("/v1/review-queue", headers=editor).get_json()
    assert [a["id"] for a in queue["items"]] == ids
    page = client.get("/v1/review-queue?limit=2", headers=editor)
    assert len(page.get_json()["items"]) == 2 and 'rel="next"' in page.headers["Link"]
    mine = client.get(f"/v1/review-queue?assignee={writer_user.id}", headers=editor).get_json()
    assert [a["id"] for a in mine["items"]] == [ids[1]]
    assert client.get("/v1/review-queue", headers=writer).status_code == 403
    in_review = client.get("/v1/articles?state=in_review&assignee=me", headers=writer).get_json()
    assert [a["id"] for a in in_review["items"]] == [ids[1]]


def test_audit_log_cannot_be_changed(app, desk):
    with app.app_context():
        event_id = db.session.query(AuditEvent.id).limit(1).scalar()
    assert_write_once(app, AuditEvent, event_id, "comment", "append-only")


def test_history_has_no_write_methods(client, desk):
    writer, _editor, article = desk
    url = f"/v1/articles/{article['id']}/history"
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.open(url, method=method, headers=writer).status_code == 405


def test_every_edit_is_audited(client, desk):
    writer, _editor, article = desk
    _edit(client, article["id"], writer, tags=["politics"])
    history = client.get(f"/v1/articles/{article['id']}/history", headers=writer).get_json()["items"]
    assert history[-1]["action"] == "edit" and history[-1]["details"] == {"fields": ["tags"]}
