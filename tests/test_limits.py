"""Rate limits on the editorial API: per token, 429 problem+json with Retry-After, health
checks exempt, and a token's limit does not spend another's."""

import pytest

from tests.conftest import make_app
from tests.factories import Factory


@pytest.fixture(scope="module")
def limited_app(tmp_path_factory):
    from app import migrate
    url = f"sqlite:///{tmp_path_factory.mktemp('limits') / 'm.db'}"
    migrate.upgrade(url)
    return make_app(url, EDITORIAL_RATE_LIMIT_PER_MINUTE=3, PUBLIC_RATE_LIMIT_PER_MINUTE=2)


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
