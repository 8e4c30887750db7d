"""The front-page snippet in headless Chromium over the example site (examples/front-page/)
against the real stack: the API under gunicorn on one loopback port, a Celery worker and
beat, the static site on another port (another origin). Headlines are swapped for the
served candidates without moving the layout; impressions count only headlines seen (half
in view for a second), the click counts for the candidate shown, staying on the article
counts one engaged read, and the experiments' results show exactly that. With the API
stopped the page keeps its default headlines and no script error is logged."""

import json
import time
from pathlib import Path

import pytest
import redis

from tests.browser_helpers import browser_session, front_page_setup, require_chromium, responses, static_site
from tests.factories import Factory
from tests.services import require
from tests.worker_stack import ApiServer, Stack, database

pytestmark = pytest.mark.worker
ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"EXPERIMENT_RECOMPUTE_SECONDS": 1, "EXPERIMENT_MIN_IMPRESSIONS": 10 ** 9,
            "ENGAGED_SECONDS": 2, "PUBLIC_RATE_LIMIT_PER_MINUTE": 10 ** 6}
SELECTOR = "[data-masthead-article]"
CLICKED = 11  # the story scrolled into view and clicked (the 12th)
NEVER_SEEN = 19  # the last story: never on screen
# Which headlines are in view, by the impression rule's geometry (half of the box).
IN_VIEW = """
return Array.from(document.querySelectorAll('[data-masthead-article]'), function (e) {
  var r = e.getBoundingClientRect();
  var w = Math.max(0, Math.min(r.right, innerWidth) - Math.max(r.left, 0));
  var h = Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0));
  return r.width * r.height ? (w * h) / (r.width * r.height) : 0;
});"""
LAYOUT_SHIFT = """
var done = arguments[arguments.length - 1];
new PerformanceObserver(function (list) {
  done(list.getEntries().reduce(function (sum, e) { return sum + e.value; }, 0));
}).observe({type: 'layout-shift', buffered: true});
setTimeout(function () { done(0); }, 500);"""


@pytest.fixture(params=["embedded", "services"])
def live(request, tmp_path):
    require_chromium()
    settings = dict(SETTINGS)
    if request.param == "services":
        settings["EVENTS_REDIS_URL"] = require("EVENTS_REDIS_URL", "redis")
        redis.Redis.from_url(settings["EVENTS_REDIS_URL"]).flushdb()
    with database(request.param, tmp_path) as (url, broker):
        stack = Stack(url, broker, tmp_path, **settings)
        stack.start()
        api = ApiServer(stack, SERVING_REFRESH_SECONDS=0.5)
        api.start()
        try:
            yield stack, api
        finally:
            if api.process.poll() is None:
                api.kill()
            stack.stop()


@pytest.fixture
def browser():
    with browser_session() as driver:
        yield driver


