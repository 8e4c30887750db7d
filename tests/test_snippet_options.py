"""The front-page snippet's privacy options and retries, in headless Chromium over the example
site (the API in-process on one loopback port, the site on another; events counted
straight into the database): without storage nothing is stored; with consent required
nothing is sent or stored before consent; a batch that fails is sent again with the same
event ids and counted once."""

import json
import time
from pathlib import Path

import pytest

from app import migrate
from tests.browser_helpers import (
    browser_session,
    front_page_setup,
    live_server,
    requests_sent,
    require_chromium,
    static_site,
)
from tests.conftest import make_app
from tests.factories import Factory

ROOT = Path(__file__).resolve().parent.parent
OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
ONLINE = {**OFFLINE, "offline": False}
HEADLINES = "return Array.from(document.querySelectorAll('[data-masthead-article]'), " \
            "function (e) { return [e.textContent, e.getAttribute('dir')]; });"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example's 20 stories live on an API served on loopback; site variants by option."""
    require_chromium()
    folder = tmp_path_factory.mktemp("snippet")
    url = f"sqlite:///{folder / 'masthead.db'}"
    migrate.upgrade(url)
    app = make_app(url, PUBLIC_RATE_LIMIT_PER_MINUTE=10 ** 6, EXPERIMENT_MIN_IMPRESSIONS=10 ** 9)
    client = app.test_client()
    factory = Factory(app, client)
    (_admin, admin), (_editor, editor) = factory.login("admin"), factory.login("editor")
    setup = front_page_setup()
    with live_server(app) as base:
        stories = setup.setup(base, admin["Authorization"].removeprefix("Bearer "), folder / "site" / "plain")
        key = (folder / "site" / "plain" / "index.html").read_text().split('data-key="', 1)[1].split('"')[0]
        api = setup.Api(base)
        for name, options in {"nostorage": {"storage": "none"}, "consent": {"consent": "required"}}.items():
            setup.write_site(folder / "site" / name, stories, setup.script_tag(api, key, **options))
        with static_site(folder / "site") as site:
            yield {"site": site, "stories": stories, "client": client, "editor": editor}


@pytest.fixture
def browser():
    with browser_session() as driver:
        yield driver


def _impressions(example) -> dict[str, int]:
    """Impressions counted so far, by article."""
    client, editor = example["client"], example["editor"]
    return {story["id"]: sum(arm["impressions"] for arm in client.get(
        f"/v1/articles/{story['id']}/experiment", headers=editor).get_json()["arms"])
        for story in example["stories"]}


def _swapped(browser) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if all(direction for _text, direction in browser.execute_script(HEADLINES)):
            return True
        time.sleep(0.1)
    return False


def _storage(browser) -> list[str]:
    return browser.execute_script("return Object.keys(localStorage)")


def _to_api(requests: list[dict], path: str) -> list[dict]:
    return [request for request in requests if path in request["url"]]


def test_without_storage_the_page_takes_part_and_stores_nothing(example, browser):
    before = _impressions(example)
    browser.get(f"{example['site']}/nostorage/index.html")
    assert _swapped(browser)
    time.sleep(2.5)  # in view for a second, then the batch
    assert _storage(browser) == []
    sent = requests_sent(browser)
    assert len(_to_api(sent, "/v1/serve/headlines")) == 1 and _to_api(sent, "/v1/events")
    counted = {a: n - before[a] for a, n in _impressions(example).items()}
    assert set(counted.values()) == {0, 1} and sum(counted.values()) >= 3


def test_with_consent_required_nothing_is_sent_or_stored_before_consent(example, browser):
    defaults = [[story["headlines"][0], None] for story in example["stories"]]
    page = f"{example['site']}/consent/index.html"
    browser.get(page)
    time.sleep(1.5)  # past the budget
    assert browser.execute_script(HEADLINES) == defaults and _storage(browser) == []
    assert not _to_api(requests_sent(browser), "/v1/serve/headlines")  # only the script itself

    browser.execute_script("masthead.consent()")  # too late for this page view's headlines
    time.sleep(1.5)
    assert browser.execute_script(HEADLINES) == defaults
    assert "masthead.visitor" in _storage(browser)
    sent = requests_sent(browser)
    assert not _to_api(sent, "/v1/serve/headlines") and not _to_api(sent, "/v1/events")

    # The site sets the flag before the script runs on the next page view (its consent tool).
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                            {"source": "window.mastheadConsent = true"})
    browser.get(page)
    assert _swapped(browser)
    assert len(_to_api(requests_sent(browser), "/v1/serve/headlines")) == 1


def test_a_failed_batch_is_sent_again_with_the_same_event_ids_and_counted_once(example, browser):
    before = _impressions(example)
    browser.get(f"{example['site']}/plain/index.html")
    assert _swapped(browser)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", OFFLINE)
    time.sleep(3.5)  # impressions after a second, the batch after another: it fails, so does a retry
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", ONLINE)
    time.sleep(6)  # the next retries get through
    posts = [json.loads(request["postData"])["events"] for request in
             _to_api(requests_sent(browser), "/v1/events")]
    assert len(posts) >= 2 and all(batch == posts[0] for batch in posts), posts
    assert {event["type"] for event in posts[0]} == {"impression"}
    counted = {a: n - before[a] for a, n in _impressions(example).items()}
    assert sum(counted.values()) == len(posts[0]) and set(counted.values()) == {0, 1}
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and e["source"] != "network"]
    assert not errors
