"""The browser logger, in headless Chromium, against the running server, down to ClickHouse."""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from browser import console_errors, make_driver
from conftest import create_project_tree, rows

pytestmark = pytest.mark.browser

SCRIPT = """
const [jobId, done] = arguments;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
import('/static/client/analytics-logger.js').then(async ({createLogger}) => {
  const errors = [];
  const logger = createLogger({
    organization: 'acme', context: {job_id: jobId}, onError: (e) => errors.push(String(e.message || e)),
  });
  logger.log('load:job');
  await sleep(300);
  logger.changeFrame({from: 0, to: 1, step: 1});
  await sleep(400);
  logger.canvasReady();
  logger.changeFrame({from: 1, to: 2, step: 1});
  await sleep(400);
  logger.canvasReady();
  await sleep(300);
  logger.log('draw:object', {obj_name: 'rectangle', count: 1});
  await logger.save();
  logger.destroy();
  done({errors});
}).catch((e) => done({errors: [String(e)]}));
"""


def session_cookie_for(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def test_logger_sends_events_and_working_time_reaches_clickhouse(live_server, org_api, ship, clickhouse):
    tree = create_project_tree(org_api, tasks=1, jobs_per_task=1)
    job_id = tree["jobs"][0]["id"]
    driver = make_driver()
    try:
        driver.get(f"{live_server.url}/healthz")
        driver.add_cookie(
            {"name": django_settings.SESSION_COOKIE_NAME, "value": session_cookie_for(org_api.user)}
        )
        csrf = "a" * 32
        driver.add_cookie({"name": "csrftoken", "value": csrf})
        driver.set_script_timeout(30)
        result = driver.execute_async_script(SCRIPT, job_id)
        assert result == {"errors": []}
        assert console_errors(driver) == []
    finally:
        driver.quit()
    ship()
    found = rows(
        clickhouse,
        "SELECT scope, count, duration, job_id, user_id, payload FROM events "
        "WHERE source = 'client' ORDER BY timestamp",
    )
    assert [f["scope"] for f in found] == ["load:job", "change:frame", "draw:object"]
    merged = found[1]
    assert merged["count"] == 2  # two consecutive frame changes of one job and step, merged
    assert merged["duration"] >= 790  # from the first change (t=0.3 s) to the last canvas-ready (t=1.1 s)
    assert json.loads(merged["payload"])["to"] == 2
    assert {f["job_id"] for f in found} == {job_id}
    assert {f["user_id"] for f in found} == {org_api.user.id}
    working = rows(clickhouse, "SELECT job_id, duration FROM events WHERE scope = 'send:working_time'")
    assert len(working) == 1 and working[0]["job_id"] == job_id
    assert 1300 <= working[0]["duration"] <= 10_000
