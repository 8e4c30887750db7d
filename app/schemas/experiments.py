"""Headline experiment, site, serving and event schemas."""

from marshmallow import Schema, fields, validate

from app.schemas.fields import PlainText
from app.services.events import VISITOR_PATTERN

MAX_IMPRESSIONS = 1_000_000_000


class ExperimentStartSchema(Schema):
    allocation = fields.String(load_default="thompson", validate=validate.OneOf(["thompson", "fixed"]),
                               metadata={"description": "thompson: top-two Thompson sampling; "
                                                        "fixed: an equal split throughout"})
    min_impressions = fields.Integer(validate=validate.Range(min=100, max=MAX_IMPRESSIONS), metadata={
        "description": "Impressions per candidate before any verdict (default from settings)"})
    max_impressions = fields.Integer(validate=validate.Range(min=1000, max=MAX_IMPRESSIONS), metadata={
        "description": "Total impressions after which the test ends with no winner"})


class ExperimentActionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(["pause", "resume", "stop"]))


class WinnerSchema(Schema):
    candidate_id = fields.String(required=True, validate=validate.Length(min=1, max=26))


class VerdictSchema(Schema):
    outcome = fields.String()
    winner_id = fields.String(allow_none=True)
    reason = fields.String()
    p_value = fields.Float(allow_none=True)


class ExperimentSchema(Schema):
    id = fields.String()
    article_id = fields.String()
    status = fields.String(metadata={"enum": ["running", "paused", "concluded"]})
    allocation = fields.String(metadata={"enum": ["thompson", "fixed"]})
    arm_ids = fields.List(fields.String(), metadata={"description": "Candidate ids, in a fixed order"})
    weights = fields.List(fields.Float(), metadata={"description": "Current traffic share per arm"})
    default_candidate_id = fields.String()
    min_impressions = fields.Integer()
    max_impressions = fields.Integer(allow_none=True)
    started_by_id = fields.String(allow_none=True, metadata={"description": "None: started on publish"})
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    outcome = fields.String(allow_none=True,
                            metadata={"enum": ["winner", "no_winner", "override", "stopped"]})
    winner_candidate_id = fields.String(allow_none=True)
    verdict = fields.Nested(VerdictSchema, metadata={
        "description": "The engine's latest verdict (kept beside an editor's override)"})
    weights_updated_at = fields.DateTime(allow_none=True)


class ArmResultSchema(Schema):
    candidate_id = fields.String()
    text = fields.String()
    impressions = fields.Integer()
    clicks = fields.Integer()
    ctr = fields.Float()
    ctr_low = fields.Float(metadata={"description": "95% Wilson interval"})
    ctr_high = fields.Float()
    probability_best = fields.Float()
    expected_loss = fields.Float(metadata={"description": "Expected CTR lost by choosing this arm"})
    weight = fields.Float()
    is_default = fields.Boolean()
    is_winner = fields.Boolean()


class SequentialTestSchema(Schema):
    leader = fields.String()
    runner_up = fields.String()
    p_value = fields.Float(metadata={"description": "Always-valid (mSPRT): safe to check any time"})


class SampleRatioSchema(Schema):
    p_value = fields.Float()
    mismatch = fields.Boolean(metadata={"description": "p < 0.001: randomisation looks broken"})
    expected_share = fields.List(fields.Float())


class PointSchema(Schema):
    candidate_id = fields.String()
    impressions = fields.Integer()
    clicks = fields.Integer()
    share = fields.Float(metadata={"description": "Share of the period's impressions"})
    ctr = fields.Float(allow_none=True, metadata={"description": "CTR so far"})
    ctr_low = fields.Float()
    ctr_high = fields.Float()


class PeriodSchema(Schema):
    period_start = fields.DateTime()
    arms = fields.List(fields.Nested(PointSchema))


class ExperimentResultsSchema(Schema):
    experiment = fields.Nested(ExperimentSchema)
    arms = fields.List(fields.Nested(ArmResultSchema))
    sequential_test = fields.Nested(SequentialTestSchema)
    sample_ratio = fields.Nested(SampleRatioSchema)
    series = fields.List(fields.Nested(PeriodSchema))


class SiteCreateSchema(Schema):
    name = PlainText(max_length=200, required=True, validate=validate.Length(min=1))


class SiteSchema(Schema):
    id = fields.String()
    name = fields.String()
    key = fields.String(metadata={"description": "Publishable key for serving and events"})
    is_active = fields.Boolean()
    created_at = fields.DateTime()


class ServedHeadlineSchema(Schema):
    article_id = fields.String()
    headline = fields.String()
    candidate_id = fields.String(allow_none=True)
    experiment_id = fields.String(allow_none=True, metadata={
        "description": "Set while a test runs: report impressions and clicks with it"})


class ServedSchema(Schema):
    items = fields.List(fields.Nested(ServedHeadlineSchema))
    missing = fields.List(fields.String(), metadata={"description": "Ids that are not live"})


class EventSchema(Schema):
    type = fields.String(required=True, metadata={"enum": ["impression", "click"]})
    experiment_id = fields.String(required=True)
    candidate_id = fields.String(required=True)
    visitor = fields.String(required=True, metadata={"pattern": VISITOR_PATTERN})
    event_id = fields.String(metadata={"description": "Optional; a repeat is counted once"})


class EventBatchSchema(Schema):
    events = fields.List(fields.Nested(EventSchema), required=True)


class EventRejectionSchema(Schema):
    index = fields.Integer()
    reason = fields.String()
    message = fields.String()


class EventReportSchema(Schema):
    received = fields.Integer()
    accepted = fields.Integer()
    duplicates = fields.Integer()
    rejected = fields.List(fields.Nested(EventRejectionSchema))


class EventMetricsSchema(Schema):
    store = fields.String(metadata={"enum": ["database", "redis"]})
    outcomes = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "Events by outcome: accepted, duplicate and each rejection reason"})
    pending = fields.Integer(metadata={"description": "Accepted events not yet flushed"})
