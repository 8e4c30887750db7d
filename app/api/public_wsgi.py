"""The public endpoints' hot path: a lean WSGI app in front of Flask, in the same process.

GET /v1/serve/headlines answers a front page per visitor, POST /v1/events a batch of their
events. Profiled under gunicorn (py-spy on the workers, docs/benchmarks-hot-paths.md),
Flask's per-request machinery (request context, URL matching, a dozen hooks, the response
object) cost more than the answer. This app answers those two routes itself with the same
rules, calling what the Flask views call: the site key and its rate limit, the views'
validation and services, problem+json errors, the security headers, public CORS, the
request id, the access line of a failure and the request metrics.

It hands a request to Flask untouched when anything before the caller is admitted is
unusual: an unknown site key (401, counted against the address), a NUL in the query, a
preflight or HEAD, an event body that is chunked, empty, compressed, over the limit or of
another media type. The Flask views (app/api/public.py) answer those as they always have,
and carry the routes' OpenAPI documentation.
"""

import json
import logging
import time
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.exceptions import InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from app import logs, metrics
from app.api import browser, public
from app.api.http import JSON_TYPES, parse_json
from app.errors import DomainError, domain_problem, problem_document
from app.experiments import events
from app.experiments.event_stores import event_store
from app.experiments.serving import Snapshot
from app.openapi import PROBLEM_CONTENT_TYPE

log = logging.getLogger(__name__)
SERVE, EVENTS = "/v1/serve/headlines", "/v1/events"
JSON = ("Content-Type", "application/json")
EVENT_MEDIA_TYPES = ("text/plain",)  # besides JSON: navigator.sendBeacon sends a string so


class PublicWsgi:
    """WSGI middleware: the public hot path, everything else to ``fallback`` (Flask)."""

    def __init__(self, app: Flask, fallback) -> None:
        self.app, self.config, self.fallback = app, app.config, fallback
        self.routes = {("GET", SERVE): self._serve, ("POST", EVENTS): self._events}

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        route = self.routes.get((environ["REQUEST_METHOD"], environ.get("PATH_INFO")))
        args = None if route is None else self._plain_request(environ, route)
        snapshot = None if args is None else self.app.extensions["serving"].current()
        if snapshot is None or args.get("key") not in snapshot.sites:
            return self.fallback(environ, start_response)
        try:
            self.app.extensions["public_limiter"].hit(
                args["key"], environ.get("REMOTE_ADDR"), self.config["PUBLIC_RATE_LIMIT_PER_MINUTE"])
            status, headers, body = route(environ, args, snapshot)
        except DomainError as error:
            status, headers, body = _problem(error.status, domain_problem(error, environ["PATH_INFO"]),
                                             error.headers())
        except Exception:
            if self._propagate():
                raise
            log.exception("unhandled error on %s %s", environ["REQUEST_METHOD"], environ["PATH_INFO"])
            status, headers, body = _internal_error(environ["PATH_INFO"])
        return self._respond(environ, start_response, started, status, headers, body)

    def _plain_request(self, environ, route) -> dict[str, str] | None:
        """The query arguments (the first value of each, as Flask's ``args.get``), or None
        when Flask must answer: a NUL or bytes that are not UTF-8 in the query, or (events)
        a body that is not a plain JSON one within the limit."""
        query = environ.get("QUERY_STRING", "")
        if "\x00" in query or "%00" in query or (route == self._events and not self._plain_body(environ)):
            return None
        try:
            pairs = parse_qsl(query.encode("latin1").decode(), keep_blank_values=True,
                              errors="werkzeug.url_quote")
        except UnicodeError:
            return None
        args: dict[str, str] = {}
        for name, value in pairs:
            args.setdefault(name, value)
        return args

    def _plain_body(self, environ) -> bool:
        length = environ.get("CONTENT_LENGTH", "")
        mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
        return (length.isdigit() and 0 < int(length) <= self.config["EVENTS_MAX_BYTES"]
                and "HTTP_TRANSFER_ENCODING" not in environ
                and environ.get("HTTP_CONTENT_ENCODING", "identity").strip().lower() in ("", "identity")
                and (mimetype in EVENT_MEDIA_TYPES or JSON_TYPES.match(mimetype) is not None))

    def _serve(self, _environ, args: dict, snapshot: Snapshot):
        body, cache_control = public.front_page(snapshot, args, self.config)
        return 200, [JSON, ("Cache-Control", cache_control)], body.encode()

    def _events(self, environ, args: dict, snapshot: Snapshot):
        public.check_args(args, public.EVENT_ARGS)
        raw = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        with self.app.app_context():  # the event store's configuration (and its database)
            report = events.ingest_body(raw, snapshot, event_store())
            if report is None:  # some event is not valid: the reference path says which
                report = events.ingest(parse_json(raw), snapshot, event_store())
        return 200, [JSON], json.dumps(report).encode()

    def _respond(self, environ, start_response, started: float, status: int, headers: list,
                 body: bytes):
        request_id = logs.request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        headers += [("Content-Length", str(len(body))), (logs.HEADER, request_id),
                    *browser.public_headers(environ.get("HTTP_ORIGIN"), self.config["PUBLIC_CORS_ORIGINS"])]
        method, route = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        metrics.observe_request(method, route, status, time.perf_counter() - started)
        if status >= 400:  # as in Flask: only failures of the public routes are logged
            logs.log_request(method, route, status, started, request_id=request_id)
        start_response(f"{status} {HTTP_STATUS_CODES[status].upper()}", headers)
        return [body]

    def _propagate(self) -> bool:
        """Flask's rule for unexpected errors: raised to the server (tests, debug), or 500."""
        propagate = self.config.get("PROPAGATE_EXCEPTIONS")
        return self.app.testing or self.app.debug if propagate is None else propagate


def _problem(status: int, document: dict, headers: dict | None) -> tuple[int, list, bytes]:
    return (status, [("Content-Type", PROBLEM_CONTENT_TYPE), *(headers or {}).items()],
            json.dumps(document, ensure_ascii=False).encode())


def _internal_error(path: str) -> tuple[int, list, bytes]:
    error = InternalServerError()
    return _problem(500, problem_document(500, error.name, error.description, instance=path), None)
