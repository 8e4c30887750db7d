"""Where the real PostgreSQL and Redis are, and throwaway databases on them."""

import os
import uuid
from contextlib import contextmanager, suppress

import pytest
import redis
from sqlalchemy import create_engine, make_url, text

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


@contextmanager
def scratch_postgres(server_url: str):
    """Create a uniquely named database on the server of ``server_url``; drop it afterwards."""
    name = f"masthead_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(server_url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


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
