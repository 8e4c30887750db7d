"""The append-only audit log and review comments."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, utcnow


class AuditEvent(IdMixin, Base):
    """Who did what to an article, when, from which state to which. Never changed."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_article_id_created_at", "article_id", "created_at"),)

    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id"))
    # None when the system acted (the scheduler publishing a due article).
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    revision_id: Mapped[str | None] = mapped_column(ForeignKey("article_revisions.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@event.listens_for(AuditEvent, "before_update")
def _audit_is_append_only(_mapper, _connection, target: AuditEvent) -> None:
    raise RuntimeError(f"audit event {target.id} is append-only")


@event.listens_for(AuditEvent, "before_delete")
def _audit_is_kept(_mapper, _connection, target: AuditEvent) -> None:
    raise RuntimeError(f"audit event {target.id} cannot be deleted")


class Comment(IdMixin, Base):
    """A review comment on one revision of an article."""

    __tablename__ = "comments"

    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id"), index=True)
    revision_id: Mapped[str] = mapped_column(ForeignKey("article_revisions.id"))
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
