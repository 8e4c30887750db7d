"""Rate limits on the editorial API: per token and route, 429 problem+json with Retry-After,
X-RateLimit-* headers, health checks exempt, a token's limit does not spend another's; on
Redis, shared by every process, and a store that is down lets requests through."""

import itertools
import time

import pytest

from tests.conftest import make_app
from tests.factories import Factory
from tests.services import require


@pytest.fixture(scope="module")
def limited_app(tmp_path_factory):
    from app import migrate
    url = f"sqlite:///{tmp_path_factory.mktemp('limits') / 'm.db'}"
    migrate.upgrade(url)
    return make_app(url, EDITORIAL_RATE_LIMIT_PER_MINUTE=3, PUBLIC_RATE_LIMIT_PER_MINUTE=2,
                    FAILED_AUTH_PER_MINUTE=4)


def _until_refused(send, attempts: int = 8) -> list[int]:
    """Statuses of ``send()`` until the first 429 (a minute may turn in between: retried)."""
    for _ in range(2):
        statuses = [send().status_code for _ in range(attempts)]
        if 429 in statuses:
            return statuses[:statuses.index(429) + 1]
    return statuses


def test_editorial_limit_is_per_token(limited_app):
    client = limited_app.test_client()
    factory = Factory(limited_app, client)
    first, second = factory.login("editor")[1], factory.login("writer")[1]
    statuses = [client.get("/v1/articles", headers=first).status_code for _ in range(4)]
    if statuses == [200] * 4:  # the minute turned between two requests: once more
        statuses = [client.get("/v1/articles", headers=first).status_code for _ in range(4)]
    assert statuses[-1] == 429
    refused = client.get("/v1/articles", headers=first)
    assert refused.status_code == 429 and refused.content_type == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert client.get("/v1/articles", headers=second).status_code == 200  # its own budget
    assert all(client.get("/healthz").status_code == 200 for _ in range(10))  # exempt


def test_feeds_are_limited_per_address(limited_app):
    client = limited_app.test_client()
    statuses = {client.get("/v1/feeds/NOPE").status_code for _ in range(6)}
    assert statuses == {404, 429}


def test_spelling_the_header_differently_buys_no_new_budget(limited_app):
    client = limited_app.test_client()
    factory = Factory(limited_app, client)
    user = factory.user("editor", email="spellings@example.org")
    secret = factory.headers(user)["Authorization"].split(" ", 1)[1]
    spellings = itertools.cycle([f"Bearer {secret}", f"bearer  {secret}", f"BEARER {secret}",
                                 f"Bearer {secret} "])
    statuses = _until_refused(lambda: client.get("/v1/articles",
                                                 headers={"Authorization": next(spellings)}))
    assert statuses[-1] == 429 and len(statuses) <= 3 + 1  # one budget of 3 for every spelling


def test_invented_tokens_are_limited_per_address(limited_app):
    client = limited_app.test_client()
    counter = iter(range(100))
    statuses = _until_refused(lambda: client.get(
        "/v1/articles", headers={"Authorization": f"Bearer mh_invented_{next(counter)}"}))
    assert set(statuses[:-1]) == {401} and statuses[-1] == 429
    other = client.get("/v1/articles", headers={"Authorization": "Bearer mh_x"},
                       environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 401  # another address has its own budget


def test_invented_site_keys_are_limited_per_address(limited_app):
    client = limited_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.1.2.3"  # not the address the test above spent
    counter = iter(range(100))
    statuses = _until_refused(lambda: client.get(
        f"/v1/serve/headlines?articles=A&visitor=v&key=pk_invented{next(counter)}"))
    assert set(statuses[:-1]) == {401} and statuses[-1] == 429


def test_every_limited_response_says_what_is_left(limited_app):
    client = limited_app.test_client()
    user = Factory(limited_app, client).user("editor", email="headers@example.org")
    token = Factory(limited_app, client).headers(user)
    answers = [client.get("/v1/articles", headers=token) for _ in range(2)]
    if answers[1].headers["X-RateLimit-Remaining"] != "1":  # the minute turned: once more
        answers = [client.get("/v1/articles", headers=token) for _ in range(2)]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1"]
    assert all(a.headers["X-RateLimit-Limit"] == "3" for a in answers)
    assert 0 < int(answers[1].headers["X-RateLimit-Reset"]) - time.time() <= 61
    assert client.get("/v1/me", headers=token).headers["X-RateLimit-Remaining"] == "2"  # per route
    assert "X-RateLimit-Limit" not in client.get("/healthz").headers


def _redis_limited_app(tmp_path, redis_url: str):
    from app import migrate
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    migrate.upgrade(url)
    return url, {"RATE_LIMIT_STORAGE_URL": redis_url, "EDITORIAL_RATE_LIMIT_PER_MINUTE": 3}


def test_on_redis_every_process_spends_one_budget(tmp_path):
    url, settings = _redis_limited_app(tmp_path, require("EVENTS_REDIS_URL", "redis"))
    first, second = make_app(url, **settings), make_app(url, **settings)  # two API processes
    token = Factory(first, first.test_client()).login("editor")[1]
    clients = itertools.cycle([first.test_client(), second.test_client()])
    statuses = _until_refused(lambda: next(clients).get("/v1/articles", headers=token))
    assert statuses[-1] == 429 and len(statuses) <= 3 + 1


def test_a_store_that_is_down_lets_requests_through(tmp_path):
    url, settings = _redis_limited_app(tmp_path, "redis://127.0.0.1:1/0")
    app = make_app(url, **settings)
    client = app.test_client()
    token = Factory(app, client).login("editor")[1]
    answers = [client.get("/v1/articles", headers=token) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert "X-RateLimit-Limit" not in answers[-1].headers
