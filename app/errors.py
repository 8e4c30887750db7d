"""Domain errors and their one mapping to RFC 9457 problem+json responses."""

import json
import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, InternalServerError

from app.openapi import PROBLEM_CONTENT_TYPE

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of errors the services raise; each maps to one HTTP status."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict] | None = None, **extra) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra

    def headers(self) -> dict | None:
        return None


class Unauthorized(DomainError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def headers(self) -> dict | None:
        return {"WWW-Authenticate": 'Bearer realm="masthead"'}


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(DomainError):
    status, slug, title = 412, "stale-version", "The resource has changed"


class PreconditionRequired(DomainError):
    status, slug, title = 428, "if-match-required", "If-Match header required"


class ValidationFailed(DomainError):
    status, slug, title = 422, "validation-failed", "Invalid request"

    @classmethod
    def at(cls, field: str, message: str, *, detail: str | None = None,
           location: str = "json") -> "ValidationFailed":
        """One invalid input: ``field`` a JSON pointer into the body (or the query)."""
        return cls(detail or message, errors=[{"location": location, "field": field, "message": message}])


class BadRequest(DomainError):
    status, slug, title = 400, "bad-request", "Malformed request"


class PayloadTooLarge(DomainError):
    status, slug, title = 413, "too-large", "Request too large"


class TooManyRequests(DomainError):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after

    def headers(self) -> dict | None:
        return {"Retry-After": str(self.retry_after)}


def problem_response(
    status: int, title: str, detail: str | None = None, *, slug: str | None = None,
    errors: list[dict] | None = None, headers: dict | None = None, **extra,
) -> Response:
    body = problem_document(status, title, detail, slug=slug, errors=errors,
                            instance=request.path if request else None, **extra)
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype=PROBLEM_CONTENT_TYPE)
    response.headers.extend(headers or {})
    return response


def problem_document(status: int, title: str, detail: str | None = None, *, slug: str | None = None,
                     errors: list[dict] | None = None, instance: str | None = None, **extra) -> dict:
    """The RFC 9457 body, for Flask's handlers and the public hot path (app/api/public_wsgi.py)."""
    body = {
        "type": f"urn:masthead:problem:{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = instance
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def domain_problem(error: DomainError, instance: str) -> dict:
    return problem_document(error.status, error.title, error.detail, slug=error.slug,
                            errors=error.errors, instance=instance, **error.extra)


def field_errors(messages: dict) -> list[dict]:
    """Flatten webargs/marshmallow messages {location: {field: [msg]}} into a list."""
    flat: list[dict] = []
    for location, tree in messages.items():
        _flatten(location, "", tree, flat)
    return flat


def _flatten(location: str, pointer: str, tree, out: list[dict]) -> None:
    if isinstance(tree, dict):
        for key, sub in tree.items():
            segment = "" if key == "_schema" else "/" + str(key).replace("~", "~0").replace("/", "~1")
            _flatten(location, pointer + segment, sub, out)
    elif isinstance(tree, list | tuple):
        for message in tree:
            _flatten(location, pointer, message, out)
    else:
        out.append({"location": location, "field": pointer, "message": str(tree)})


def _handle_domain_error(error: DomainError) -> Response:
    return problem_response(
        error.status, error.title, error.detail, slug=error.slug, errors=error.errors,
        headers=error.headers(), **error.extra,
    )


def _handle_http_exception(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    errors = field_errors(data["messages"]) if "messages" in data else None
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    if errors:
        return problem_response(error.code or 422, ValidationFailed.title,
                                "One or more fields are invalid.", slug=ValidationFailed.slug,
                                errors=errors, headers=headers)
    return problem_response(error.code or 500, error.name, error.description, headers=headers)


def _handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _handle_http_exception(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _handle_http_exception(InternalServerError())


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, _handle_domain_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
