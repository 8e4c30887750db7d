"""The audit log: appended to inside each use case's transaction, never changed."""

from sqlalchemy import select

from app.extensions import db
from app.models import Article, AuditEvent, User
from app.platform.pagination import Page, paginate


def record(article: Article, actor: User | None, action: str, *, from_state=None, to_state=None,
           revision_id: str | None = None, comment: str | None = None,
           details: dict | None = None) -> AuditEvent:
    event = AuditEvent(
        article_id=article.id, actor_id=actor.id if actor else None, action=action,
        from_state=from_state, to_state=to_state, comment=comment, details=details or {},
        revision_id=revision_id or article.latest_revision_id,
    )
    db.session.add(event)
    return event


def history(article_id: str, limit: int, cursor: str | None) -> Page:
    query = select(AuditEvent).where(AuditEvent.article_id == article_id)
    return paginate(query, AuditEvent.created_at, AuditEvent.id, "created_at", limit, cursor,
                    db.session)
