"""The seed article taken live with its two extracted headlines, ready to be tested."""

from pathlib import Path

from app.editorial import cleanup
from tests.workflow_helpers import transition

SEED = (Path(__file__).parent / "fixtures" / "seed" / "000_b0cbef1f536209a0.txt").read_bytes()


def etag_headers(client, article_id: str, headers: dict) -> dict:
    etag = client.get(f"/v1/articles/{article_id}", headers=headers).headers["ETag"]
    return {**headers, "If-Match": etag}


def live_seed_article(app, client, writer: dict, editor: dict, *, clean=None) -> tuple[str, list[str]]:
    """Import, clean, accept both headline proposals, review and publish the seed page.

    ``clean`` runs the cleanup run (default: in this process); returns the article id and
    the candidate ids in order.
    """
    created = client.post("/v1/imports?source=aawsat", data=SEED, headers=writer,
                          content_type="text/plain; charset=utf-8").get_json()
    if clean is None:
        with app.app_context():
            cleanup.execute(created["runs"][0]["id"])
    else:
        clean(created)
    article_id = created["article_id"]
    url = f"/v1/articles/{article_id}/headlines"
    candidates = [c["id"] for c in client.get(url, headers=writer).get_json()]
    for candidate_id in candidates:
        client.patch(f"{url}/{candidate_id}", json={"status": "accepted"},
                     headers=etag_headers(client, article_id, writer))
    assert transition(client, article_id, writer, "submit").status_code == 200
    assert transition(client, article_id, editor, "approve").status_code == 200
    assert transition(client, article_id, editor, "publish").status_code == 200
    return article_id, candidates


def site_key(client, admin: dict, name: str = "Front page") -> str:
    return client.post("/v1/sites", json={"name": name}, headers=admin).get_json()["key"]


def force_live_experiment(app, article_id: str, candidate_ids: list[str], *, start: bool) -> None:
    """Make the article live with these candidates (bypassing review), optionally testing them."""
    from app.experiments import experiments
    from app.extensions import db
    from app.models import Article, CandidateStatus, HeadlineCandidate
    from app.platform.uow import transaction
    from tests.workflow_helpers import S, force_state

    force_state(app, article_id, S.PUBLISHED)
    with app.app_context(), transaction():
        for candidate_id in candidate_ids:
            db.session.get(HeadlineCandidate, candidate_id).status = CandidateStatus.ACCEPTED
        article = db.session.get(Article, article_id)
        article.live_headline_ids = list(candidate_ids)
        if start:
            experiments.start_on_publish(article)
