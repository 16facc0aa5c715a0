"""CVAT's SDK and CLI (cvat-sdk / cvat-cli 2.80.0, from PyPI, unchanged) against a live server.

The clients live in .venv-cvat (`make cvat-clients`; their pins must not touch the server's
venv), so each flow runs as a subprocess with that interpreter: tests/clients/cvat_sdk_flows.py
for the SDK, `cvat-cli` itself for the CLI. What the clients report is checked here, and what the
server stored is checked in the database and in ClickHouse.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import AccessToken
from conftest import create_project_tree, rows
from exports.query import CSV_HEADER
from exports.worker import ExportWorker

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
CVAT_VENV = REPO / ".venv-cvat"
FLOWS = Path(__file__).parent / "clients" / "cvat_sdk_flows.py"
PASSWORD = "Secret-pw-2026"
CVAT_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00")


@pytest.fixture(scope="session")
def cvat_bin() -> Path:
    """.venv-cvat/bin, built by the Makefile's rule when missing (one definition of the pins)."""
    if not (CVAT_VENV / ".installed").exists():
        subprocess.run(["make", "-C", str(REPO), "cvat-clients"], check=True, timeout=900)
    return CVAT_VENV / "bin"


@pytest.fixture
def client_env(tmp_path: Path) -> dict[str, str]:
    # The SDK caches server data under the user's cache directory, the CLI keeps profiles in HOME.
    home = tmp_path / "home"
    home.mkdir()
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}


