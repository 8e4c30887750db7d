"""OpenAPI generation: flask-smorest's Api, made to speak RFC 9457 problem+json.

Responses every operation can give (401/403 when it is secured, 400/413/415 when it takes
a body, 500 always) are added by a spec plugin so that no route can forget them; codes
that depend on the route (404, 409, 412, 428) are declared on the route itself.
"""

import http

from apispec import BasePlugin
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields

PROBLEM_CONTENT_TYPE = "application/problem+json"


class FieldErrorSchema(Schema):
    location = fields.String(metadata={"description": "json, query, headers or path"})
    field = fields.String(metadata={"description": "JSON Pointer to the offending field"})
    message = fields.String()


class ProblemSchema(Schema):
    """An RFC 9457 problem document."""

    type = fields.String(metadata={"description": "URI identifying the problem type"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    errors = fields.List(fields.Nested(FieldErrorSchema))
    current_state = fields.String(metadata={"description": "Present on state conflicts"})
    current_version = fields.Integer(metadata={"description": "Present on stale If-Match"})


class CommonResponsesPlugin(BasePlugin):
    """Declare the error responses that follow from an operation's shape."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            codes = [500]
            if operation.get("security") != []:
                codes += [401, 403]
            if "requestBody" in operation:
                codes += [400, 413, 415, 422]
            if any(p.get("in") in ("query", "header") for p in operation.get("parameters", [])):
                codes.append(422)
            for code in codes:
                responses.setdefault(str(code), http.HTTPStatus(code).name)


class ProblemApi(Api):
    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, app=None, *, spec_kwargs=None, **kwargs):
        spec_kwargs = {"extra_plugins": [CommonResponsesPlugin()], **(spec_kwargs or {})}
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def _register_error_handlers(self):
        """Error handlers live in app.errors; nothing to register here."""

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            content_type = PROBLEM_CONTENT_TYPE if status >= 400 else "application/json"
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
