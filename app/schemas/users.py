"""User and token schemas."""

from marshmallow import Schema, fields, validate

from app.models import Role
from app.schemas.fields import PlainText

ROLES = [r.value for r in Role]


class UserSchema(Schema):
    id = fields.String(dump_only=True)
    email = fields.Email(required=True, validate=validate.Length(max=320))
    name = PlainText(max_length=200, load_default="")
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    is_active = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class UserUpdateSchema(Schema):
    name = PlainText(max_length=200)
    role = fields.String(validate=validate.OneOf(ROLES))
    is_active = fields.Boolean()


class TokenCreateSchema(Schema):
    name = PlainText(max_length=200, load_default="")
    expires_in_days = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=3650)
    )


class TokenSchema(Schema):
    id = fields.String()
    name = fields.String()
    prefix = fields.String(metadata={"description": "First characters, to recognise a token"})
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class IssuedTokenSchema(TokenSchema):
    token = fields.String(attribute="secret",
                          metadata={"description": "The secret. Shown only in this response."})
