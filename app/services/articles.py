"""Article use cases: create, update (new revision on text changes), soft delete."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.errors import NotFound, PreconditionFailed, ValidationFailed
from app.extensions import db
from app.models import REVISION_FIELDS, Article, ArticleRevision, RevisionOrigin, User, utcnow
from app.services import policy
from app.services.uow import transaction
from app.text import fold

ARTICLE_FIELDS = ("language", "source_name", "source_url", "tags", "assignee_id")


def get_article(article_id: str, *, include_deleted: bool = False) -> Article:
    article = db.session.get(Article, article_id, options=[joinedload(Article.latest_revision)])
    if article is None or (article.deleted_at and not include_deleted):
        raise NotFound(f"No article {article_id}.")
    return article


def read_article(actor: User, article_id: str) -> Article:
    article = get_article(article_id)
    policy.authorize(actor, "read", article)
    return article


def create_article(actor: User, data: dict) -> Article:
    policy.authorize(actor, "create")
    with transaction() as session:
        _check_assignee(data.get("assignee_id"))
        article = Article(author_id=actor.id, **{f: data[f] for f in ARTICLE_FIELDS if f in data})
        session.add(article)
        session.flush()
        _add_revision(article, actor, {f: data.get(f, "") for f in REVISION_FIELDS})
    return article


def update_article(actor: User, article_id: str, expected_version: int | None, changes: dict) -> Article:
    with transaction():
        article = _locked_for_write(actor, article_id, expected_version, "edit")
        _check_assignee(changes.get("assignee_id"))
        for field in ARTICLE_FIELDS:
            if field in changes:
                setattr(article, field, changes[field])
        text = {f: changes.get(f, getattr(article.latest_revision, f)) for f in REVISION_FIELDS}
        if any(text[f] != getattr(article.latest_revision, f) for f in REVISION_FIELDS):
            _add_revision(article, actor, text)
        article.version += 1
        article.updated_at = utcnow()
    return article


def delete_article(actor: User, article_id: str, expected_version: int | None) -> None:
    with transaction():
        article = _locked_for_write(actor, article_id, expected_version, "delete")
        article.deleted_at = utcnow()
        article.version += 1


def _locked_for_write(actor: User, article_id: str, expected_version: int | None, action: str) -> Article:
    """Load the article with a row lock and check permission and the caller's version.

    The lock (FOR UPDATE on PostgreSQL) makes concurrent writers with the same If-Match
    queue up, so exactly one of them sees the version it expected.
    """
    query = select(Article).where(Article.id == article_id).with_for_update()
    article = db.session.scalar(query.execution_options(populate_existing=True))
    if article is None or article.deleted_at:
        raise NotFound(f"No article {article_id}.")
    policy.authorize(actor, action, article)
    if expected_version is not None and article.version != expected_version:
        raise PreconditionFailed(
            f"The article is at version {article.version}; reload it and retry.",
            current_version=article.version,
        )
    return article


def _add_revision(article: Article, actor: User, text: dict, origin=RevisionOrigin.MANUAL) -> None:
    number = (article.latest_revision.number + 1) if article.latest_revision else 1
    revision = ArticleRevision(
        article_id=article.id, number=number, created_by_id=actor.id, origin=origin, **text
    )
    db.session.add(revision)
    db.session.flush()
    article.latest_revision = revision
    article.search_text = fold(" ".join(text[f] for f in ("headline", "summary", "body")))


def _check_assignee(user_id: str | None) -> None:
    if user_id is None:
        return
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise ValidationFailed(
            "The assignee must be an active user.",
            errors=[{"location": "json", "field": "/assignee_id", "message": "Unknown or inactive user."}],
        )
