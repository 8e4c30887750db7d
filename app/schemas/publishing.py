"""Outlet, delivery and outlet health schemas."""

import re

from marshmallow import Schema, ValidationError, fields, validate, validates

from app.models import DeliveryKind, DeliveryState, OutletKind
from app.schemas.common import PageArgsSchema
from app.schemas.fields import LanguageTag, PlainText, WebUrl

# RFC 9110 field names; values without control characters (no header injection).
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
HEADER_VALUE = re.compile(r"^[\t\x20-\x7e\x80-\xff]{0,1024}$")
MAX_HEADERS = 20


class OutletFiltersSchema(Schema):
    languages = fields.List(LanguageTag(), validate=validate.Length(max=50), load_default=list,
                            metadata={"description": "'ar' also takes 'ar-EG'; empty: all"})
    tags = fields.List(PlainText(max_length=100), validate=validate.Length(max=100), load_default=list,
                       metadata={"description": "Any of these tags; empty: all"})
    sources = fields.List(PlainText(max_length=200), validate=validate.Length(max=100),
                          load_default=list, metadata={"description": "Source names; empty: all"})


class OutletWriteSchema(Schema):
    name = PlainText(max_length=200, validate=validate.Length(min=1))
    url = WebUrl(allow_none=True, metadata={
        "description": "Webhook endpoint (http or https, public address unless allowed by settings)"})
    format = fields.String(validate=validate.Length(max=32), metadata={
        "description": "webhook: ninjs (default); feed: atom (default)"})
    headers = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "Extra request headers (e.g. Authorization); values are never shown again"})
    filters = fields.Nested(OutletFiltersSchema)
    enabled = fields.Boolean()

    @validates("headers")
    def _check_headers(self, headers: dict, **_kwargs) -> None:
        if len(headers) > MAX_HEADERS:
            raise ValidationError(f"At most {MAX_HEADERS} headers.")
        for name, value in headers.items():
            if not HEADER_NAME.match(name) or not HEADER_VALUE.match(value):
                raise ValidationError(f"Not a valid header: {name[:64]!r}.")


class OutletCreateSchema(OutletWriteSchema):
    name = PlainText(max_length=200, required=True, validate=validate.Length(min=1))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in OutletKind]))
    secret = fields.String(validate=validate.Length(min=16, max=128), load_only=True, metadata={
        "description": "Webhook signing secret; generated when absent"})


class OutletSchema(Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"enum": [k.value for k in OutletKind]})
    format = fields.String()
    url = fields.String(allow_none=True)
    header_names = fields.List(fields.String(), metadata={"description": "Values are not shown"})
    filters = fields.Nested(OutletFiltersSchema)
    enabled = fields.Boolean()
    feed_url = fields.String(allow_none=True, metadata={"description": "Feeds: where readers fetch it"})
    circuit = fields.String(metadata={"enum": ["closed", "open", "probing"]})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class OutletWithSecretSchema(OutletSchema):
    secret = fields.String(allow_none=True, metadata={
        "description": "The signing secret: shown in this response only"})


class OutletHealthSchema(Schema):
    outlet_id = fields.String()
    enabled = fields.Boolean()
    paused = fields.Boolean(metadata={"description": "Disabled, or its circuit is open or probing"})
    circuit = fields.String(metadata={"enum": ["closed", "open", "probing"]})
    circuit_retry_at = fields.DateTime(allow_none=True, metadata={"description": "Next probe"})
    consecutive_failures = fields.Integer()
    last_success_at = fields.DateTime(allow_none=True)
    last_failure_at = fields.DateTime(allow_none=True)
    attempts_last_hour = fields.Integer()
    failure_rate_last_hour = fields.Float(allow_none=True)
    deliveries_by_state = fields.Dict(keys=fields.String(), values=fields.Integer())


class DeliveryListArgsSchema(PageArgsSchema):
    state = fields.String(validate=validate.OneOf([s.value for s in DeliveryState]))
    kind = fields.String(validate=validate.OneOf([k.value for k in DeliveryKind]))
    outlet_id = fields.String(validate=validate.Length(max=26))
    article_id = fields.String(validate=validate.Length(max=26))
    since = fields.AwareDateTime(metadata={"description": "Created at or after"})
    until = fields.AwareDateTime(metadata={"description": "Created before"})


class DeliverySchema(Schema):
    id = fields.String(metadata={"description": "Also the Idempotency-Key header of each attempt"})
    outlet_id = fields.String()
    article_id = fields.String()
    revision_id = fields.String(allow_none=True)
    kind = fields.String(metadata={"enum": [k.value for k in DeliveryKind]})
    sequence = fields.Integer(metadata={"description": "Per outlet; receivers order versions by it"})
    state = fields.String(metadata={"enum": [s.value for s in DeliveryState]})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime()
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    next_cursor = fields.String(allow_none=True)


class AttemptSchema(Schema):
    number = fields.Integer()
    started_at = fields.DateTime()
    latency_ms = fields.Float(allow_none=True)
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    response_excerpt = fields.String(allow_none=True)
    outcome = fields.String(metadata={"enum": ["delivered", "retry", "dead", "lost", "late"]})


class DeliveryDetailSchema(DeliverySchema):
    document = fields.Dict(metadata={"description": "What was sent (ninjs)"})
    attempt_log = fields.List(fields.Nested(AttemptSchema), data_key="attempt_log")
