"""Structured logs: JSON lines with a request id that follows the work into task messages;
no credentials in them."""

import io
import json
import logging

import pytest
from celery.signals import before_task_publish

from app import logs


@pytest.fixture
def log_lines():
    """Every log line written during the test, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_request_id_is_echoed_and_logged_without_the_token(client, editor, log_lines):
    _user, headers = editor
    response = client.get("/v1/articles", headers={**headers, "X-Request-ID": "desk-42"})
    assert response.headers["X-Request-ID"] == "desk-42"
    [access] = [line for line in log_lines() if line["logger"] == "masthead.access"]
    assert access == {**access, "request_id": "desk-42", "route": "/v1/articles", "status": 200,
                      "method": "GET", "level": "info", "event": "request"}
    token = headers["Authorization"].split()[1]
    assert all(token not in json.dumps(line) for line in log_lines())


@pytest.mark.parametrize("given", [None, "", "x" * 200, "bad id\\r\\n", "ünïcode"])
def test_a_missing_or_unsafe_request_id_is_replaced(client, given):
    headers = {} if given is None else {"X-Request-ID": given}
    echoed = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    assert echoed != given and len(echoed) == 32 and echoed.isalnum()


def test_credential_fields_are_masked(log_lines):
    logs.configure("INFO")
    import structlog
    structlog.get_logger("t").info("outlet", secret="whsec_x", api_key="k", name="Partner")
    [line] = [line for line in log_lines() if line["logger"] == "t"]
    assert line["secret"] == "[masked]" and line["api_key"] == "[masked]" and line["name"] == "Partner"


def test_task_messages_carry_the_request_id(client, editor):
    _user, headers = editor
    seen = []

    def capture(headers=None, sender=None, **_kwargs):
        seen.append((sender, dict(headers or {})))

    before_task_publish.connect(capture)
    try:
        created = client.post("/v1/imports", json={"content": "A story\\nSecond line", "language": "en",
                                                    "source": {"name": "wire"}},
                              headers={**headers, "X-Request-ID": "import-7"})
    finally:
        before_task_publish.disconnect(capture)
    assert created.status_code == 202, created.get_json()
    assert ("masthead.cleanup.run", "import-7") in {(name, h.get("request_id")) for name, h in seen}
