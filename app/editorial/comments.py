"""Review comments on a revision: add, list, resolve."""

from sqlalchemy import select

from app.editorial import revisions
from app.editorial.articles import read_article
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import Comment, Role, User, utcnow
from app.platform.uow import transaction


def add_comment(actor: User, article_id: str, body: str, revision_number: int | None) -> Comment:
    with transaction() as session:
        article = read_article(actor, article_id)
        revision_id = (revisions.get_revision(article_id, revision_number).id
                       if revision_number else article.latest_revision_id)
        comment = Comment(article_id=article_id, revision_id=revision_id, author_id=actor.id,
                          body=body)
        session.add(comment)
    return comment


def list_comments(actor: User, article_id: str, resolved: bool | None) -> list[Comment]:
    read_article(actor, article_id)
    query = select(Comment).where(Comment.article_id == article_id)
    if resolved is not None:
        query = query.where(Comment.resolved_at.is_not(None) if resolved
                            else Comment.resolved_at.is_(None))
    return list(db.session.scalars(query.order_by(Comment.created_at, Comment.id)))


def resolve_comment(actor: User, article_id: str, comment_id: str) -> Comment:
    """Resolve (idempotently): the comment's author, the article's owners or an editor."""
    with transaction():
        article = read_article(actor, article_id)
        comment = db.session.get(Comment, comment_id)
        if comment is None or comment.article_id != article_id:
            raise NotFound(f"No comment {comment_id} on article {article_id}.")
        may = actor.role in (Role.EDITOR, Role.ADMIN) or actor.id in (
            comment.author_id, article.author_id, article.assignee_id)
        if not may:
            raise Forbidden("Only the comment's author, the article's writers or an editor "
                            "may resolve it.")
        if comment.resolved_at is None:
            comment.resolved_at = utcnow()
            comment.resolved_by_id = actor.id
    return comment
