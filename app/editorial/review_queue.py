"""The editors' review queue: articles waiting for review, oldest submission first."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Article, ArticleState
from app.platform.pagination import Page, paginate


def review_queue(assignee_id: str | None, limit: int, cursor: str | None) -> Page:
    query = select(Article).options(joinedload(Article.latest_revision)).where(
        Article.state == ArticleState.IN_REVIEW, Article.deleted_at.is_(None)
    )
    if assignee_id:
        query = query.where(Article.assignee_id == assignee_id)
    return paginate(query, Article.submitted_at, Article.id, "submitted_at", limit, cursor,
                    db.session)
