"""HTTP conventions shared by the resources: body checks, ETags, Idempotency-Key, Link."""

import json
import re
from functools import wraps
from urllib.parse import urlencode

from flask import Response, current_app, g, request
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import UnsupportedMediaType

from app.api.auth import current_user, handler
from app.errors import BadRequest, NotFound, PayloadTooLarge, PreconditionRequired, ValidationFailed
from app.extensions import db
from app.platform import idempotency
from app.platform.uow import transaction

JSON_TYPES = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

class StrictParser(FlaskParser):
    """Unknown query parameters are errors: a mistyped filter must not silently match all."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None,
    }


class ApiBlueprint(Blueprint):
    """A blueprint that declares its rate-limit class beside its views (app/api/limits.py):
    ``per_token`` (the editorial default), ``per_address``, ``per_site_key`` or ``exempt``."""

    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args, rate_limit: str = "per_token", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rate_limit = rate_limit

    def arguments(self, schema, *args, **kwargs):
        """As flask-smorest's, with one schema instance per view: given a class, webargs
        builds a new instance on every request (a twentieth of a short read's time)."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)


IF_MATCH_PARAM = {
    "in": "header", "name": "If-Match", "required": True,
    "description": "The ETag of the article as last read; 428 if missing, 412 if stale.",
    "schema": {"type": "string"},
}
IDEMPOTENCY_KEY_PARAM = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "description": "Retry-safe key (1-255 visible ASCII characters); a replay returns the "
                   "first response, the same key with another body answers 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
IF_NONE_MATCH_PARAM = {
    "in": "header", "name": "If-None-Match", "required": False,
    "description": "ETags of copies the client holds (or '*'); 304 without a body when one "
                   "is current (weak comparison, RFC 9110).",
    "schema": {"type": "string"},
}
ETAG_HEADER = {"ETag": {"description": "Version tag to send back in If-Match",
                        "schema": {"type": "string"}}}
LINK_HEADER = {"Link": {"description": "RFC 8288 link to the next page (rel=next)",
                        "schema": {"type": "string"}}}


def check_url() -> None:
    """NUL cannot be stored or compared by PostgreSQL; refuse it before any query runs."""
    if "\x00" in request.path:
        raise NotFound("No such resource.")
    query = request.query_string
    if b"\x00" not in query and b"%00" not in query:
        return  # the common case, without decoding every parameter
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            raise ValidationFailed("The query string contains a NUL character.", errors=[{
                "location": "query", "field": f"/{name.replace(chr(0), '')}",
                "message": "NUL characters are not allowed."}])


def takes_body(*, limit: str = "MAX_CONTENT_LENGTH", raw_types: tuple[str, ...] = (),
         text_as_json: bool = False):
    """Declare the request body a view takes, beside the view: the setting that limits its
    size, media types stored as raw bytes (scraped pages), and whether a text/plain body
    is read as JSON (``navigator.sendBeacon`` sends a string so). JSON up to
    MAX_BODY_BYTES otherwise."""

    def decorator(view):
        view.body_policy = (limit, raw_types, text_as_json)
        return view

    return decorator


DEFAULT_BODY = ("MAX_CONTENT_LENGTH", (), False)


def reads_only(view):
    """Declare, beside the view, that it only reads: on PostgreSQL its requests run their
    statements in autocommit mode (app/extensions.py), without BEGIN and ROLLBACK."""
    view.reads_only = True
    return view


def mark_reads_only() -> None:
    """Before-request, before anything touches the database (authentication does)."""
    if getattr(handler(), "reads_only", False):
        g.db_reads_only = True


def check_body() -> None:
    """Read and check the body before any view sees it (before_request, after the caller
    is authenticated and rate limited): its encoding, its size for every transfer
    encoding, and, unless the view stores it raw, that it is UTF-8 JSON."""
    if request.method not in ("POST", "PUT", "PATCH") or not _has_body():
        return
    limit, raw_types, text_as_json = getattr(handler(), "body_policy", DEFAULT_BODY)
    _refuse_content_encoding()
    raw = _read_body(current_app.config[limit])
    if request.mimetype in raw_types:
        return
    as_text = text_as_json and request.mimetype == "text/plain"
    if not as_text and not JSON_TYPES.match(request.mimetype or ""):
        raise UnsupportedMediaType("Send the body as application/json.")
    g.json_body = parse_json(raw)  # kept: views on the hot path need not parse it again


def parse_json(raw: bytes):
    """A UTF-8 JSON body, or 400 saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"The body is not valid UTF-8 (byte {error.start}).") from error
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise BadRequest(f"The body is not valid JSON: {error}.") from error


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")


def _refuse_content_encoding() -> None:
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise UnsupportedMediaType(f"Content-Encoding {encoding[:40]!r} is not accepted; send the "
                                   "body uncompressed.")


def _read_body(limit: int) -> bytes:
    """The whole body, or 413 when it is larger than ``limit`` (nothing is stored then).

    With a Content-Length the check is made before reading. A chunked body has none, and
    werkzeug would silently cut it at the limit: read one byte more than allowed to tell
    "at the limit" from "over it"."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
    request.max_content_length = limit + 1
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
    return raw


def etag_for(version: int) -> str:
    return f'"v{version}"'


def not_modified(etag: str) -> Response | None:
    """A 304 when If-None-Match names ``etag`` or is '*' (RFC 9110 13.1.2: the weak
    comparison, so W/"v3" matches "v3"); None when the client needs the representation."""
    tags = request.if_none_match
    if not (tags.star_tag or tags.contains_weak(etag.strip('"'))):
        return None
    return Response(status=304, headers={"ETag": etag})


def expected_version() -> int | None:
    """The version If-Match names: None for '*', -1 when it names no version we issued."""
    if "If-Match" not in request.headers:
        raise PreconditionRequired("Send If-Match with the ETag from your last read.")
    tags = request.if_match
    if tags.star_tag:
        return None
    for tag in tags.as_set():
        if tag and re.fullmatch(r"v\d{1,9}", tag):
            return int(tag[1:])
    return -1


def next_link(next_cursor: str | None) -> dict:
    if not next_cursor:
        return {}
    args = request.args.to_dict(flat=True)
    args["cursor"] = next_cursor
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")  # never the request's Host header
    return {"Link": f'<{base}{request.path}?{urlencode(args)}>; rel="next"'}


def idempotent(view):
    """Replay the first response for a repeated Idempotency-Key (creating POSTs only)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not IDEMPOTENCY_KEY.match(key):
            raise ValidationFailed("Invalid Idempotency-Key.", errors=[{
                "location": "headers", "field": "/Idempotency-Key",
                "message": "1-255 visible ASCII characters."}])
        user = current_user()
        fingerprint = idempotency.fingerprint(request.method, request.path,
                                              request.get_json(silent=True))
        stored = idempotency.find(user, key, fingerprint)
        if stored is None:
            try:
                return _first_response(view, user, key, fingerprint, args, kwargs)
            except IntegrityError:
                db.session.rollback()
                stored = idempotency.find(user, key, fingerprint)
                if stored is None:
                    raise
        return _replay(stored)

    return wrapper


def _first_response(view, user, key, fingerprint, args, kwargs) -> Response:
    with transaction():
        record = idempotency.reserve(user, key, fingerprint)
        response = view(*args, **kwargs)
        idempotency.complete(record, response.status_code, response.get_data(as_text=True),
                             dict(response.headers))
    return response


def _replay(stored: idempotency.StoredResponse) -> Response:
    response = Response(stored.body, stored.status, headers=stored.headers)
    response.headers["Idempotent-Replayed"] = "true"
    return response
