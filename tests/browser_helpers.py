"""Headless Chromium (Debian's, through selenium) and a static file server on loopback, for
tests that drive a real browser over pages on their own origin."""

import functools
import http.server
import importlib.util
import json
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.services import REQUIRE_SERVICES

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def require_chromium() -> None:
    if CHROMIUM and CHROMEDRIVER:
        return
    if REQUIRE_SERVICES:
        pytest.fail("REQUIRE_SERVICES=1 but chromium/chromedriver are not installed (apt-get install "
                    "chromium chromium-driver)")
    pytest.skip("chromium and chromedriver are not installed")


def chromium(width: int = 1000, height: int = 700):
    """A headless Chromium of this window size that keeps the console log and the network
    events (the "performance" log) for get_log."""
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@contextmanager
def browser_session(width: int = 1000, height: int = 700):
    """``chromium()`` for the length of a block (a fixture's), quit after."""
    driver = chromium(width, height)
    try:
        yield driver
    finally:
        driver.quit()


def front_page_setup():
    """examples/front-page/setup.py as a module (the example is not a package)."""
    path = Path(__file__).resolve().parent.parent / "examples" / "front-page" / "setup.py"
    spec = importlib.util.spec_from_file_location("front_page_setup", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def static_site(directory: Path):
    """``python -m http.server`` for ``directory`` on a free loopback port: its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    with _serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as base:
        yield base


def responses(driver, url_part: str) -> list[str]:
    """The bodies of the responses the page received from URLs containing ``url_part``
    (from the network events logged since the last call)."""
    ids = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        received = message["method"] == "Network.responseReceived"
        if received and url_part in message["params"]["response"]["url"]:
            ids.append(message["params"]["requestId"])
    return [driver.execute_cdp_cmd("Network.getResponseBody", {"requestId": request_id})["body"]
            for request_id in ids]


@contextmanager
def live_server(app):
    """The app under werkzeug's threaded server on a free loopback port: its base URL."""
    from werkzeug.serving import make_server
    with _serving(make_server("127.0.0.1", 0, app, threaded=True)) as base:
        yield base


@contextmanager
def _serving(server):
    """Serve in a thread on the server's loopback port: its base URL; shut down after."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def requests_sent(driver) -> list[dict]:
    """The requests the page sent (url, method, postData) since the last look at the log."""
    sent = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            sent.append(message["params"]["request"])
    return sent
