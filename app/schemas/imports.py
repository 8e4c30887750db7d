"""Import and cleanup schemas."""

from marshmallow import Schema, fields, validate

from app.schemas.fields import INT32_MAX, LanguageTag, PlainText, WebUrl

CONTENT_TYPES = ["text/plain", "text/html"]


class SourceRefSchema(Schema):
    name = PlainText(max_length=200)
    url = WebUrl()


class ImportJsonSchema(Schema):
    """Import as JSON. (Or send the raw page with Content-Type text/plain or text/html and
    the source and language as query parameters.)"""

    content = fields.String(metadata={"description": "The scraped text or HTML"})
    content_type = fields.String(load_default="text/plain", validate=validate.OneOf(CONTENT_TYPES))
    source = fields.Nested(SourceRefSchema)
    language = LanguageTag()


class ImportQuerySchema(Schema):
    source = PlainText(max_length=200, metadata={"description": "Source name (raw-body imports)"})
    source_url = WebUrl(metadata={"description": "Source URL (raw-body imports)"})
    language = LanguageTag()


class CleanupRunSchema(Schema):
    id = fields.String()
    status = fields.String(metadata={"enum": ["queued", "running", "succeeded", "failed"]})
    attempts = fields.Integer()
    error = fields.String(allow_none=True, metadata={"description": "Why the run failed"})
    revision_id = fields.String(allow_none=True, metadata={"description": "The revision it made"})
    result = fields.Dict(allow_none=True, metadata={
        "description": "body_paragraphs, headline_candidates, metadata, removed (each with "
                       "index, line, reason, rule) and the decision for every line"})
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    duration_ms = fields.Float(allow_none=True)


class ImportSchema(Schema):
    id = fields.String()
    article_id = fields.String()
    source = fields.Function(lambda raw: raw.source.name)
    source_url = fields.String(allow_none=True)
    content_type = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
    language = fields.String(allow_none=True)
    created_at = fields.DateTime()
    status = fields.Function(lambda raw: raw.runs[-1].status if raw.runs else None,
                             metadata={"enum": ["queued", "running", "succeeded", "failed"]})
    runs = fields.List(fields.Nested(CleanupRunSchema))


class RestoreSchema(Schema):
    index = fields.Integer(required=True, validate=validate.Range(min=0, max=INT32_MAX), metadata={
        "description": "The removed line's index, from the latest run's result.removed"})
