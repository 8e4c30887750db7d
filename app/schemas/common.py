"""Schemas shared by several resources."""

from marshmallow import Schema, fields, validate


class PageArgsSchema(Schema):
    limit = fields.Integer(
        load_default=25, validate=validate.Range(min=1, max=100),
        metadata={"description": "Items per page (1-100)"},
    )
    cursor = fields.String(
        load_default=None, validate=validate.Length(max=512),
        metadata={"description": "Opaque cursor from the previous page's next_cursor"},
    )


class UserRefSchema(Schema):
    id = fields.String()
    name = fields.String()
