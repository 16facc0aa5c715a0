"""The built-in dashboards in headless Chromium on seeded demo data, used as a team lead uses them:
the per-day hours add up to the table, the controls show exactly the selection the panels apply
(after a reload, from a shared URL, with a stale value), a child list narrows when its parent
changes, a panel's CSV holds its rows, an expired session goes through sign-in and back, and
nothing is clipped on a phone. Screenshots at 1600 and 390 px, light and dark, are saved under
test-artifacts/dashboards/ (ARTIFACTS)."""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from browser import console_errors, make_driver
from dashboards.catalog import dashboards
from demo.simulation import PASSWORD, DemoSize, Simulation, run
from exports.worker import run_pending

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "dashboards"
SIZE = DemoSize(days=5, annotators=3, projects=2, tasks_per_project=2, jobs_per_task=2, frames_per_job=25)


@pytest.fixture
def seeded(transactional_db, ship, clickhouse):
    run(
        Simulation(
            seed=5, size=SIZE, start=timezone.now().date() - timedelta(days=SIZE.days), org_slug="demo"
        )
    )
    ship()


@pytest.fixture
def driver(tmp_path):
    chromium = make_driver()
    chromium.set_window_size(1600, 1100)
    chromium.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    chromium.download_dir = tmp_path
    yield chromium
    chromium.quit()


