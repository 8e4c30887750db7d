"""Headline experiments, their aggregated counts, and the publishable keys of sites."""

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin, str_enum, utcnow


class ExperimentStatus(enum.StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # everyone sees the default headline; events are refused
    CONCLUDED = "concluded"


class ExperimentOutcome(enum.StrEnum):
    WINNER = "winner"  # the leader beats every other candidate: promoted
    EQUIVALENT = "equivalent"  # no meaningful difference: the default (or the leader) is kept
    NO_VERDICT = "no_verdict"  # the sample or time cap came first: the default headline stays
    OVERRIDE = "override"  # an editor picked the winner by hand
    STOPPED = "stopped"  # an editor stopped it: the default headline stays


class Allocation(enum.StrEnum):
    THOMPSON = "thompson"
    FIXED = "fixed"


class Metric(enum.StrEnum):
    CLICKS = "clicks"
    QUALITY_CLICKS = "quality_clicks"  # clicks after which the reader stayed (engaged events)


ACTIVE_STATUSES = (ExperimentStatus.RUNNING, ExperimentStatus.PAUSED)


class Experiment(IdMixin, TimestampMixin, Base):
    __tablename__ = "experiments"
    __table_args__ = (
        # At most one running or paused experiment per article.
        Index("uq_experiments_active_article", "article_id", unique=True,
              postgresql_where=text("status <> 'concluded'"),
              sqlite_where=text("status <> 'concluded'")),
        Index("ix_experiments_status_updated_at", "status", "updated_at"),
        Index("ix_experiments_updated_at", "updated_at"),  # the serving refresh's "changed since"
        Index("ix_experiments_ended_at", "ended_at"),  # the purge of ended tests' visitors
    )

    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id"), index=True)
    status: Mapped[ExperimentStatus] = mapped_column(str_enum(ExperimentStatus))
    allocation: Mapped[Allocation] = mapped_column(str_enum(Allocation))
    salt: Mapped[str] = mapped_column(String(32))  # hashed with the visitor id for stickiness
    arm_ids: Mapped[list[str]] = mapped_column(JSON)  # candidate ids, in a fixed order
    # Their texts as approved when the test started: later edits go through review first.
    arm_texts: Mapped[list[str]] = mapped_column(JSON)
    weights: Mapped[list[float]] = mapped_column(JSON)  # traffic share per arm
    dropped: Mapped[dict] = mapped_column(JSON, default=dict)  # arm id -> why it gets no traffic
    default_candidate_id: Mapped[str] = mapped_column(String(26))
    metric: Mapped[Metric] = mapped_column(str_enum(Metric), default=Metric.CLICKS)
    prior_sd: Mapped[float]  # the prior spread of log relative rates when the test started
    min_impressions: Mapped[int]  # in total, before any verdict
    max_impressions: Mapped[int | None]  # in total; reaching it ends with no verdict
    started_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))  # None: on publish
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    outcome: Mapped[ExperimentOutcome | None] = mapped_column(str_enum(ExperimentOutcome))
    winner_candidate_id: Mapped[str | None] = mapped_column(String(26))
    # The engine's latest verdict; kept beside an editor's override.
    verdict: Mapped[dict] = mapped_column(JSON, default=dict)
    weights_updated_at: Mapped[datetime | None]


class ExperimentCount(Base):
    """Events of one arm in one period (the time series and the engine's input)."""

    __tablename__ = "experiment_counts"

    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiments.id"), primary_key=True)
    candidate_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(primary_key=True)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    engaged: Mapped[int] = mapped_column(BigInteger, default=0)
    # The sum, over these impressions' arrivals, of the arm's weight then in force: the
    # impressions the split intended (the sample-ratio check compares with it).
    expected: Mapped[float] = mapped_column(default=0.0)


class ExperimentPrior(Base):
    """The prior spread of log relative rates, fitted on this deployment's finished tests."""

    __tablename__ = "experiment_priors"

    metric: Mapped[Metric] = mapped_column(str_enum(Metric), primary_key=True)
    prior_sd: Mapped[float]
    tests: Mapped[int]  # finished tests it was fitted on
    fitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExperimentExposure(Base):
    """What a visitor was shown (database event store): clicks need an impression first."""

    __tablename__ = "experiment_exposures"

    experiment_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    visitor: Mapped[str] = mapped_column(String(128), primary_key=True)
    candidate_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    engaged: Mapped[int] = mapped_column(BigInteger, default=0)


class SeenEvent(Base):
    """Event ids already counted (database event store), for deduplication of replays."""

    __tablename__ = "experiment_seen_events"

    experiment_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class EventFlush(Base):
    """A batch of Redis counters applied to experiment_counts: applied exactly once."""

    __tablename__ = "experiment_event_flushes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    events: Mapped[int] = mapped_column(BigInteger)


class EventCounter(Base):
    """Events by outcome (accepted, duplicate, each rejection reason) on the database store."""

    __tablename__ = "experiment_event_counters"

    outcome: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class Site(IdMixin, TimestampMixin, Base):
    """A frontend that serves headlines and reports events with a publishable key."""

    __tablename__ = "sites"

    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(64), unique=True)  # public by design, like pk_ keys
    is_active: Mapped[bool] = mapped_column(default=True)
