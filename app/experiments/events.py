"""Impression, click and engaged events from frontends: validated one by one, stored durably.

An ``engaged`` event says the reader stayed on the article at least ENGAGED_SECONDS after
following a headline from a test (a quality click, counted once per click).

Each event in a batch is checked on its own against the serving snapshot (no database
read); the store then deduplicates by event id, refuses clicks without an impression of
the same candidate by the same visitor, and counts what it accepted, all atomically.
"""

import re
from typing import Annotated, Literal, NamedTuple

import msgspec
from flask import current_app

from app.errors import PayloadTooLarge, ValidationFailed
from app.experiments import experiment_counts
from app.experiments.serving import Snapshot
from app.models import ExperimentStatus, utcnow

VISITOR_PATTERN = "^[A-Za-z0-9._:~-]{1,128}$"  # as documented in the OpenAPI document
VISITOR = re.compile(r"[A-Za-z0-9._:~-]{1,128}\Z")  # with match(): anchored at both ends
EVENT_ID = re.compile(r"[\x21-\x7e]{1,64}\Z")
KINDS = {"impression": "i", "click": "c", "engaged": "e"}
FIELDS = {"type", "experiment_id", "candidate_id", "visitor", "event_id"}
REQUIRED = ("type", "experiment_id", "candidate_id", "visitor")


class Event(NamedTuple):
    kind: str  # "i" or "c"
    experiment_id: str
    candidate_id: str
    visitor: str
    event_id: str  # "" when the client sent none


class _TypedEvent(msgspec.Struct, forbid_unknown_fields=True):
    """An event as ``parse`` accepts it, for the one-pass check of ``ingest_body``."""

    type: Literal["impression", "click", "engaged"]
    experiment_id: str
    candidate_id: str
    visitor: Annotated[str, msgspec.Meta(pattern=r"\A[A-Za-z0-9._:~-]{1,128}\Z")]
    event_id: Annotated[str, msgspec.Meta(pattern=r"\A[\x21-\x7e]{1,64}\Z")] = ""


class _TypedBatch(msgspec.Struct, forbid_unknown_fields=True):
    events: list[_TypedEvent]


_BATCH = msgspec.json.Decoder(_TypedBatch)


class Rejected(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


def ingest(payload, snapshot: Snapshot, store) -> dict:
    """Validate and store a batch; returns the per-batch report."""
    items = _batch(payload)
    events, rejected = [], []
    for index, item in enumerate(items):
        try:
            events.append((index, parse(item, snapshot)))
        except Rejected as error:
            rejected.append({"index": index, "reason": error.reason, "message": error.message})
    return _record(len(items), events, rejected, snapshot, store)


def ingest_body(raw: bytes, snapshot: Snapshot, store) -> dict | None:
    """``ingest`` for a raw JSON body whose every event is valid, or None (nothing stored):
    then the caller parses the body and calls ``ingest``, which explains each refusal.

    msgspec decodes and checks the fields, their types and patterns in one pass in C, a
    third of the reference path's cost; whatever it refuses, the reference path judges."""
    try:
        items = _BATCH.decode(raw).events
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    _check_size(len(items))
    events = []
    for index, item in enumerate(items):
        experiment = snapshot.experiments.get(item.experiment_id)
        if (experiment is None or experiment.status != ExperimentStatus.RUNNING
                or item.candidate_id not in experiment.arms):
            return None
        events.append((index, Event(KINDS[item.type], item.experiment_id, item.candidate_id,
                                    item.visitor, item.event_id)))
    return _record(len(items), events, [], snapshot, store)


def _record(received: int, events: list[tuple[int, Event]], rejected: list[dict], snapshot: Snapshot,
            store) -> dict:
    period = experiment_counts.period_start(utcnow())
    weights = {e.experiment_id: snapshot.experiments[e.experiment_id].weighted_arms
               for _, e in events}
    outcomes = store.record([e for _, e in events], period, [r["reason"] for r in rejected], weights)
    for (index, _event), outcome in zip(events, outcomes, strict=True):
        if outcome not in ("accepted", "duplicate"):
            rejected.append({"index": index, "reason": outcome, "message": STORE_REASONS[outcome]})
    return {"received": received, "accepted": outcomes.count("accepted"),
            "duplicates": outcomes.count("duplicate"),
            "rejected": sorted(rejected, key=lambda r: r["index"])}


STORE_REASONS = {
    "click_without_impression": "No impression of this candidate by this visitor was counted "
                                "before the click (or every impression already has its click).",
    "engaged_without_click": "No click on this candidate by this visitor was counted before "
                             "the engaged event (or every click already has one).",
}


def _batch(payload) -> list:
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list) or \
            set(payload) - {"events"}:
        raise ValidationFailed("Send {\"events\": [...]}.", errors=[{
            "location": "json", "field": "/events", "message": "A list of events is required."}])
    _check_size(len(payload["events"]))
    return payload["events"]


def _check_size(count: int) -> None:
    limit = current_app.config["EVENT_BATCH_MAX"]
    if count > limit:
        raise PayloadTooLarge(f"A batch holds at most {limit} events; this one has {count}.")


def parse(item, snapshot: Snapshot) -> Event:
    """The event, or Rejected with the reason (a fast path for the valid majority)."""
    try:
        kind, experiment = KINDS[item["type"]], snapshot.experiments[item["experiment_id"]]
        candidate, visitor, event_id = item["candidate_id"], item["visitor"], item.get("event_id", "")
        if (item.keys() <= FIELDS and experiment.status == ExperimentStatus.RUNNING
                and candidate in experiment.arms and type(visitor) is str and VISITOR.match(visitor)
                and type(event_id) is str and ((event_id == "" and "event_id" not in item)
                                               or EVENT_ID.match(event_id))):
            return Event(kind, experiment.id, candidate, visitor, event_id)
    except (KeyError, TypeError):
        pass
    _explain(item, snapshot)
    raise Rejected("invalid_event", "The event is not valid.")


def _explain(item, snapshot: Snapshot) -> None:
    """Raise Rejected with the first reason the event is not valid."""
    if not isinstance(item, dict):
        raise Rejected("invalid_event", "An event is a JSON object.")
    _check_fields(item)
    experiment = snapshot.experiments.get(item["experiment_id"])
    if experiment is None:
        raise Rejected("unknown_experiment", "No such experiment.")
    if experiment.status != ExperimentStatus.RUNNING:
        raise Rejected(f"experiment_{experiment.status}", f"The experiment is {experiment.status}.")
    if item["candidate_id"] not in experiment.arms:
        raise Rejected("unknown_candidate", "The candidate is not an arm of this experiment.")


def _check_fields(item: dict) -> None:
    unknown = sorted(set(item) - FIELDS)
    if unknown:
        raise Rejected("unknown_field", f"Unknown field(s) {', '.join(map(str, unknown))}: an event "
                                        "is one impression or one click, without counts.")
    missing = [name for name in REQUIRED if not isinstance(item.get(name), str)]
    if missing:
        raise Rejected("invalid_event", f"Missing or not a string: {', '.join(missing)}.")
    if item["type"] not in KINDS:
        raise Rejected("invalid_type", "type must be \"impression\", \"click\" or \"engaged\".")
    if not VISITOR.match(item["visitor"]):
        raise Rejected("invalid_visitor", "visitor: 1-128 characters of A-Z a-z 0-9 . _ : ~ -.")
    event_id = item.get("event_id", "")
    if not (isinstance(event_id, str) and ((event_id == "" and "event_id" not in item)
                                           or EVENT_ID.match(event_id))):
        raise Rejected("invalid_event_id", "event_id: 1-64 visible ASCII characters.")
