"""/docs in a real headless browser (Debian's chromium through selenium): the page loads
offline under its Content-Security-Policy, lists every endpoint family, and runs one
authenticated "try it out" call against the live API."""

import pytest

from tests.browser_helpers import browser_session, live_server
from tests.conftest import make_app
from tests.factories import Factory

FAMILIES = {"articles", "comments", "deliveries", "experiments", "feeds", "headlines", "health", "imports",
            "outlets", "public", "revisions", "sites", "system", "users", "workflow"}
WAIT = 30


@pytest.fixture(scope="module")
def browser():
    with browser_session() as driver:
        yield driver


def test_docs_page_lists_every_family_and_tries_an_authenticated_call(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    from app import migrate
    url = f"sqlite:///{tmp_path / 'docs.db'}"
    migrate.upgrade(url)
    app = make_app(url)
    _user, headers = Factory(app, app.test_client()).login("editor")
    token = headers["Authorization"].removeprefix("Bearer ")
    wait = WebDriverWait(browser, WAIT)
    with live_server(app) as base:
        browser.get(f"{base}/docs")
        wait.until(ready.presence_of_all_elements_located((By.CSS_SELECTOR, ".opblock-tag")))
        tags = {element.get_attribute("data-tag") for element in
                browser.find_elements(By.CSS_SELECTOR, ".opblock-tag")}
        assert tags >= FAMILIES, FAMILIES - tags
        _authorize(browser, wait, token)
        status = _try_get_me(browser, wait)
    assert status == "200"
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe  # no CSP violation, no failed asset (offline: nothing external)


def _authorize(browser, wait, token: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    browser.find_element(By.CSS_SELECTOR, "button.authorize").click()
    field = wait.until(ready.visibility_of_element_located(
        (By.CSS_SELECTOR, ".auth-container input[type=text], .auth-container input[type=password]")))
    field.send_keys(token)
    browser.find_element(By.CSS_SELECTOR, ".auth-container button.authorize").click()
    browser.find_element(By.CSS_SELECTOR, "button.btn-done").click()


def _try_get_me(browser, wait) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    summary = wait.until(ready.element_to_be_clickable(
        (By.CSS_SELECTOR, ".opblock-get .opblock-summary-path[data-path='/v1/me']")))
    browser.execute_script("arguments[0].scrollIntoView()", summary)
    summary.click()
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, "button.try-out__btn"))).click()
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, "button.execute"))).click()
    cell = wait.until(ready.visibility_of_element_located(
        (By.CSS_SELECTOR, ".live-responses-table .response .response-col_status")))
    return cell.text.strip().split()[0]