def wait_until_ready(driver, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "ready":
            return
        time.sleep(0.1)
    raise AssertionError("the dashboard did not finish loading")


def open_view(driver, url: str) -> None:
    driver.get(url)
    time.sleep(0.2)
    wait_until_ready(driver)


def sign_in(driver, username: str = "demo-owner") -> None:
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()


def panel(driver, title: str):
    for node in driver.find_elements(By.CSS_SELECTOR, ".panel"):
        if node.find_element(By.TAG_NAME, "h2").text == title:
            return node
    raise AssertionError(f"no panel {title!r}")


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


def table(node) -> list[dict[str, str]]:
    """A table panel as shown: header -> the cell's raw value (data-value) or its text."""
    headers = [th.text.rstrip(" ▲▼") for th in node.find_elements(By.CSS_SELECTOR, "thead th")]
    rows = []
    for tr in node.find_elements(By.CSS_SELECTOR, "tbody tr"):
        cells = tr.find_elements(By.TAG_NAME, "td")
        values = [td.get_attribute("data-value") or td.text for td in cells]
        rows.append(dict(zip(headers, values, strict=True)))
    return rows


def download_csv(driver, node) -> list[dict[str, str]]:
    before = set(driver.download_dir.glob("*.csv"))
    node.find_element(By.CSS_SELECTOR, "button.csv").click()
    return wait_for_csv(driver, before)


def wait_for_csv(driver, before: set[Path]) -> list[dict[str, str]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        new = set(driver.download_dir.glob("*.csv")) - before
        if new:
            path = new.pop()
            time.sleep(0.2)
            return list(csv.DictReader(io.StringIO(path.read_text())))
        time.sleep(0.1)
    raise AssertionError(f"no CSV was downloaded: {driver.find_element(By.ID, 'export-status').text}")


def variable(driver, name: str):
    return driver.find_element(By.CSS_SELECTOR, f'.variable[data-variable="{name}"]')


def selected(driver, name: str) -> list[str]:
    return json.loads(variable(driver, name).get_attribute("data-selected"))


def options(driver, name: str) -> dict[str, str]:
    """value -> label of a variable's options (All excluded)."""
    control = variable(driver, name)
    boxes = control.find_elements(By.CSS_SELECTOR, ".options input")
    labels = control.find_elements(By.CSS_SELECTOR, ".options label")
    return {
        box.get_attribute("value"): label.get_attribute("textContent").strip()
        for box, label in zip(boxes, labels, strict=True)
        if box.get_attribute("value") != "$__all"
    }


def choose(driver, name: str, values: list[str]) -> None:
    """Open the variable's list, tick exactly `values`, close it (which applies, as in Grafana)."""
    control = variable(driver, name)
    control.find_element(By.TAG_NAME, "summary").click()
    for box in control.find_elements(By.CSS_SELECTOR, ".options input"):
        if box.get_attribute("value") in values and not box.is_selected():
            box.click()
    control.find_element(By.TAG_NAME, "summary").click()
    time.sleep(0.2)
    wait_until_ready(driver)


def url_values(driver, name: str) -> list[str]:
    return parse_qs(urlparse(driver.current_url).query).get(f"var-{name}", [])


def test_a_team_lead_reads_hours_per_day_and_filters_never_lie(live_server, seeded, driver):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    driver.get(f"{base}/")
    assert "/analytics/login/" in driver.current_url, "/ leads to the dashboards (sign-in first)"
    sign_in(driver)
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "ul.dashboards a"))
    listed = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "ul.dashboards a strong")]
    assert listed == [model["title"] for model in dashboards().values()]

    # One click from the index: Annotators, last 7 days, in UTC.
    driver.find_element(By.PARTIAL_LINK_TEXT, "Annotators").click()
    wait_until_ready(driver)
    open_view(driver, f"{base}/analytics/d/annotators/?from=now-7d&to=now&tz=utc")
    assert "Times in UTC" in driver.find_element(By.ID, "timezone-shown").text
    bars = panel(driver, "Working hours per annotator per day")
    assert 7 <= int(bars.get_attribute("data-periods")) <= 8
    per_day = download_csv(driver, bars)
    annotators = table(panel(driver, "Annotators"))
    totals = {row["Annotator"]: float(row["Working hours"]) for row in annotators}
    assert len(totals) == SIZE.annotators
    days = defaultdict(list)
    for row in per_day:
        days[row["Annotator"]].append((row["time"], float(row["Working hours"])))
    assert set(days) == set(totals)
    for name, values in days.items():
        assert len({day for day, _ in values}) <= 8, name
        assert math.fsum(hours for _, hours in values) == pytest.approx(totals[name], rel=1e-9), name
    # The per-day table adds up too, and its CSV is its rows.
    day_table = panel(driver, "Annotators per day")
    shown = table(day_table)
    downloaded = download_csv(driver, day_table)
    assert len(downloaded) == len(shown) == int(day_table.get_attribute("data-rows"))
    assert [row["User ID"] for row in downloaded] == [row["User ID"] for row in shown]
    for name, total in totals.items():
        rows = [float(row["Working hours"]) for row in downloaded if row["Annotator"] == name]
        assert math.fsum(rows) == pytest.approx(total, rel=1e-9)
    # Sorting: a click on a number column sorts it, largest first.
    headers = day_table.find_elements(By.CSS_SELECTOR, "thead th")
    header = next(th for th in headers if th.text.startswith("Working hours"))
    header.find_element(By.TAG_NAME, "button").click()
    hours = [float(row["Working hours"]) for row in table(panel(driver, "Annotators per day"))]
    assert hours == sorted(hours, reverse=True)
    assert console_errors(driver) == []

    # Two users in a shared URL: both shown, both applied; the same after a reload.
    users = options(driver, "user")
    two = sorted(row["User ID"] for row in annotators)[:2]
    query = "&".join(f"var-user={u}" for u in two)
    open_view(driver, f"{base}/analytics/d/management/?from=now-30d&to=now&{query}")
    for _ in range(2):
        assert sorted(selected(driver, "user")) == two
        assert sorted(url_values(driver, "user")) == two
        summary = variable(driver, "user").find_element(By.TAG_NAME, "summary").text
        assert all(users[u].split(" (#")[0] in summary for u in two), summary
        applied = {row["User ID"] for row in table(panel(driver, "Working time"))}
        assert applied == set(two), "the panels apply exactly the users the control shows"
        driver.refresh()
        wait_until_ready(driver)

    # A stale value is dropped visibly, not applied silently.
    open_view(driver, f"{base}/analytics/d/management/?from=now-30d&to=now&var-user={two[0]}&var-user=987654")
    assert selected(driver, "user") == [two[0]] and url_values(driver, "user") == [two[0]]
    assert "987654" in driver.find_element(By.ID, "notices").text

    # The raw events of this view: the export API's file, for the one selected user.
    before = set(driver.download_dir.glob("*.csv"))
    driver.find_element(By.ID, "export-events").click()
    deadline = time.monotonic() + 10
    while not run_pending() and time.monotonic() < deadline:  # the server's worker thread, in a test
        time.sleep(0.1)
    exported = wait_for_csv(driver, before)
    assert exported and {row["user_id"] for row in exported} == {two[0]}

    # Empty panels say why: filters that exclude everything, or nothing in the range.
    owner = next(value for value, text in users.items() if text.startswith("demo-owner"))
    open_view(driver, f"{base}/analytics/d/management/?from=now-30d&to=now&var-user={owner}")
    working = panel(driver, "Working time")
    assert "empty" in working.get_attribute("class")
    assert "Nothing matches the filters (User)" in working.text
    open_view(driver, f"{base}/analytics/d/management/?from=946684800000&to=946771200000")
    working = panel(driver, "Working time")
    assert "Nothing was recorded in this range" in working.text

    # A child list narrows as soon as its parent changes.
    open_view(driver, f"{base}/analytics/d/management/?from=now-30d&to=now")
    every_task = options(driver, "task")
    project = sorted(options(driver, "project"))[0]
    choose(driver, "project", [project])
    assert selected(driver, "project") == [project] and url_values(driver, "project") == [project]
    narrowed = options(driver, "task")
    assert narrowed and set(narrowed) < set(every_task)

    # The session expires: the next action goes to sign-in, and signing in returns to the view.
    view = driver.current_url
    driver.delete_cookie("sessionid")
    driver.find_element(By.ID, "refresh").click()
    WebDriverWait(driver, 10).until(lambda d: "/analytics/login/" in d.current_url)
    sign_in(driver)
    WebDriverWait(driver, 10).until(lambda d: "/analytics/d/management/" in d.current_url)
    wait_until_ready(driver)
    assert parse_qs(urlparse(driver.current_url).query) == parse_qs(urlparse(view).query)
    assert selected(driver, "project") == [project]


