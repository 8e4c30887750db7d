"""Health and operational schemas."""

from marshmallow import Schema, fields


class HealthSchema(Schema):
    status = fields.String(metadata={"enum": ["ok"]})


class ReadinessSchema(Schema):
    status = fields.String(metadata={"enum": ["ready", "unavailable"]})
    checks = fields.Dict(keys=fields.String(), values=fields.String(),
                         metadata={"description": "'ok' or the error class per dependency"})


class HeartbeatSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"enum": ["probe", "beat"]})
    status = fields.Function(lambda b: "completed" if b.completed_at else "pending",
                             metadata={"enum": ["pending", "completed"]})
    requested_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    worker = fields.String(allow_none=True)


class WorkersStatusSchema(Schema):
    last_beat = fields.Nested(HeartbeatSchema, allow_none=True)
    last_probe = fields.Nested(HeartbeatSchema, allow_none=True)
