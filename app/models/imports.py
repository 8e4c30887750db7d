"""Imported copy: sources, their learned line statistics, raw inputs and cleanup runs."""

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, str_enum, utcnow


class Source(IdMixin, Base):
    """A site copy is scraped from. ``article_count`` is how many imports it has taught."""

    __tablename__ = "sources"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    base_url: Mapped[str | None] = mapped_column(String(2048))
    language: Mapped[str | None] = mapped_column(String(35))
    article_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SourceLine(Base):
    """How many of a source's imported articles contain a (folded) line."""

    __tablename__ = "source_lines"

    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    line_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the folded line
    sample: Mapped[str] = mapped_column(Text)
    article_count: Mapped[int] = mapped_column(Integer, default=0)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RawInput(IdMixin, Base):
    """Exactly the bytes a client imported. Never changed (but for ``dedup_sha256``); the id
    is the import's id."""

    __tablename__ = "raw_inputs"
    __table_args__ = (UniqueConstraint("source_id", "dedup_sha256"),)

    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id"), index=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    # Up to IMPORT_MAX_BYTES: loaded only when read (the cleanup), not with every row.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    # The sha256 while this import is the one that importing the same bytes again answers
    # with; cleared once its draft is deleted, so that the page can be imported anew.
    dedup_sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int]
    source_url: Mapped[str | None] = mapped_column(String(2048))
    language: Mapped[str | None] = mapped_column(String(35))
    learned: Mapped[bool] = mapped_column(default=False)  # counted in SourceLine once
    # How many of its distinct lines (in line-key order) are counted so far: a big page is
    # learned in batches, each in its own transaction, resumed where an attempt stopped.
    learned_lines: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    source: Mapped[Source] = relationship()
    runs: Mapped[list["CleanupRun"]] = relationship(
        back_populates="raw_input", order_by="CleanupRun.created_at"
    )


class CleanupRun(IdMixin, Base):
    """One cleanup of a raw input: queued, running, then succeeded (a revision) or failed.

    A worker running it holds a lease (``lease_token`` until ``lease_expires_at``) that it
    renews while it works; the sweeper only takes back a run whose lease has expired."""

    __tablename__ = "cleanup_runs"

    raw_input_id: Mapped[str] = mapped_column(ForeignKey("raw_inputs.id"), index=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id"), index=True)
    status: Mapped[RunStatus] = mapped_column(
        str_enum(RunStatus), default=RunStatus.QUEUED, index=True,
    )
    requested_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)
    revision_id: Mapped[str | None] = mapped_column(ForeignKey("article_revisions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)  # its task was last sent
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[float | None]
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]

    raw_input: Mapped[RawInput] = relationship(back_populates="runs")