def set_view(driver, width: int, theme: str) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": width,
            "height": 1100 if width > 500 else 844,
            "deviceScaleFactor": 1,
            "mobile": width < 500,
        },
    )
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": theme}]}
    )


def test_every_dashboard_renders_at_1600_and_390_px_light_and_dark(live_server, seeded, driver):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.get(f"{live_server.url}/analytics/")
    sign_in(driver)
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "ul.dashboards a"))
    # The API docs render from the app's own files (drf-spectacular-sidecar), no CDN.
    driver.get(f"{live_server.url}/api/docs/")
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title"))
    assert "Annotation analytics API" in driver.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title").text
    for width in (1600, 390):
        set_view(driver, width, "light")
        driver.get(f"{live_server.url}/analytics/")
        driver.save_screenshot(str(ARTIFACTS / f"index-{width}-light.png"))
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
    for uid in dashboards():
        for width in (1600, 390):
            for theme in ("light", "dark"):
                set_view(driver, width, theme)
                open_view(driver, f"{live_server.url}/analytics/d/{uid}/?from=now-30d&to=now&tz=utc")
                driver.save_screenshot(str(ARTIFACTS / f"{uid}-{width}-{theme}.png"))
                states = panel_states(driver)
                failed = {title: state for title, state in states.items() if "failed" in state[1]}
                assert not failed, f"{uid}: panels failed: {failed}"
                empty = {t for t, (rows, cls, _) in states.items() if "empty" in cls or rows in ("", "0")}
                assert not empty, f"{uid}: empty panels: {sorted(empty)}"
                background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
                dark = background != "rgb(244, 245, 248)"
                assert dark == (theme == "dark"), f"{uid} {theme}: background {background}"
                # Nothing wider than the screen, no stat number cut off.
                assert driver.execute_script("return document.documentElement.scrollWidth") <= width
                clipped = driver.execute_script(
                    "return [...document.querySelectorAll('.stat-value')]"
                    ".filter((n) => n.scrollWidth > n.clientWidth + 1).map((n) => n.textContent)"
                )
                assert clipped == [], f"{uid} at {width}px: clipped stats {clipped}"
                assert console_errors(driver) == [], uid
