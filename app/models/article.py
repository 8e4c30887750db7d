"""Articles (the working copy) and their immutable revisions."""

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, TimestampMixin, str_enum, utcnow
from app.models.user import User


class ArticleState(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"
    ARCHIVED = "archived"


class RevisionOrigin(enum.StrEnum):
    MANUAL = "manual"
    IMPORT = "import"
    CLEANUP = "cleanup"
    RESTORE = "restore"


class Article(IdMixin, TimestampMixin, Base):
    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_updated_at_id", "updated_at", "id"),
        Index("ix_articles_created_at_id", "created_at", "id"),
        Index("ix_articles_state_publish_at", "state", "publish_at"),
        # q= on PostgreSQL: a trigram index answers LIKE '%...%' on the folded text. On
        # SQLite (the embedded default, which scans) it is declared as a partial index on
        # no rows, so one metadata describes both databases and costs SQLite nothing.
        Index("ix_articles_search_text_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}, sqlite_where=false()),
    )

    language: Mapped[str] = mapped_column(String(35))
    state: Mapped[ArticleState] = mapped_column(
        str_enum(ArticleState, 32), default=ArticleState.DRAFT, index=True
    )
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    source_name: Mapped[str | None] = mapped_column(String(200), index=True)
    source_url: Mapped[str | None] = mapped_column(String(2048))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    latest_revision_id: Mapped[str | None] = mapped_column(
        ForeignKey("article_revisions.id", use_alter=True)
    )
    # Folded headline + summary + body, for accent- and case-insensitive search. Deferred:
    # it is as long as the copy and no response carries it.
    search_text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted_at: Mapped[datetime | None] = mapped_column(index=True)

    # Workflow. The approved revision is what publishing publishes; the live revision is
    # what outlets have, and stays live while a correction of it goes through review.
    approved_revision_id: Mapped[str | None] = mapped_column(
        ForeignKey("article_revisions.id", use_alter=True)
    )
    live_revision_id: Mapped[str | None] = mapped_column(
        ForeignKey("article_revisions.id", use_alter=True)
    )
    # Four-eyes: everyone who wrote any part of the content (text or headline candidates)
    # since its last approval; none of them may approve, schedule or publish it.
    contributor_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    submitted_at: Mapped[datetime | None]
    publish_at: Mapped[datetime | None]
    embargo_until: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    last_published_at: Mapped[datetime | None]
    # How long after publish_at the scheduler actually published (None if by hand).
    publish_lateness_seconds: Mapped[float | None]
    # Accepted headline candidates pinned by the approval, and those live with the article.
    approved_headline_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    live_headline_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The candidate a headline test promoted (or an editor picked): outlets show its text.
    canonical_headline_id: Mapped[str | None] = mapped_column(String(26))
    canonical_headline_text: Mapped[str | None] = mapped_column(Text)  # as approved

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    latest_revision: Mapped["ArticleRevision | None"] = relationship(
        foreign_keys=[latest_revision_id], post_update=True
    )
    approved_revision: Mapped["ArticleRevision | None"] = relationship(
        foreign_keys=[approved_revision_id], post_update=True
    )
    live_revision: Mapped["ArticleRevision | None"] = relationship(
        foreign_keys=[live_revision_id], post_update=True
    )

    @property
    def is_live(self) -> bool:
        return self.live_revision_id is not None


class ArticleRevision(IdMixin, Base):
    """An immutable snapshot of an article's text. Never updated, never deleted."""

    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id"), index=True)
    number: Mapped[int]
    headline: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    byline: Mapped[str] = mapped_column(Text, default="")
    dateline: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[RevisionOrigin] = mapped_column(
        str_enum(RevisionOrigin, 32), default=RevisionOrigin.MANUAL
    )
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User] = relationship()


REVISION_FIELDS = ("headline", "summary", "body", "byline", "dateline")


@event.listens_for(ArticleRevision, "before_update")
def _revisions_are_immutable(_mapper, _connection, target: ArticleRevision) -> None:
    raise RuntimeError(f"revision {target.id} is immutable")


@event.listens_for(ArticleRevision, "before_delete")
def _revisions_are_kept(_mapper, _connection, target: ArticleRevision) -> None:
    raise RuntimeError(f"revision {target.id} cannot be deleted")
