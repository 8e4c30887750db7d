"""Headline candidates: proposals from cleanup, editing, review, pinning, going live."""

from pathlib import Path

import pytest

from app.editorial import cleanup
from tests.workflow_helpers import transition

SEED = (Path(__file__).parent / "fixtures" / "seed" / "000_b0cbef1f536209a0.txt").read_bytes()


@pytest.fixture
def imported(app, client, factory):
    """The seed page imported by a writer and cleaned; an editor to review it."""
    writer = factory.login("writer")[1]
    editor = factory.login("editor")[1]
    created = client.post("/v1/imports?source=aawsat", data=SEED, headers=writer,
                          content_type="text/plain; charset=utf-8").get_json()
    with app.app_context():
        cleanup.execute(created["runs"][0]["id"])
    return created["article_id"], writer, editor


def _etag(client, article_id, headers):
    return {**headers, "If-Match": client.get(f"/v1/articles/{article_id}", headers=headers)
            .headers["ETag"]}


def test_cleanup_candidates_arrive_as_proposals(client, imported):
    article_id, writer, _editor = imported
    candidates = client.get(f"/v1/articles/{article_id}/headlines", headers=writer).get_json()
    assert [(c["origin"], c["status"], c["position"]) for c in candidates] == [
        ("extracted", "proposed", 0), ("extracted", "proposed", 1)]
    assert candidates[0]["text"].startswith("وزير الخارجية")


def test_add_accept_reject_edit_reorder_remove(client, imported):
    article_id, writer, _editor = imported
    url = f"/v1/articles/{article_id}/headlines"
    proposals = client.get(url, headers=writer).get_json()
    assert client.post(url, json={"text": "x"}, headers=writer).status_code == 428
    added = client.post(url, json={"text": "كيري ولافروف في جنيف غدًا"},
                        headers=_etag(client, article_id, writer))
    assert added.status_code == 201 and added.get_json()["status"] == "accepted"
    duplicate = client.post(url, json={"text": "كيرى ولافروف فى جنيف غدا"},
                            headers=_etag(client, article_id, writer))
    assert duplicate.status_code == 409  # the same after folding
    first, second = proposals
    assert client.patch(f"{url}/{first['id']}", json={"status": "accepted"},
                        headers=_etag(client, article_id, writer)).get_json()["status"] == "accepted"
    assert client.patch(f"{url}/{second['id']}", json={"status": "rejected"},
                        headers=_etag(client, article_id, writer)).status_code == 200
    edited = client.patch(f"{url}/{first['id']}", json={"text": "وزير الخارجية يلتقي لافروف"},
                          headers=_etag(client, article_id, writer)).get_json()
    assert edited["text"] == "وزير الخارجية يلتقي لافروف"
    order = [added.get_json()["id"], second["id"], first["id"]]
    reordered = client.put(f"{url}/order", json={"ids": order},
                           headers=_etag(client, article_id, writer)).get_json()
    assert [c["id"] for c in reordered] == order
    assert client.put(f"{url}/order", json={"ids": order[:2]},
                      headers=_etag(client, article_id, writer)).status_code == 422
    assert client.delete(f"{url}/{second['id']}",
                         headers=_etag(client, article_id, writer)).status_code == 204
    assert [c["id"] for c in client.get(url, headers=writer).get_json()] == [order[0], order[2]]
    assert client.delete(f"{url}/{second['id']}",
                         headers=_etag(client, article_id, writer)).status_code == 404
    history = client.get(f"/v1/articles/{article_id}/history", headers=writer).get_json()["items"]
    assert [e["action"] for e in history][-6:] == [
        "headline_added", "headline_changed", "headline_changed", "headline_changed",
        "headlines_reordered", "headline_removed"]


def test_approval_pins_accepted_candidates_and_publish_makes_them_live(client, imported):
    article_id, writer, editor = imported
    url = f"/v1/articles/{article_id}/headlines"
    proposals = client.get(url, headers=writer).get_json()
    for candidate in proposals:
        client.patch(f"{url}/{candidate['id']}", json={"status": "accepted"},
                     headers=_etag(client, article_id, writer))
    transition(client, article_id, writer, "submit")
    approved = transition(client, article_id, editor, "approve").get_json()
    assert approved["approved_headline_ids"] == [c["id"] for c in proposals]
    live = transition(client, article_id, editor, "publish").get_json()
    assert live["live_headline_ids"] == approved["approved_headline_ids"]

    # A new candidate is a correction: the article returns to draft, the live set stays.
    changed = client.post(url, json={"text": "عنوان ثالث للاختبار"},
                          headers=_etag(client, article_id, writer))
    assert changed.status_code == 201
    after = client.get(f"/v1/articles/{article_id}", headers=writer).get_json()
    assert after["state"] == "draft" and after["live_headline_ids"] == live["live_headline_ids"]
    assert after["approved_headline_ids"] == []
    down = transition(client, article_id, editor, "unpublish").get_json()
    assert down["live_headline_ids"] == []


def test_candidate_change_sends_approved_copy_back_to_review(client, imported):
    article_id, writer, editor = imported
    transition(client, article_id, writer, "submit")
    transition(client, article_id, editor, "approve")
    proposals = client.get(f"/v1/articles/{article_id}/headlines", headers=writer).get_json()
    client.patch(f"/v1/articles/{article_id}/headlines/{proposals[0]['id']}",
                 json={"status": "rejected"}, headers=_etag(client, article_id, writer))
    assert client.get(f"/v1/articles/{article_id}", headers=writer).get_json()["state"] == "in_review"


def test_rerun_does_not_duplicate_proposals(app, client, imported):
    article_id, writer, _editor = imported
    run = client.post(f"/v1/articles/{article_id}/cleanup/runs",
                      headers=_etag(client, article_id, writer)).get_json()
    with app.app_context():
        cleanup.execute(run["id"])
    assert len(client.get(f"/v1/articles/{article_id}/headlines", headers=writer).get_json()) == 2


def test_other_writers_cannot_touch_candidates(client, factory, imported):
    article_id, _writer, _editor = imported
    stranger = factory.login("writer")[1]
    response = client.post(f"/v1/articles/{article_id}/headlines", json={"text": "Nope nope"},
                           headers={**stranger, "If-Match": "*"})
    assert response.status_code == 403
