"""The built-in dashboards in headless Chromium on seeded demo data: every dashboard renders with no
console errors and no empty panel, and choosing a variable value changes what the panels show.
Screenshots are saved under test-artifacts/dashboards/."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from browser import console_errors, make_driver
from dashboards.catalog import dashboards
from demo.simulation import PASSWORD, DemoSize, Simulation, run

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "dashboards"
SIZE = DemoSize(days=5, annotators=3, projects=1, jobs_per_task=3, frames_per_job=150)


@pytest.fixture
def seeded(transactional_db, ship, clickhouse):
    run(
        Simulation(
            seed=5, size=SIZE, start=timezone.now().date() - timedelta(days=SIZE.days), org_slug="demo"
        )
    )
    ship()


def wait_until_ready(driver, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "ready":
            return
        time.sleep(0.1)
    raise AssertionError("the dashboard did not finish loading")


def panel_states(driver) -> dict[str, tuple[str, str, str]]:
    """title -> (rows the server returned, the panel's classes, its error message if any)."""
    found = {}
    for node in driver.find_elements(By.CSS_SELECTOR, ".panel"):
        title = node.find_element(By.TAG_NAME, "h2").text
        errors = node.find_elements(By.CSS_SELECTOR, ".panel-error")
        found[title] = (
            node.get_attribute("data-rows") or "",
            node.get_attribute("class"),
            errors[0].text if errors else "",
        )
    return found


def test_every_dashboard_renders_and_variables_change_the_panels(live_server, seeded):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver = make_driver()
    try:
        driver.get(f"{live_server.url}/analytics/")
        assert "/analytics/login/" in driver.current_url
        driver.find_element(By.NAME, "username").send_keys("demo-owner")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "ul.dashboards a"))
        listed = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "ul.dashboards a strong")]
        assert listed == [model["title"] for model in dashboards().values()]

        for uid in dashboards():
            driver.get(f"{live_server.url}/analytics/d/{uid}/?from=now-30d&to=now")
            wait_until_ready(driver)
            driver.save_screenshot(str(ARTIFACTS / f"{uid}.png"))
            states = panel_states(driver)
            assert states, uid
            failed = {title: state for title, state in states.items() if "failed" in state[1]}
            assert not failed, f"{uid}: panels failed: {failed}"
            empty = {title for title, (rows, cls, _) in states.items() if "empty" in cls or rows in ("", "0")}
            assert not empty, f"{uid}: empty panels: {sorted(empty)}"
            assert console_errors(driver) == [], uid

        # Management, one annotator instead of everyone: the panels show less.
        driver.get(f"{live_server.url}/analytics/d/management/?from=now-30d&to=now")
        wait_until_ready(driver)
        before = panel_states(driver)
        user = Select(driver.find_element(By.CSS_SELECTOR, 'select[data-variable="user"]'))
        annotator = next(o for o in user.options if "annotator-1" in o.text)
        user.select_by_value(annotator.get_attribute("value"))
        time.sleep(0.2)
        wait_until_ready(driver)
        after = panel_states(driver)
        driver.save_screenshot(str(ARTIFACTS / "management-one-annotator.png"))
        assert "var-user=" in driver.current_url
        changed = [title for title in before if before[title][0] != after[title][0]]
        assert changed, f"no panel changed: {before} -> {after}"
        assert int(after["Working time"][0]) < int(before["Working time"][0])
        assert console_errors(driver) == []
    finally:
        driver.quit()