@pytest.fixture
def flow(cvat_bin, live_server, client_env):
    def _run(name: str, **arguments) -> dict:
        done = subprocess.run(
            [str(cvat_bin / "python"), str(FLOWS), name, live_server.url, json.dumps(arguments)],
            capture_output=True,
            text=True,
            timeout=180,
            env=client_env,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    return _run


@pytest.fixture
def cli(cvat_bin, live_server, client_env):
    host, port = live_server.url.rsplit(":", 1)

    def _run(*arguments: str, token: str) -> list[str]:
        done = subprocess.run(
            [str(cvat_bin / "cvat-cli"), "--server-host", host, "--server-port", port, *arguments],
            capture_output=True,
            text=True,
            timeout=180,
            env={**client_env, "CVAT_ACCESS_TOKEN": token},
        )
        assert done.returncode == 0, done.stderr[-4000:]
        return done.stdout.split()

    return _run


@pytest.fixture
def acme(org_api):
    """Organization `acme` with a project, two tasks of two jobs, one issue; a personal project
    outside it; an access token of the owner."""
    tree = create_project_tree(org_api, tasks=2, jobs_per_task=2)
    issue = org_api.post(
        "/api/issues",
        {"job": tree["jobs"][0]["id"], "frame": 0, "position": [1, 2, 3, 4], "message": "Check this"},
        format="json",
    )
    assert issue.status_code == 201, issue.content
    org_api.credentials()
    personal = org_api.post("/api/projects", {"name": "Mine"}, format="json")
    assert personal.status_code == 201, personal.content
    org_api.credentials(HTTP_X_ORGANIZATION="acme")
    _, key = AccessToken.issue(org_api.user, "cvat clients")
    return {
        **tree,
        "org": org_api.org,
        "issue": issue.json(),
        "personal": personal.json(),
        "token": key,
        "user": org_api.user,
    }


def test_make_client_with_credentials_login_logout_about_and_self(flow, make_user, api):
    make_user("ann", password=PASSWORD)
    result = flow("login_logout", user="ann", password=PASSWORD)
    # The SDK's strict version check passed: /api/server/about answers its own major.minor.
    assert result["version"] == "2.80.0"
    assert result["username"] == "ann" and result["groups"] == ["user"]
    assert result["cookies"] == ["csrftoken", "sessionid"]
    assert result["logout_status"] == 200 and result["logout_detail"]
    # The key login answered is its session's: logout ended it.
    assert result["key_length"] <= 40
    api.cookies["sessionid"] = result["key"]
    assert api.get("/api/users/self").status_code == 401


def test_access_token_routes_and_make_client_with_a_token(flow, make_user):
    user = make_user("ann", password=PASSWORD)
    result = flow("access_tokens", user="ann", password=PASSWORD)
    token = AccessToken.objects.get(user=user, name="renamed")
    assert result["created_name"] == "sdk token" and result["owner"] == "ann"
    assert result["username"] == "ann" and result["self_id"] == token.pk
    assert token.pk in result["listed_ids"] and result["renamed"] == result["retrieved"] == "renamed"
    assert result["read_only"] is False
    assert token.revoked and result["works_after_revocation"] is False
    assert result["status_after_revocation"] == 401


def test_organization_context_by_header_org_and_org_id_and_summary_fields(flow, acme):
    result = flow(
        "organization_context",
        token=acme["token"],
        org="acme",
        org_id=acme["org"]["id"],
        project_id=acme["project"]["id"],
        job_id=acme["jobs"][0]["id"],
    )
    # Every read model of the domain parses in the SDK (labels, issues, comments, members, users).
    assert result["labels"] == result["job_labels"] == ["car", "person"]
    assert result["issues"] == [acme["issue"]["id"]] and result["comments"] == 1
    assert result["members"] == [["owner", "owner"]] and result["users"] == ["owner"]
    inside = [acme["project"]["id"]]
    assert result["everywhere"] == sorted([*inside, acme["personal"]["id"]])
    assert result["org"] == result["org_id"] == result["header"] == inside
    assert result["project_tasks"] == 2
    assert result["task_jobs"] == [[t["id"], 2, 2] for t in acme["tasks"]]  # 2 jobs, 2 labels each
    first_job = acme["jobs"][0]["id"]
    assert [j[:2] for j in result["job_issues"]] == [
        [j["id"], int(j["id"] == first_job)] for j in acme["jobs"]
    ]
    assert all(j[2].endswith(f"/api/labels?job_id={j[0]}") for j in result["job_issues"])
    assert result["org_slug"] == "acme"


@pytest.mark.parametrize(("org_by", "value"), [("org_id", None), ("org", "acme"), ("x_organization", "acme")])
def test_events_create_in_cvats_shape_lands_once_in_the_organization(
    flow, acme, ship, clickhouse, org_by, value
):
    org_id = acme["org"]["id"]
    job = acme["jobs"][0]
    result = flow(
        "post_events", token=acme["token"], job_id=job["id"], org_by=org_by, org_value=value or org_id
    )
    assert result["status"] == 201 and result["scopes"] == ["load:job", "change:frame"]
    assert result["org_ids"] == [org_id, org_id]
    assert result["payload_types"] == ["str"] and json.loads(result["first_payload"]) == {
        "mode": "annotation"
    }
    ship()
    stored = rows(
        clickhouse,
        "SELECT scope, org_id, job_id, task_id FROM events WHERE source = 'client' ORDER BY timestamp",
    )
    assert stored == [
        {"scope": "load:job", "org_id": org_id, "job_id": job["id"], "task_id": job["task_id"]},
        {"scope": "change:frame", "org_id": org_id, "job_id": job["id"], "task_id": job["task_id"]},
    ]


@pytest.fixture
def export_worker(tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    worker = ExportWorker(poll_seconds=0.1)
    worker.start()
    yield worker
    worker.stop()


def _window() -> dict[str, str]:
    now = datetime.now(UTC)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "from": (now - timedelta(hours=1)).strftime(stamp),
        "to": (now + timedelta(hours=1)).strftime(stamp),
    }


def _check_cvat_csv(text: str, org_slug: str) -> list[list[str]]:
    assert text.encode().startswith(CSV_HEADER)
    lines = text.split("\r\n")
    assert lines[-1] == "" and len(lines) > 2
    import csv

    parsed = list(csv.reader(lines[1:-1]))
    assert all(CVAT_TIMESTAMP.fullmatch(row[5]) for row in parsed)
    assert {row[15] for row in parsed} == {org_slug}
    return parsed


def test_export_job_flow_with_the_sdks_downloader_and_requests_list(
    flow, acme, ship, clickhouse, export_worker
):
    ship()
    result = flow("export_job", token=acme["token"], org_id=acme["org"]["id"], **_window())
    assert result["status"] == "finished" and result["operation"] == "export:events"
    assert re.fullmatch(r"logs_\d{4}(_\d\d){5}\.csv", result["filename"])
    parsed = _check_cvat_csv(result["csv"], "acme")
    assert {"create:project", "create:task", "create:job", "create:issue"} <= {row[0] for row in parsed}
    assert result["request_id"] in result["listed"]


def test_classic_export_flow_through_events_api_list(flow, acme, ship, clickhouse, export_worker):
    ship()
    result = flow("classic_export", token=acme["token"], org_id=acme["org"]["id"], **_window())
    assert result["statuses"] == [201, 202] and result["download_status"] == 200
    assert re.search(r'filename="logs_\d{4}(_\d\d){5}\.csv"', result["disposition"])
    _check_cvat_csv(result["csv"], "acme")


def test_cli_project_ls_and_task_ls(cli, acme):
    assert cli("--org", "acme", "project", "ls", token=acme["token"]) == [str(acme["project"]["id"])]
    assert cli("--org", "acme", "task", "ls", token=acme["token"]) == [str(t["id"]) for t in acme["tasks"]]
    everywhere = cli("project", "ls", token=acme["token"])
    assert sorted(everywhere) == sorted([str(acme["project"]["id"]), str(acme["personal"]["id"])])
