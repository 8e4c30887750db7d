"""Read-only article queries: the record a response shows, for one article, a search's page
or the review queue. Never commits.

A record is a plain row, not an ORM object: one statement joins the latest revision and
the numbers of the approved and live revisions, and the rows go to the response as they
come (building ORM objects was half of a 25-article page; bench/http_overhead.py). Its
fields carry the article's names, so the workflow's rules read a record as they read an
``Article``. A write's response comes from the objects the write holds (``record_of``).
"""

from types import SimpleNamespace

from sqlalchemy import Select, bindparam, or_, select

from app.editorial import policy
from app.errors import NotFound
from app.extensions import db
from app.models import Article, ArticleRevision, ArticleState, User
from app.platform.pagination import Page, paginate
from app.text import fold

ARTICLE = Article.__table__.c
_LATEST, _APPROVED, _LIVE = (ArticleRevision.__table__.alias(name)
                             for name in ("latest", "approved", "live"))
ARTICLE_FIELDS = (
    "id", "language", "state", "source_name", "source_url", "tags", "author_id", "assignee_id",
    "approved_revision_id", "live_revision_id", "approved_headline_ids", "live_headline_ids",
    "canonical_headline_id", "contributor_ids", "submitted_at", "publish_at", "embargo_until",
    "published_at", "last_published_at", "publish_lateness_seconds", "version", "created_at",
    "updated_at",
)
TEXT_FIELDS = ("headline", "summary", "byline", "dateline")
SORTABLE = {"created_at": ARTICLE.created_at, "updated_at": ARTICLE.updated_at}


def _records(with_body: bool) -> Select:
    text = (*TEXT_FIELDS, "body") if with_body else TEXT_FIELDS
    columns = (*(ARTICLE[name] for name in ARTICLE_FIELDS), *(_LATEST.c[name] for name in text),
               _LATEST.c.id.label("revision_id"), _LATEST.c.number.label("revision_number"),
               _APPROVED.c.number.label("approved_revision_number"),
               _LIVE.c.number.label("live_revision_number"),
               ARTICLE.live_revision_id.is_not(None).label("is_live"))
    joined = (Article.__table__.outerjoin(_LATEST, _LATEST.c.id == ARTICLE.latest_revision_id)
              .outerjoin(_APPROVED, _APPROVED.c.id == ARTICLE.approved_revision_id)
              .outerjoin(_LIVE, _LIVE.c.id == ARTICLE.live_revision_id))
    return select(*columns).select_from(joined).where(ARTICLE.deleted_at.is_(None))


# Built once (the hot read path; SQLAlchemy also caches their compiled forms).
_RECORDS = {with_body: _records(with_body) for with_body in (True, False)}
_ONE = _RECORDS[True].where(ARTICLE.id == bindparam("article_id"))


def records(*, with_body: bool = True) -> Select:
    """Articles not deleted, as records (the latest revision's ``body`` only if asked)."""
    return _RECORDS[with_body]


def read_record(actor: User, article_id: str):
    """The record of an article ``actor`` may read."""
    record = db.session.execute(_ONE, {"article_id": article_id}).first()
    if record is None:
        raise NotFound(f"No article {article_id}.")
    policy.authorize(actor, "read", record)
    return record


def record_of(article: Article) -> SimpleNamespace:
    """The record of an article a write has just changed, from the objects it holds."""
    text, approved, live = article.latest_revision, article.approved_revision, article.live_revision
    return SimpleNamespace(
        **{name: getattr(article, name) for name in ARTICLE_FIELDS},
        **{name: getattr(text, name) for name in (*TEXT_FIELDS, "body")},
        revision_id=text.id, revision_number=text.number,
        approved_revision_number=approved.number if approved else None,
        live_revision_number=live.number if live else None, is_live=article.is_live)


def search_articles(filters: dict, sort: str, limit: int, cursor: str | None, *,
                    with_body: bool = True) -> Page:
    """A page of article records, filtered and sorted."""
    query = records(with_body=with_body)
    for name, apply in _FILTERS.items():
        if filters.get(name) is not None:
            query = apply(query, filters[name])
    column = SORTABLE[sort.lstrip("-")]
    # A pattern in a third of the articles and one in two of them want different plans.
    return paginate(query, column, ARTICLE.id, sort, limit, cursor, db.session, rows=True,
                    planned_per_value=filters.get("q") is not None)


def review_queue(assignee_id: str | None, limit: int, cursor: str | None) -> Page:
    """Articles waiting for review, oldest submission first."""
    query = records().where(ARTICLE.state == ArticleState.IN_REVIEW)
    if assignee_id:
        query = query.where(ARTICLE.assignee_id == assignee_id)
    return paginate(query, ARTICLE.submitted_at, ARTICLE.id, "submitted_at", limit, cursor,
                    db.session, rows=True)


def _by_language(query, tag: str):
    # "ar" also finds "ar-EG" and "ar-SA"; a full tag finds itself and its subtags.
    return query.where(or_(ARTICLE.language == tag, ARTICLE.language.startswith(tag + "-")))


def _by_text(query, text: str):
    folded = fold(text)
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return query.where(ARTICLE.search_text.like(f"%{escaped}%", escape="\\"))


_FILTERS = {
    "state": lambda q, v: q.where(ARTICLE.state == v),
    "language": _by_language,
    "author_id": lambda q, v: q.where(ARTICLE.author_id == v),
    "assignee_id": lambda q, v: q.where(ARTICLE.assignee_id == v),
    "source": lambda q, v: q.where(ARTICLE.source_name == v),
    "updated_since": lambda q, v: q.where(ARTICLE.updated_at >= v),
    "updated_before": lambda q, v: q.where(ARTICLE.updated_at < v),
    "q": _by_text,
}
