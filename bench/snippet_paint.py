"""What the front-page snippet adds to paint times, measured in headless Chromium.

    .venv/bin/python bench/snippet_paint.py [--loads 15] [--loading async|defer]

Needs chromium and chromedriver (Debian). Starts the embedded stack's API under gunicorn
on loopback (a scratch SQLite database; no worker is needed: publishing starts the
tests), puts the example front page's 20 stories live with examples/front-page/setup.py
and writes the site twice, with the snippet's script tag and without it, served by
http.server on another origin. One Chromium loads the two pages alternately, N times
each, in two cache states:

- warm: the script in the browser cache (a returning reader); storage is cleared after
  each load, so every load is a new visitor and the serving answer is never cached;
- cold: the browser cache and storage cleared before each load (a first visit).

Reported per state: medians of first paint (FP), first contentful paint (FCP) and largest
contentful paint (LCP), in ms after navigation start, for each page and the difference;
and, with the snippet, when the serving answer arrived (the headlines are final then, or
at the 300 ms budget). All on loopback: a real network adds its round trip to the
serving answer, not to first paint.
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app, migrate  # noqa: E402
from tests.browser_helpers import chromium, static_site  # noqa: E402
from tests.worker_stack import free_port  # noqa: E402

METRICS = """
var done = arguments[arguments.length - 1], out = {};
performance.getEntriesByType('paint').forEach(function (e) { out[e.name] = e.startTime; });
var serve = performance.getEntriesByType('resource').filter(function (e) {
  return e.name.indexOf('/v1/serve/headlines') >= 0; })[0];
out.served = serve ? serve.responseEnd : null;
new PerformanceObserver(function (list) {
  var entries = list.getEntries(); out.lcp = entries[entries.length - 1].startTime; done(out);
}).observe({type: 'largest-contentful-paint', buffered: true});
setTimeout(function () { done(out); }, 500);"""


def _setup_module():
    path = ROOT / "examples" / "front-page" / "setup.py"
    spec = importlib.util.spec_from_file_location("front_page_setup", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _admin_token(url: str, instance: Path) -> str:
    from app.models import Role
    from app.platform import users
    from app.platform.uow import transaction
    app = create_app({"DATABASE_URL": url, "INSTANCE_DIR": str(instance)})
    with app.app_context(), transaction():
        admin = users.create_user("bench@example.org", Role.ADMIN, "Bench")
        return users.issue_token(admin, name="bench").secret


def _gunicorn(url: str, instance: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": "filesystem://",
           "CELERY_BROKER_DIR": str(instance / "broker"), "MASTHEAD_INSTANCE_DIR": str(instance),
           "SERVING_REFRESH_SECONDS": "0.5", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", "2",
                                "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _wait_served(api: str, stories: list[dict], index: Path) -> None:
    key = index.read_text(encoding="utf-8").split('data-key="', 1)[1].split('"', 1)[0]
    ids = ",".join(story["id"] for story in stories)
    for _ in range(100):
        with urllib.request.urlopen(f"{api}/v1/serve/headlines?articles={ids}&visitor=b&key={key}") as r:
            if not json.loads(r.read())["missing"]:
                return
        time.sleep(0.2)
    raise SystemExit("the stories were never served")


def _load(driver, url: str, cold: bool) -> dict:
    if cold:
        driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.get(url)
    time.sleep(0.8)  # past the budget; the largest paint has happened
    metrics = driver.execute_async_script(METRICS)
    driver.execute_script("localStorage.clear()")  # the next load is a new visitor
    return metrics


def measure(site: str, loads: int, cold: bool) -> dict[str, list[dict]]:
    driver = chromium(1000, 700)
    try:
        for page in ("with", "without"):  # warm the script and the server once, not measured
            _load(driver, f"{site}/{page}/index.html", cold)
        runs = {"with": [], "without": []}
        for _ in range(loads):
            for page in ("with", "without"):
                runs[page].append(_load(driver, f"{site}/{page}/index.html", cold))
        return runs
    finally:
        driver.quit()


def _quartiles(runs: list[dict], name: str) -> list[float]:
    """Lower quartile, median and upper quartile of a metric over the loads."""
    values = [run[name] for run in runs if run.get(name) is not None]
    return statistics.quantiles(values, n=4) if len(values) > 1 else values * 3


def _cell(quartiles: list[float]) -> str:
    return f"{quartiles[1]:.1f} ({quartiles[0]:.0f}-{quartiles[2]:.0f})"


def report(state: str, runs: dict[str, list[dict]]) -> None:
    print(f"\n{state} ({len(runs['with'])} loads each; ms after navigation start, median "
          "(interquartile range))")
    print("| metric | without the snippet | with the snippet | added (medians) |\n|---|---:|---:|---:|")
    for name, label in (("first-paint", "first paint"), ("first-contentful-paint", "first contentful paint"),
                        ("lcp", "largest contentful paint")):
        without, with_ = _quartiles(runs["without"], name), _quartiles(runs["with"], name)
        print(f"| {label} | {_cell(without)} | {_cell(with_)} | {with_[1] - without[1]:+.1f} |")
    print(f"| serving answer (headlines final) | | {_cell(_quartiles(runs['with'], 'served'))} | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=15)
    parser.add_argument("--loading", choices=["async", "defer"], default="async",
                        help="how the script tag loads the snippet")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        instance = Path(scratch)
        url = f"sqlite:///{instance / 'bench.db'}"
        migrate.upgrade(url)
        token, port = _admin_token(url, instance), free_port()
        api = f"http://127.0.0.1:{port}"
        server = _gunicorn(url, instance, port)
        try:
            setup = _setup_module()
            stories = setup.setup(api, token, instance / "site" / "with", args.loading)
            setup.write_site(instance / "site" / "without", stories, "")
            _wait_served(api, stories, instance / "site" / "with" / "index.html")
            with static_site(instance / "site") as site:
                for state, cold in (("warm: the script cached", False), ("cold: nothing cached", True)):
                    report(state, measure(site, args.loads, cold))
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
