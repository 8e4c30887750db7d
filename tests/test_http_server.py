"""Body limits under the real server (gunicorn): a chunked upload over the limit is 413 and
stores nothing, a compressed one is 415, and an anonymous one is refused before its body
is read."""

import http.client
import json
import time

import pytest

from tests.factories import Factory
from tests.worker_stack import ApiServer, Stack, database

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("http")
    with database("embedded", tmp_path) as (url, broker):
        stack = Stack(url, broker, tmp_path)
        api = ApiServer(stack)
        api.start()
        client = stack.app.test_client()
        token = Factory(stack.app, client).login("writer")[1]["Authorization"]
        try:
            yield api, client, token
        finally:
            api.kill()


def _send(api, path, chunks, headers) -> tuple[int, dict, float]:
    """POST ``chunks`` with Transfer-Encoding: chunked; (status, body, seconds)."""
    connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=60)
    started = time.monotonic()
    try:
        connection.request("POST", path, body=iter(chunks), headers=headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null"), time.monotonic() - started
    except (BrokenPipeError, ConnectionResetError):  # refused before the upload finished
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null"), time.monotonic() - started
    finally:
        connection.close()


def _articles(client, token) -> list:
    return client.get("/v1/articles", headers={"Authorization": token}).get_json()["items"]


def test_chunked_import_over_the_limit_is_413_and_stores_nothing(server):
    api, client, token = server
    chunks = [b"line of scraped copy\n" * 5000] * 110  # about 11 MB, over IMPORT_MAX_BYTES
    status, body, _ = _send(api, "/v1/imports?source=wire", chunks,
                            {"Authorization": token, "Content-Type": "text/plain"})
    assert status == 413 and body["detail"] == f"The body is larger than {10 * MIB} bytes."
    assert _articles(client, token) == []


def test_chunked_import_under_the_limit_is_stored_whole(server):
    api, _client, token = server
    chunks = [b"a line\n" * 1000] * 20
    status, body, _ = _send(api, "/v1/imports?source=wire2", chunks,
                            {"Authorization": token, "Content-Type": "text/plain"})
    assert status == 202 and body["size"] == sum(map(len, chunks))


def test_compressed_upload_is_415(server):
    api, _client, token = server
    status, body, _ = _send(api, "/v1/imports?source=wire3", [b"\x1f\x8b\x08\x00"],
                            {"Authorization": token, "Content-Type": "text/plain",
                             "Content-Encoding": "gzip"})
    assert status == 415 and "Content-Encoding" in body["detail"]


def test_anonymous_upload_is_refused_before_it_is_read(server):
    api, _client, _token = server
    status, body, _ = _send(api, "/v1/imports?source=wire4", [b"x" * MIB] * 10,
                            {"Content-Type": "text/plain"})
    assert status == 401 and body["status"] == 401
