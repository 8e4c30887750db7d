"""Headline candidate schemas."""

from marshmallow import Schema, fields, validate

from app.schemas.fields import PlainText

STATUSES = ["proposed", "accepted", "rejected"]


class CandidateSchema(Schema):
    id = fields.String()
    text = fields.String()
    origin = fields.String(metadata={"enum": ["extracted", "manual"]})
    status = fields.String(metadata={"enum": STATUSES})
    position = fields.Integer()
    created_by_id = fields.String()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class CandidateCreateSchema(Schema):
    text = PlainText(max_length=1000, required=True, validate=validate.Length(min=1))


class CandidateUpdateSchema(Schema):
    text = PlainText(max_length=1000, validate=validate.Length(min=1))
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": "Accept or reject a proposal (only accepted candidates go live)"})


class CandidateOrderSchema(Schema):
    ids = fields.List(fields.String(validate=validate.Length(max=26)), required=True,
                      validate=validate.Length(max=100))
