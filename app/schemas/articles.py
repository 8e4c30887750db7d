"""Article and revision schemas."""

from marshmallow import Schema, fields, validate

from app.editorial.workflow import ACTIONS
from app.models import ArticleState
from app.schemas.common import PageArgsSchema
from app.schemas.fields import LanguageTag, PlainText, WebUrl, revision_number
from app.text import direction

SORTS = ["created_at", "-created_at", "updated_at", "-updated_at"]


class ArticleTextSchema(Schema):
    headline = PlainText(max_length=1000)
    summary = PlainText(max_length=5000)
    body = PlainText(max_length=500_000)
    byline = PlainText(max_length=500)
    dateline = PlainText(max_length=500)


class ArticleWriteSchema(ArticleTextSchema):
    language = LanguageTag()
    embargo_until = fields.AwareDateTime(
        allow_none=True, metadata={"description": "No publishing or scheduling before this time"}
    )
    source_name = PlainText(max_length=200, allow_none=True)
    source_url = WebUrl(allow_none=True)
    tags = fields.List(PlainText(max_length=100, validate=validate.Length(min=1)),
                       validate=validate.Length(max=50))
    assignee_id = fields.String(allow_none=True, validate=validate.Length(max=26))


class ArticleCreateSchema(ArticleWriteSchema):
    language = LanguageTag(required=True)


class RevisionRefSchema(Schema):
    id = fields.String()
    number = fields.Integer()


class ArticleSchema(Schema):
    id = fields.String()
    language = fields.String()
    direction = fields.Function(lambda a: direction(a.language), metadata={"enum": ["ltr", "rtl"]})
    state = fields.String(metadata={"enum": [s.value for s in ArticleState]})
    headline = fields.String(attribute="latest_revision.headline")
    summary = fields.String(attribute="latest_revision.summary")
    body = fields.String(attribute="latest_revision.body")
    byline = fields.String(attribute="latest_revision.byline")
    dateline = fields.String(attribute="latest_revision.dateline")
    source_name = fields.String(allow_none=True)
    source_url = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    author_id = fields.String()
    assignee_id = fields.String(allow_none=True)
    revision = fields.Nested(RevisionRefSchema, attribute="latest_revision")
    approved_revision = fields.Nested(RevisionRefSchema, allow_none=True)
    live_revision = fields.Nested(RevisionRefSchema, allow_none=True, metadata={
        "description": "What outlets have; stays live while a correction is in review"})
    is_live = fields.Boolean()
    approved_headline_ids = fields.List(fields.String(), metadata={
        "description": "Accepted headline candidates pinned by the approval"})
    live_headline_ids = fields.List(fields.String(), metadata={
        "description": "Headline candidates live with the article"})
    canonical_headline_id = fields.String(allow_none=True, metadata={
        "description": "The candidate a headline test promoted (or an editor picked)"})
    allowed_actions = fields.List(fields.String(metadata={"enum": list(ACTIONS)}), metadata={
        "description": "Workflow actions the caller may take now"})
    submitted_at = fields.DateTime(allow_none=True)
    publish_at = fields.DateTime(allow_none=True)
    embargo_until = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True, metadata={"description": "First publication"})
    last_published_at = fields.DateTime(allow_none=True)
    publish_lateness_seconds = fields.Float(allow_none=True, metadata={
        "description": "How late the scheduler published after publish_at"})
    version = fields.Integer(metadata={"description": "Also sent as the ETag"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ArticlePageSchema(Schema):
    items = fields.List(fields.Nested(ArticleSchema))
    next_cursor = fields.String(allow_none=True)


class ArticleListArgsSchema(PageArgsSchema):
    state = fields.String(validate=validate.OneOf([s.value for s in ArticleState]))
    language = LanguageTag()
    author = fields.String(metadata={"description": "User id, or 'me'"},
                           validate=validate.Length(max=26))
    assignee = fields.String(metadata={"description": "User id, or 'me'"},
                             validate=validate.Length(max=26))
    source = fields.String(validate=validate.Length(max=200))
    updated_since = fields.AwareDateTime(default_timezone=None)
    updated_before = fields.AwareDateTime(default_timezone=None)
    q = PlainText(max_length=200, metadata={"description": "Text search; ignores case, "
                                            "Arabic diacritics and letter variants"})
    sort = fields.String(load_default="-updated_at", validate=validate.OneOf(SORTS))
    view = fields.String(load_default="full", validate=validate.OneOf(["full", "summary"]),
                         metadata={"description": "summary: each item without its body "
                                   "(every other field as in full, the default)"})


class RevisionSchema(Schema):
    id = fields.String()
    article_id = fields.String()
    number = fields.Integer()
    headline = fields.String()
    summary = fields.String()
    body = fields.String()
    byline = fields.String()
    dateline = fields.String()
    origin = fields.String()
    created_by_id = fields.String()
    created_at = fields.DateTime()


class RevisionPageSchema(Schema):
    items = fields.List(fields.Nested(RevisionSchema))
    next_cursor = fields.String(allow_none=True)


class DiffArgsSchema(Schema):
    from_ = revision_number(data_key="from", required=True)
    to = revision_number(required=True)


class HunkSchema(Schema):
    op = fields.String(metadata={"enum": ["replace", "delete", "insert"]})
    from_line = fields.Integer()
    from_lines = fields.List(fields.String())
    to_line = fields.Integer()
    to_lines = fields.List(fields.String())


class FieldDiffSchema(Schema):
    hunks = fields.List(fields.Nested(HunkSchema))
    unified = fields.String()


class DiffSchema(Schema):
    from_revision = fields.Nested(RevisionRefSchema)
    to_revision = fields.Nested(RevisionRefSchema)
    fields_ = fields.Dict(keys=fields.String(), values=fields.Nested(FieldDiffSchema),
                          data_key="fields", attribute="fields")


class TransitionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    comment = PlainText(max_length=5000, metadata={"description": "Required to request changes"})
    publish_at = fields.AwareDateTime(metadata={"description": "Required to schedule"})


class AuditEventSchema(Schema):
    id = fields.String()
    action = fields.String()
    actor_id = fields.String(allow_none=True, metadata={"description": "null: the scheduler"})
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    revision_id = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    details = fields.Dict()
    created_at = fields.DateTime()


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEventSchema))
    next_cursor = fields.String(allow_none=True)


class CommentCreateSchema(Schema):
    body = PlainText(max_length=10_000, required=True, validate=validate.Length(min=1))
    revision = revision_number(metadata={
        "description": "Revision number commented on (default: the latest)"})


class CommentSchema(Schema):
    id = fields.String()
    article_id = fields.String()
    revision_id = fields.String()
    author_id = fields.String()
    body = fields.String()
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by_id = fields.String(allow_none=True)


class CommentListArgsSchema(Schema):
    resolved = fields.Boolean(metadata={"description": "Only resolved (true) or open (false)"})


class ReviewQueueArgsSchema(PageArgsSchema):
    assignee = fields.String(metadata={"description": "User id, or 'me'"},
                             validate=validate.Length(max=26))