def _wait(check, timeout: float = 20, what: str = "the page"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def _headlines(browser) -> list[dict]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), function (e) { return {"
        "id: e.getAttribute('data-masthead-article'), text: e.textContent, dir: e.getAttribute('dir'),"
        "lang: e.getAttribute('lang'), hidden: getComputedStyle(e).visibility === 'hidden'}; });", SELECTOR)


def _seen_at_rest(browser, seen: set[int]) -> None:
    """Add the headlines at least half in view now; none may sit near the threshold."""
    ratios = browser.execute_script(IN_VIEW)
    assert not [r for r in ratios if 0.3 < r < 0.7], ratios  # clear of the 50% line
    seen.update(index for index, ratio in enumerate(ratios) if ratio >= 0.7)
    time.sleep(1.6)  # a second in view, and a margin


def _severe(browser) -> list[dict]:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def test_snippet_runs_headline_tests_on_the_example_front_page(live, browser, tmp_path):
    stack, api = live
    base = f"http://127.0.0.1:{api.port}"
    client = stack.app.test_client()
    factory = Factory(stack.app, client)
    (_admin, admin_headers), (_editor, editor) = factory.login("admin"), factory.login("editor")
    setup = front_page_setup()
    stories = setup.setup(base, admin_headers["Authorization"].removeprefix("Bearer "), tmp_path / "site")
    key = _site_key(tmp_path / "site" / "index.html")
    ids = ",".join(story["id"] for story in stories)
    _wait(lambda: api.request("GET", f"/v1/serve/headlines?articles={ids}&visitor=x&key={key}")[1]
          ["missing"] == [], what="the stories to be served")

    with static_site(tmp_path / "site") as site:
        browser.get(f"{site}/index.html")
        shown = _wait(lambda: (h := _headlines(browser)) and all(e["dir"] for e in h) and h,
                      what="the headlines to be swapped")
        served = _served(browser, stories)
        assert [(e["text"], e["dir"], e["lang"]) for e in shown] == [
            (served[s["id"]]["headline"], served[s["id"]]["direction"], served[s["id"]]["language"])
            for s in stories]
        assert {e["dir"] for e in shown} == {"rtl", "ltr"} and not any(e["hidden"] for e in shown)
        assert browser.execute_async_script(LAYOUT_SHIFT) == 0  # the boxes did not move

        seen: set[int] = set()
        _seen_at_rest(browser, seen)
        target = browser.find_elements("css selector", SELECTOR)[CLICKED]
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", target)
        _seen_at_rest(browser, seen)
        assert CLICKED in seen and NEVER_SEEN not in seen and len(seen) < len(stories)
        target.click()  # a real click on the link: the page navigates away at once
        _wait(lambda: browser.current_url.endswith(f"article-{CLICKED + 1:02d}.html"), what="the article")
        time.sleep(3.5)  # ENGAGED_SECONDS (2) of visible, active time, and a margin
        browser.get("about:blank")  # leave: anything still queued goes by beacon
        assert not _severe(browser)

    expected = _expected(stories, served, seen)
    _wait(lambda: _results(client, editor, stories) == expected, 60, "the counts")
    time.sleep(2.5)  # two more flushes: nothing else arrives
    assert _results(client, editor, stories) == expected
    assert '"method": "OPTIONS"' not in (tmp_path / "gunicorn.log").read_text()  # no preflight

    api.kill()
    with static_site(tmp_path / "site") as site:
        for clear_cache in (False, True):  # the script from the cache, then not loadable at all
            if clear_cache:
                browser.execute_cdp_cmd("Network.clearBrowserCache", {})
            browser.get(f"{site}/index.html")
            time.sleep(1)  # past the 300 ms budget
            defaults = _headlines(browser)
            assert [e["text"] for e in defaults] == [s["headlines"][0] for s in stories]
            assert not any(e["hidden"] or e["dir"] for e in defaults)
            errors = _severe(browser)
            assert all(e["source"] == "network" and f":{api.port}/" in e["message"] for e in errors), errors


def _site_key(index: Path) -> str:
    text = index.read_text(encoding="utf-8")
    return text.split('data-key="', 1)[1].split('"', 1)[0]


def _served(browser, stories) -> dict:
    """What the page was served (one request for every headline), by article."""
    visitor = json.loads(browser.execute_script("return localStorage.getItem('masthead.visitor')"))
    answers = responses(browser, "/v1/serve/headlines?")
    assert len(answers) == 1  # one serving call for the whole page
    body = json.loads(answers[0])
    items = {item["article_id"]: item for item in body["items"]}
    assert list(items) == [story["id"] for story in stories] and body["missing"] == []
    assert all(item["experiment_id"] for item in items.values())
    assert visitor and body["engaged_seconds"] == SETTINGS["ENGAGED_SECONDS"]
    return items


def _expected(stories, served, seen) -> dict:
    """(impressions, clicks, engaged) per article and candidate: the candidate shown counts."""
    expected = {}
    for index, story in enumerate(stories):
        shown = served[story["id"]]["candidate_id"]
        counts = (int(index in seen), int(index == CLICKED), int(index == CLICKED))
        expected[story["id"]] = {shown: counts} if any(counts) else {}
    return expected


def _results(client, headers, stories) -> dict:
    results = {}
    for story in stories:
        arms = client.get(f"/v1/articles/{story['id']}/experiment", headers=headers).get_json()["arms"]
        counted = {a["candidate_id"]: (a["impressions"], a["clicks"], a["engaged"]) for a in arms}
        results[story["id"]] = {c: n for c, n in counted.items() if n != (0, 0, 0)}
    return results
