"""Headline experiment, site, serving and event schemas."""

from marshmallow import Schema, fields, validate

from app.experiments.events import VISITOR_PATTERN
from app.schemas.fields import PlainText

MAX_IMPRESSIONS = 1_000_000_000


class ExperimentStartSchema(Schema):
    allocation = fields.String(load_default="thompson", validate=validate.OneOf(["thompson", "fixed"]),
                               metadata={"description": "thompson: traffic follows each candidate's "
                                                        "chance of being best (sharpened), keeping a "
                                                        "share for those that could still win; "
                                                        "fixed: an equal split throughout"})
    metric = fields.String(validate=validate.OneOf(["clicks", "quality_clicks"]), metadata={
        "description": "What the test optimises (default EXPERIMENT_METRIC): clicks, or "
                       "quality_clicks, clicks after which the reader stayed ENGAGED_SECONDS"})
    min_impressions = fields.Integer(validate=validate.Range(min=1, max=MAX_IMPRESSIONS), metadata={
        "description": "Total impressions before any verdict (default from settings)"})
    max_impressions = fields.Integer(validate=validate.Range(min=1000, max=MAX_IMPRESSIONS), metadata={
        "description": "Total impressions after which the test ends with no verdict"})


class ExperimentActionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(["pause", "resume", "stop"]))


class WinnerSchema(Schema):
    candidate_id = fields.String(required=True, validate=validate.Length(min=1, max=26))


OUTCOMES = ["running", "winner", "equivalent", "no_verdict"]


class VerdictSchema(Schema):
    outcome = fields.String(metadata={"enum": OUTCOMES, "description": (
        "winner: the leader beats every other candidate (P(best) >= 1 - alpha); equivalent: no "
        "candidate beats the kept headline by more than the margin, with the equivalence "
        "confidence (no meaningful difference); no_verdict: a cap, or an editor, ended the test first")})
    winner_id = fields.String(allow_none=True, metadata={
        "description": "The candidate kept: the winner, or the headline kept when equivalent"})
    reason = fields.String()
    leader_id = fields.String(allow_none=True)
    probability_best = fields.Float(allow_none=True, metadata={"description": "The leader's"})
    probability_within_margin = fields.Float(allow_none=True, metadata={
        "description": "That no candidate beats the leader by more than the margin"})


class ExperimentSchema(Schema):
    id = fields.String()
    article_id = fields.String()
    status = fields.String(metadata={"enum": ["running", "paused", "concluded"]})
    allocation = fields.String(metadata={"enum": ["thompson", "fixed"]})
    metric = fields.String(metadata={"enum": ["clicks", "quality_clicks"]})
    prior_sd = fields.Float(metadata={"description": "Prior spread of log relative rates"})
    arm_ids = fields.List(fields.String(), metadata={"description": "Candidate ids, in a fixed order"})
    weights = fields.List(fields.Float(), metadata={"description": "Current traffic share per arm"})
    dropped = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "Candidates that get no traffic any more, with the reason"})
    default_candidate_id = fields.String()
    min_impressions = fields.Integer()
    max_impressions = fields.Integer(allow_none=True)
    started_by_id = fields.String(allow_none=True, metadata={"description": "None: started on publish"})
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    outcome = fields.String(allow_none=True, metadata={
        "enum": ["winner", "equivalent", "no_verdict", "override", "stopped"]})
    winner_candidate_id = fields.String(allow_none=True)
    verdict = fields.Nested(VerdictSchema, metadata={
        "description": "The engine's latest verdict; once concluded, its final one (kept "
                       "beside an editor's stop or override)"})
    weights_updated_at = fields.DateTime(allow_none=True)


class ArmResultSchema(Schema):
    candidate_id = fields.String()
    text = fields.String()
    impressions = fields.Integer()
    clicks = fields.Integer()
    engaged = fields.Integer(metadata={"description": "Clicks after which the reader stayed"})
    ctr = fields.Float()
    ctr_low = fields.Float(metadata={"description": "95% Wilson interval"})
    ctr_high = fields.Float()
    engaged_share = fields.Float(allow_none=True, metadata={"description": "engaged / clicks"})
    engaged_share_low = fields.Float(metadata={"description": "95% Wilson interval"})
    engaged_share_high = fields.Float()
    probability_best = fields.Float(metadata={"description": "On the test's metric, compared "
                                                             "within periods"})
    probability_within_margin = fields.Float(metadata={
        "description": "That no candidate beats this one by more than the margin"})
    lift = fields.Float(metadata={"description": "Rate relative to the default headline, minus 1"})
    lift_low = fields.Float(metadata={"description": "95% interval"})
    lift_high = fields.Float()
    weight = fields.Float()
    dropped_reason = fields.String(allow_none=True, metadata={
        "description": "Set when the candidate gets no traffic any more"})
    is_default = fields.Boolean()
    is_winner = fields.Boolean(metadata={"description": "The candidate the test kept"})


class QualitySchema(Schema):
    candidate_id = fields.String(metadata={"description": "The winner, or the current leader"})
    compared_with = fields.String(metadata={"description": "The runner-up"})
    probability_fewer_engaged = fields.Float(metadata={
        "description": "That its readers stay less often than the runner-up's"})
    clickbait = fields.Boolean(metadata={
        "description": "A clicks test whose winner clearly keeps fewer readers"})
    message = fields.String(allow_none=True)


class SampleRatioSchema(Schema):
    p_value = fields.Float()
    mismatch = fields.Boolean(metadata={"description": "p < 0.001: randomisation looks broken"})
    observed = fields.List(fields.Integer())
    expected = fields.List(fields.Float(), metadata={
        "description": "Impressions the weights in force when each arrived intended"})
    expected_share = fields.List(fields.Float(allow_none=True))


class PointSchema(Schema):
    candidate_id = fields.String()
    impressions = fields.Integer()
    clicks = fields.Integer()
    engaged = fields.Integer()
    share = fields.Float(metadata={"description": "Share of the period's impressions"})
    ctr = fields.Float(allow_none=True, metadata={"description": "CTR so far"})
    ctr_low = fields.Float()
    ctr_high = fields.Float()
    engaged_share = fields.Float(allow_none=True, metadata={"description": "Engaged share so far"})


class PeriodSchema(Schema):
    period_start = fields.DateTime()
    arms = fields.List(fields.Nested(PointSchema))


class ExperimentResultsSchema(Schema):
    experiment = fields.Nested(ExperimentSchema)
    metric = fields.String(metadata={"enum": ["clicks", "quality_clicks"]})
    margin = fields.Float(metadata={"description": "The practical difference (relative)"})
    verdict = fields.Nested(VerdictSchema, allow_none=True)
    arms = fields.List(fields.Nested(ArmResultSchema))
    quality = fields.Nested(QualitySchema)
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
    language = fields.String(metadata={"description": "The article's BCP 47 language tag"})
    direction = fields.String(metadata={"enum": ["ltr", "rtl"], "description": "Its text direction"})


class ServedSchema(Schema):
    items = fields.List(fields.Nested(ServedHeadlineSchema))
    missing = fields.List(fields.String(), metadata={"description": "Ids that are not live"})
    engaged_seconds = fields.Integer(metadata={
        "description": "ENGAGED_SECONDS: after a click, send `engaged` once the reader has stayed "
                       "this long on the article"})


class EventSchema(Schema):
    type = fields.String(required=True, metadata={
        "enum": ["impression", "click", "engaged"],
        "description": "engaged: the reader stayed ENGAGED_SECONDS on the article after the click"})
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
