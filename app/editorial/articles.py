"""Article use cases: create, update (new revision on text changes), soft delete."""

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from app.editorial import audit, policy, workflow
from app.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from app.extensions import db
from app.models import REVISION_FIELDS, Article, ArticleRevision, RevisionOrigin, User, utcnow
from app.platform.uow import locked, transaction
from app.text import fold

ARTICLE_FIELDS = ("language", "source_name", "source_url", "tags", "assignee_id", "embargo_until")
# Changing these changes what would be published, so approved copy goes back to review.
CONTENT_FIELDS = (*REVISION_FIELDS, "language", "tags")


def get_article(article_id: str, *, include_deleted: bool = False) -> Article:
    article = db.session.get(Article, article_id, options=[joinedload(Article.latest_revision)])
    if article is None or (article.deleted_at and not include_deleted):
        raise NotFound(f"No article {article_id}.")
    return article


# Built once (the hot read path): SQLAlchemy caches the compiled form per statement.
_READABLE = select(Article).options(joinedload(Article.latest_revision)).where(
    Article.id == bindparam("article_id"), Article.deleted_at.is_(None))


def read_article(actor: User, article_id: str) -> Article:
    article = db.session.scalar(_READABLE, {"article_id": article_id})
    if article is None:
        raise NotFound(f"No article {article_id}.")
    policy.authorize(actor, "read", article)
    return article


def create_article(actor: User, data: dict, origin=RevisionOrigin.MANUAL) -> Article:
    policy.authorize(actor, "create")
    with transaction() as session:
        _check_assignee(data.get("assignee_id"))
        article = Article(author_id=actor.id, **{f: data[f] for f in ARTICLE_FIELDS if f in data})
        session.add(article)
        session.flush()
        _add_revision(article, actor, {f: data.get(f, "") for f in REVISION_FIELDS}, origin)
        audit.record(article, actor, "create", to_state=article.state)
    return article


def update_article(actor: User, article_id: str, expected_version: int | None,
                   changes: dict) -> Article:
    with transaction():
        article = locked_for_write(actor, article_id, expected_version, "edit")
        if article.state in workflow.NOT_EDITABLE:
            raise Conflict(f"An {article.state} article cannot be edited; restore it first.",
                           current_state=article.state)
        _check_assignee(changes.get("assignee_id"))
        _check_schedule_respects_embargo(article, changes)
        changed = _changed_fields(article, changes)
        for field in ARTICLE_FIELDS:
            if field in changes:
                setattr(article, field, changes[field])
        if changed & set(REVISION_FIELDS):
            text = {f: changes.get(f, getattr(article.latest_revision, f)) for f in REVISION_FIELDS}
            _add_revision(article, actor, text)
        _record_edit(article, actor, changed)
        article.version += 1
        article.updated_at = utcnow()
    return article


def _changed_fields(article: Article, changes: dict) -> set[str]:
    current = {f: getattr(article.latest_revision, f) for f in REVISION_FIELDS}
    current.update({f: getattr(article, f) for f in ARTICLE_FIELDS})
    return {f for f, value in changes.items() if current.get(f) != value}


def note_contributor(article: Article, user_id: str) -> None:
    """Remember who wrote part of the content, for the four-eyes rule. The first change
    after an approval starts a new set: only what changed since then needs new eyes."""
    if article.state in workflow.APPROVED_CONTENT:
        article.contributor_ids = []
    if user_id not in article.contributor_ids:
        article.contributor_ids = [*article.contributor_ids, user_id]


def return_to_review(article: Article) -> str:
    """Apply the edit rule to a content change; returns the state before it."""
    from_state = article.state
    article.state = workflow.state_after_edit(from_state)
    if article.state != from_state:
        article.approved_revision_id = None
        article.approved_headline_ids = []
        article.publish_at = None
    return from_state


def _record_edit(article: Article, actor: User, changed: set[str]) -> None:
    if not changed:
        return
    from_state = return_to_review(article) if changed & set(CONTENT_FIELDS) else article.state
    audit.record(article, actor, "edit", from_state=from_state, to_state=article.state,
                 details={"fields": sorted(changed)})


def delete_article(actor: User, article_id: str, expected_version: int | None) -> None:
    with transaction():
        article = locked_for_write(actor, article_id, expected_version, "delete")
        if article.is_live:
            raise Conflict("A live article cannot be deleted; unpublish it first.",
                           current_state=article.state)
        article.deleted_at = utcnow()
        article.version += 1
        audit.record(article, actor, "delete", from_state=article.state, to_state=article.state)


def locked_for_write(actor: User, article_id: str, expected_version: int | None,
                     action: str) -> Article:
    """Load the article with a row lock and check permission and the caller's version.

    The lock (FOR UPDATE on PostgreSQL) makes concurrent writers with the same If-Match
    queue up, so exactly one of them sees the version it expected.
    """
    article = locked(Article, article_id)
    if article is None or article.deleted_at:
        raise NotFound(f"No article {article_id}.")
    policy.authorize(actor, action, article)
    if expected_version is not None and article.version != expected_version:
        raise PreconditionFailed(
            f"The article is at version {article.version}; reload it and retry.",
            current_version=article.version,
        )
    return article


def locked_for_system(article_id: str) -> Article:
    """The article under a row lock, for background work that has no If-Match."""
    article = locked(Article, article_id)
    if article is None:
        raise NotFound(f"No article {article_id}.")
    return article


def add_system_revision(article: Article, actor_id: str, changes: dict, origin: RevisionOrigin,
                        *, language: str | None = None, details: dict | None = None) -> ArticleRevision:
    """A revision made by a pipeline step (cleanup, restore) on behalf of ``actor_id``.

    It follows the same edit rule as a person's edit: approved copy goes back to review.
    """
    actor = db.session.get(User, actor_id)
    base = article.latest_revision
    text = {f: changes.get(f, getattr(base, f) if base else "") for f in REVISION_FIELDS}
    revision = _add_revision(article, actor, text, origin)
    changed = {f for f in REVISION_FIELDS if base is None or text[f] != getattr(base, f)}
    if language and language != article.language:
        article.language = language
        changed.add("language")
    from_state = return_to_review(article) if changed else article.state
    audit.record(article, actor, origin.value, from_state=from_state, to_state=article.state,
                 details={"fields": sorted(changed), **(details or {})})
    article.version += 1
    article.updated_at = utcnow()
    return revision


def _add_revision(article: Article, actor: User, text: dict,
                  origin=RevisionOrigin.MANUAL) -> ArticleRevision:
    note_contributor(article, actor.id)
    number = (article.latest_revision.number + 1) if article.latest_revision else 1
    revision = ArticleRevision(
        article_id=article.id, number=number, created_by_id=actor.id, origin=origin, **text
    )
    db.session.add(revision)
    db.session.flush()
    article.latest_revision = revision
    article.search_text = fold(" ".join(text[f] for f in ("headline", "summary", "body")))
    return revision


def _check_schedule_respects_embargo(article: Article, changes: dict) -> None:
    embargo = changes.get("embargo_until")
    if embargo and article.publish_at and article.publish_at < embargo:
        raise Conflict(
            f"The article is scheduled for {article.publish_at.isoformat()}, before this "
            "embargo; unschedule it first.", current_state=article.state,
        )


def _check_assignee(user_id: str | None) -> None:
    if user_id is None:
        return
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise ValidationFailed.at("/assignee_id", "Unknown or inactive user.",
                                  detail="The assignee must be an active user.")
