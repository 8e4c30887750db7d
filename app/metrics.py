"""Prometheus metrics.

Two kinds, so that every number has one source of truth:

- **Events in a process** (HTTP requests, Celery tasks, scheduler lateness) are recorded
  where they happen. With PROMETHEUS_MULTIPROC_DIR set (``make run`` sets it), every
  gunicorn and Celery process writes to files in that folder and ``/metrics`` on any API
  process adds them all up; without it, each process reports its own.
- **State** (deliveries by state and outlet, cleanup runs by outcome, experiment events
  by outcome, queue depth) is read from the database, the event store and the broker when
  ``/metrics`` is scraped, so it survives restarts and needs no bookkeeping.
"""

import os
import time

from celery.signals import task_failure, task_postrun, task_prerun, task_retry
from flask import Flask, g, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

HTTP_SECONDS = Histogram("masthead_http_request_duration_seconds", "API request latency",
                         ["method", "route", "status"],
                         buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10))
TASK_SECONDS = Histogram("masthead_task_duration_seconds", "Celery task run time", ["task", "state"],
                         buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 180))
TASK_FAILURES = Counter("masthead_task_failures_total", "Celery tasks that raised", ["task"])
TASK_RETRIES = Counter("masthead_task_retries_total", "Celery task retries", ["task"])
SCHEDULER_LATENESS = Histogram("masthead_scheduler_lateness_seconds",
                               "Scheduled publishing: seconds after publish_at",
                               buckets=(0.5, 1, 2, 5, 10, 30, 60, 300, 900))
_task_started: dict[str, float] = {}


def init_request_metrics(app: Flask) -> None:
    app.before_request(lambda: setattr(g, "metrics_started", time.perf_counter()))
    app.after_request(_observe_request)


def _observe_request(response):
    started = g.get("metrics_started")
    if started is not None:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        observe_request(request.method, route, response.status_code, time.perf_counter() - started)
    return response


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_SECONDS.labels(method, route, str(status)).observe(seconds)


@task_prerun.connect
def _task_started_at(task_id=None, **_kwargs) -> None:
    _task_started[task_id] = time.perf_counter()


@task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **_kwargs) -> None:
    started = _task_started.pop(task_id, None)
    if started is not None and task is not None:
        TASK_SECONDS.labels(task.name, state or "UNKNOWN").observe(time.perf_counter() - started)


@task_failure.connect
def _task_failed(sender=None, **_kwargs) -> None:
    TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()


@task_retry.connect
def _task_retried(sender=None, **_kwargs) -> None:
    TASK_RETRIES.labels(getattr(sender, "name", "unknown")).inc()


def render(state_collector) -> bytes:
    """The exposition text: process metrics (all processes in multiprocess mode) plus the
    state read now."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    body = generate_latest(registry)
    state = CollectorRegistry()
    state.register(state_collector)
    return body + generate_latest(state)


def gauge(name: str, documentation: str, labels: list[str], values: dict[tuple, float]):
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for label_values, value in values.items():
        family.add_metric(list(label_values), value)
    return family
