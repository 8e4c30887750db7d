"""What the project leaves behind and what it needs to install: test Redis databases are
emptied, and the dependencies an installer could miss are declared directly."""

import importlib
import os
import tomllib
from pathlib import Path

import pytest
import redis

from tests.services import empty_test_redis_databases, require

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.services
def test_test_redis_databases_are_emptied():
    url = require("EVENTS_REDIS_URL", "redis")
    if os.environ.get("TEST_EVENTS_REDIS_URL") != url:
        pytest.skip("only a TEST_ Redis database is ever emptied")
    client = redis.Redis.from_url(url)
    client.set("left-behind", "1")
    assert url in empty_test_redis_databases()
    assert client.dbsize() == 0
    client.close()


def test_html_cleaner_is_a_direct_dependency():
    """jusText imports lxml.html.clean, which lxml 5.2+ ships as lxml_html_clean."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.startswith("lxml_html_clean>=") for d in dependencies), dependencies
    assert importlib.import_module("lxml_html_clean") and importlib.import_module("justext")
