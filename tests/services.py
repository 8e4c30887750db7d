"""Where the real PostgreSQL and Redis are, and throwaway databases on them."""

import functools
import os
from contextlib import suppress

import pytest
import redis

from bench.scratch import scratch_database

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
# Redis databases given to the tests alone: emptied when a test session ends. Only these
# TEST_ names: CELERY_BROKER_URL (which `configured` also accepts) may be a real broker.
TEST_REDIS_VARIABLES = ("TEST_CELERY_BROKER_URL", "TEST_EVENTS_REDIS_URL")


def configured(name: str, scheme: str) -> str | None:
    url = os.environ.get(f"TEST_{name}") or os.environ.get(name)
    return url if url and url.startswith(scheme) else None


def require(name: str, scheme: str) -> str:
    """The service URL, or skip (fail under REQUIRE_SERVICES=1) when it is not configured."""
    url = configured(name, scheme)
    if url:
        return url
    reason = f"{scheme} service not configured: set TEST_{name} (or {name})"
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


# One scratch-database helper for tests and benchmarks (bench/scratch.py).
scratch_postgres = functools.partial(scratch_database, prefix="masthead_test")


def empty_test_redis_databases() -> list[str]:
    """FLUSHDB each Redis database named by TEST_REDIS_VARIABLES (queues, kombu bindings,
    event ids the tests left); returns the URLs emptied."""
    emptied = []
    for name in TEST_REDIS_VARIABLES:
        url = os.environ.get(name, "")
        if url.startswith("redis"):
            client = redis.Redis.from_url(url, socket_connect_timeout=2)
            with suppress(redis.ConnectionError):
                client.flushdb()
                emptied.append(url)
            client.close()
    return emptied
