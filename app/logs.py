"""Structured logs: one JSON object per line, with the request id of the work at hand.

Every log record (ours, Flask's, Celery's, gunicorn's through the root logger) goes
through structlog's formatter, so a line is JSON whoever wrote it. A request id is taken
from X-Request-ID (if it is a sane token) or generated, echoed back, bound to every line
of the request, and carried in the headers of each task message the request sends, so a
worker's lines about that task carry it too. Nothing logs headers or bodies; values under
keys that name credentials are masked all the same, in case a caller passes one.
"""

import logging
import random
import re
import sys
import time

import structlog
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun
from flask import Flask, g, request
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}\Z")
SECRET_KEYS = re.compile(r"authorization|token|secret|password|api[_-]?key|signature", re.I)
HEADER = "X-Request-ID"


SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars, structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name, structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure(level: str) -> None:
    """Route every logger through one JSON renderer (idempotent: safe per app)."""
    structlog.configure(
        processors=[*SHARED_PROCESSORS, _mask_secrets,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(), cache_logger_on_first_use=True)
    root = logging.getLogger()
    root.setLevel(level)
    if any(isinstance(h, _JsonHandler) for h in root.handlers):
        return
    # Other handlers (a test runner's capture) stay; the plain ones basicConfig or a
    # library added would print the same record a second time, unformatted.
    root.handlers[:] = [h for h in root.handlers if type(h) is not logging.StreamHandler]
    handler = _JsonHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    root.addHandler(handler)


def json_formatter() -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*SHARED_PROCESSORS, _mask_secrets], processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False)])


class _JsonHandler(logging.StreamHandler):
    """Ours: configure() recognises it and does not add a second one."""


def _mask_secrets(_logger, _method, event: dict) -> dict:
    for key in event:
        if SECRET_KEYS.search(key):
            event[key] = "[masked]"
    return event


def init_request_ids(app: Flask) -> None:
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(lambda _error: clear_contextvars())


def request_id(given: str) -> str:
    """The caller's X-Request-ID if it is a sane token, else a new one.

    Random bits, not uuid4: an id only correlates log lines, and os.urandom is a system
    call on every request of the hot path."""
    return given if REQUEST_ID.match(given) else f"{random.getrandbits(128):032x}"


def _start_request() -> None:
    g.request_id = request_id(request.headers.get(HEADER, ""))
    g.request_started = time.perf_counter()
    clear_contextvars()
    bind_contextvars(request_id=g.request_id)


def _finish_request(response):
    response.headers[HEADER] = g.get("request_id", "")
    started = g.get("request_started")
    # Public serving and events are the hot path, counted by the metrics: only their
    # failures are logged, or logging would cost more than answering.
    quiet = request.blueprint == "public" and response.status_code < 400
    if started is not None and not quiet:
        log_request(request.method, request.url_rule.rule if request.url_rule else None,
                    response.status_code, started)
    return response


def log_request(method: str, route: str | None, status: int, started: float, **context) -> None:
    """The access line of one request (``started``: its time.perf_counter())."""
    structlog.get_logger("masthead.access").info(
        "request", method=method, route=route, status=status,
        duration_ms=round((time.perf_counter() - started) * 1000, 2), **context)


@before_task_publish.connect
def _carry_request_id(headers: dict | None = None, **_kwargs) -> None:
    request_id = get_contextvars().get("request_id")
    if request_id and headers is not None:
        headers["request_id"] = request_id


@task_prerun.connect
def _bind_task_context(task_id=None, task=None, **_kwargs) -> None:
    clear_contextvars()
    request_id = None
    if task is not None:  # custom message headers: an attribute or in .headers, by protocol
        request_id = getattr(task.request, "request_id", None) or \
            (getattr(task.request, "headers", None) or {}).get("request_id")
    bind_contextvars(task_id=task_id, task=task.name if task else None,
                     **({"request_id": request_id} if request_id else {}))


@task_postrun.connect
def _unbind_task_context(**_kwargs) -> None:
    clear_contextvars()


@setup_logging.connect
def _celery_uses_our_logging(loglevel=None, **_kwargs) -> None:
    """Connected, so Celery leaves the root logger to us instead of its own format."""
    configure(loglevel or "INFO")
