"""Outlets (where published articles go) and the delivery outbox with its attempt log."""

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin, str_enum, utcnow


class OutletKind(enum.StrEnum):
    WEBHOOK = "webhook"  # HTTP POST of each delivery, signed
    FEED = "feed"  # an Atom feed served by the API, read by the outlet


class Circuit(enum.StrEnum):
    CLOSED = "closed"  # deliveries flow
    OPEN = "open"  # paused after repeated failures, until circuit_retry_at
    PROBING = "probing"  # one delivery is testing whether the outlet is back


class DeliveryKind(enum.StrEnum):
    PUBLISH = "publish"
    UPDATE = "update"  # a correction or a promoted headline
    TAKEDOWN = "takedown"


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waiting for its turn (next_attempt_at, earlier versions, circuit)
    SENDING = "sending"  # leased by one worker until lease_expires_at
    DELIVERED = "delivered"
    DEAD = "dead"  # a permanent failure or out of attempts; redeliver by hand
    CANCELLED = "cancelled"  # by an editor, or superseded by a takedown


FINAL_STATES = (DeliveryState.DELIVERED, DeliveryState.DEAD, DeliveryState.CANCELLED)


class Outlet(IdMixin, TimestampMixin, Base):
    __tablename__ = "outlets"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OutletKind] = mapped_column(str_enum(OutletKind))
    format: Mapped[str] = mapped_column(String(32))  # a module of app.publishing.formats
    url: Mapped[str | None] = mapped_column(String(2048))  # webhooks only
    # HMAC key of webhook signatures. It must be usable to sign, so it cannot be hashed;
    # it is shown once, at creation, and never again (responses, logs).
    secret: Mapped[str | None] = mapped_column(String(128))
    headers: Mapped[dict] = mapped_column(JSON, default=dict)  # extra request headers
    # {"languages": [...], "tags": [...], "sources": [...]}: an empty list matches all.
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    next_sequence: Mapped[int] = mapped_column(Integer, default=1)
    circuit: Mapped[Circuit] = mapped_column(str_enum(Circuit), default=Circuit.CLOSED)
    circuit_retry_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]


class Delivery(IdMixin, Base):
    """One version of one article for one outlet. The id is the Idempotency-Key."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("outlet_id", "sequence"),
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_deliveries_outlet_id_article_id_sequence", "outlet_id", "article_id", "sequence"),
        Index("ix_deliveries_created_at_id", "created_at", "id"),
    )

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id"))
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id"), index=True)
    revision_id: Mapped[str | None] = mapped_column(ForeignKey("article_revisions.id"))
    kind: Mapped[DeliveryKind] = mapped_column(str_enum(DeliveryKind))
    sequence: Mapped[int]  # per outlet: receivers order versions by it
    # The document as it was when the change committed (ninjs), so a retry sends exactly
    # what was published then, whatever happened to the article since.
    document: Mapped[dict] = mapped_column(JSON)
    state: Mapped[DeliveryState] = mapped_column(str_enum(DeliveryState), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_expires_at: Mapped[datetime | None]
    lease_token: Mapped[str | None] = mapped_column(String(32))
    # Set while it waits for a free slot of its outlet (OUTLET_MAX_IN_FLIGHT): an attempt
    # that frees a slot queues the oldest such delivery, and only if there is one.
    deferred_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class DeliveryAttempt(IdMixin, Base):
    __tablename__ = "delivery_attempts"

    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    number: Mapped[int]
    started_at: Mapped[datetime]
    latency_ms: Mapped[float | None]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | retry | dead | lost
