"""Headline candidates: the alternatives an article's headline is tested between."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin, str_enum


class CandidateStatus(enum.StrEnum):
    PROPOSED = "proposed"  # extracted by the cleanup; an editor accepts or rejects it
    ACCEPTED = "accepted"  # in play: approved with the article, tested once live
    REJECTED = "rejected"
    REMOVED = "removed"  # deleted by an editor; kept because approvals may name it


class CandidateOrigin(enum.StrEnum):
    EXTRACTED = "extracted"
    MANUAL = "manual"


class HeadlineCandidate(IdMixin, TimestampMixin, Base):
    __tablename__ = "headline_candidates"
    __table_args__ = (Index("ix_headline_candidates_article_id_position", "article_id", "position"),)

    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id"))
    text: Mapped[str] = mapped_column(Text)
    folded: Mapped[str] = mapped_column(Text)  # for duplicate detection
    origin: Mapped[CandidateOrigin] = mapped_column(str_enum(CandidateOrigin))
    status: Mapped[CandidateStatus] = mapped_column(str_enum(CandidateStatus))
    position: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    source_run_id: Mapped[str | None] = mapped_column(String(26))  # the cleanup run, if extracted
    decided_at: Mapped[datetime | None]
