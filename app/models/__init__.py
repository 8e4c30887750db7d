"""Typed SQLAlchemy models. Importing this package registers every table."""

from app.models.article import (
    REVISION_FIELDS,
    Article,
    ArticleRevision,
    ArticleState,
    RevisionOrigin,
)
from app.models.base import Base, utcnow
from app.models.experiments import (
    ACTIVE_STATUSES,
    Allocation,
    EventCounter,
    EventFlush,
    Experiment,
    ExperimentCount,
    ExperimentExposure,
    ExperimentOutcome,
    ExperimentPrior,
    ExperimentStatus,
    Metric,
    SeenEvent,
    Site,
)
from app.models.headlines import CandidateOrigin, CandidateStatus, HeadlineCandidate
from app.models.imports import CleanupRun, RawInput, RunStatus, Source, SourceLine
from app.models.publishing import (
    FINAL_STATES,
    Circuit,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryState,
    Outlet,
    OutletKind,
)
from app.models.review import AuditEvent, Comment
from app.models.system import Heartbeat, IdempotencyRecord
from app.models.user import ApiToken, Role, User

__all__ = [
    "ACTIVE_STATUSES",
    "FINAL_STATES",
    "REVISION_FIELDS",
    "Allocation",
    "ApiToken",
    "Article",
    "ArticleRevision",
    "ArticleState",
    "AuditEvent",
    "Base",
    "CandidateOrigin",
    "CandidateStatus",
    "Circuit",
    "CleanupRun",
    "Comment",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryKind",
    "DeliveryState",
    "EventCounter",
    "EventFlush",
    "Experiment",
    "ExperimentCount",
    "ExperimentExposure",
    "ExperimentOutcome",
    "ExperimentPrior",
    "ExperimentStatus",
    "HeadlineCandidate",
    "Heartbeat",
    "IdempotencyRecord",
    "Metric",
    "Outlet",
    "OutletKind",
    "RawInput",
    "RevisionOrigin",
    "Role",
    "RunStatus",
    "SeenEvent",
    "Site",
    "Source",
    "SourceLine",
    "User",
    "utcnow",
]
