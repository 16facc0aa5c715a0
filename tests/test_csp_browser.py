"""The pages' Content-Security-Policy (django-csp): every built-in page sends it, the dashboards run
under it in headless Chromium with no console error, and it does block an injected inline script."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from accounts.models import Membership, Organization, Role
from browser import console_errors, make_driver
from dashboards.catalog import dashboards

pytestmark = [pytest.mark.browser]


def test_pages_send_the_policy(client, django_user_model, db):
    user = django_user_model.objects.create_user("viewer", "v@example.com", "pw-12345")
    login_page = client.get("/analytics/login/")
    policy = login_page["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy
        and "default-src 'self'" in policy
        and "frame-ancestors 'none'" in policy
    )
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    client.force_login(user)
    for path in ["/analytics/", *(f"/analytics/d/{uid}/" for uid in dashboards())]:
        assert client.get(path)["Content-Security-Policy"] == policy, path


def test_dashboards_run_under_the_policy_with_no_console_error(
    live_server, django_user_model, transactional_db, clickhouse
):
    user = django_user_model.objects.create_user("viewer", "v@example.com", "pw-12345")
    org = Organization.objects.create(slug="acme", name="Acme")
    Membership.objects.create(user=user, organization=org, role=Role.OWNER)
    driver = make_driver()
    try:
        # The real sign-in form: its CSRF token comes with the page.
        driver.get(f"{live_server.url}/analytics/")  # -> the sign-in page, back here after
        driver.find_element(By.NAME, "username").send_keys("viewer")
        driver.find_element(By.NAME, "password").send_keys("pw-12345")
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "ul.dashboards a"))
        for uid in dashboards():
            driver.get(f"{live_server.url}/analytics/d/{uid}/?from=now-7d&to=now")
            WebDriverWait(driver, 30).until(
                lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "ready"
            )
            assert console_errors(driver) == [], uid
        # The policy is in force: an injected inline script is refused, and the console says so.
        driver.execute_script(
            "const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
            "document.body.appendChild(s);"
        )
        time.sleep(0.3)
        assert driver.execute_script("return window.injected === undefined")
        errors = console_errors(driver)
        assert any("Content Security Policy" in message for message in errors), errors
    finally:
        driver.quit()
