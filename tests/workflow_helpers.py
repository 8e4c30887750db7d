"""Helpers that put articles into a given workflow state for table-driven tests."""

from datetime import timedelta

from app.extensions import db
from app.models import Article, ArticleState, utcnow
from app.platform.uow import transaction

S = ArticleState


def force_state(app, article_id: str, state: ArticleState, *, live: bool | None = None) -> None:
    """Set ``state`` directly, with the fields a real path to it would have set.

    ``live`` defaults to what the state implies (published: live; others: not live).
    """
    live = (state == S.PUBLISHED) if live is None else live
    with app.app_context(), transaction():
        article = db.session.get(Article, article_id)
        article.state = state
        approved = state in (S.APPROVED, S.SCHEDULED, S.PUBLISHED)
        article.approved_revision_id = article.latest_revision_id if approved else None
        article.publish_at = utcnow() + timedelta(hours=1) if state == S.SCHEDULED else None
        article.submitted_at = utcnow() if state == S.IN_REVIEW else None
        article.live_revision_id = article.latest_revision_id if live else None
        article.published_at = utcnow() if live else None


def transition(client, article: dict | str, headers: dict, action: str, **extra):
    article_id = article if isinstance(article, str) else article["id"]
    etag = client.get(f"/v1/articles/{article_id}", headers=headers).headers["ETag"]
    return client.post(f"/v1/articles/{article_id}/transitions", json={"action": action, **extra},
                       headers={**headers, "If-Match": etag})
