"""Read-only article queries for editors' lists and searches. Never commits."""

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import Article, ArticleRevision
from app.platform.pagination import Page, paginate
from app.text import fold

SORTABLE = {"created_at": Article.created_at, "updated_at": Article.updated_at}


def search_articles(filters: dict, sort: str, limit: int, cursor: str | None, *,
                    with_body: bool = True) -> Page:
    """A page of articles with their latest revision (without its body unless
    ``with_body``); of the approved and live revisions only what a reference needs."""
    latest = joinedload(Article.latest_revision)
    query = select(Article).options(
        latest if with_body else latest.defer(ArticleRevision.body),
        *(selectinload(relation).load_only(ArticleRevision.number)
          for relation in (Article.approved_revision, Article.live_revision)))
    query = query.where(Article.deleted_at.is_(None))
    for name, apply in _FILTERS.items():
        if filters.get(name) is not None:
            query = apply(query, filters[name])
    column = SORTABLE[sort.lstrip("-")]
    return paginate(query, column, Article.id, sort, limit, cursor, db.session)


def _by_language(query, tag: str):
    # "ar" also finds "ar-EG" and "ar-SA"; a full tag finds itself and its subtags.
    return query.where(or_(Article.language == tag, Article.language.startswith(tag + "-")))


def _by_text(query, text: str):
    folded = fold(text)
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return query.where(Article.search_text.like(f"%{escaped}%", escape="\\"))


_FILTERS = {
    "state": lambda q, v: q.where(Article.state == v),
    "language": _by_language,
    "author_id": lambda q, v: q.where(Article.author_id == v),
    "assignee_id": lambda q, v: q.where(Article.assignee_id == v),
    "source": lambda q, v: q.where(Article.source_name == v),
    "updated_since": lambda q, v: q.where(Article.updated_at >= v),
    "updated_before": lambda q, v: q.where(Article.updated_at < v),
    "q": _by_text,
}
