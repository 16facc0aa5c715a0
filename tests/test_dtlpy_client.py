"""Dataloop's SDK, pinned (tests/clients/requirements-dtlpy.txt) and installed in its own venv
(`make dtlpy-client`), runs Dataloop's analytics tutorial unchanged against a live server
(tests/clients/dtlpy_tutorial.py, a subprocess): its API key (a JWT) is accepted by dtlpy and the
server, `GET /users/me`, a project and a dataset (a task) found by name, `project.created_at`, the
`activeUsers` call and the 30-day `countItemInAnnotationTimeBucket` call by hour and day, as
DataFrames whose contents equal the KPI, metric and per-user endpoints'."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from annotation.dataloop import dataloop_time
from annotation.models import Project
from conftest import join_by_invitation
from events.record import EventRecord
from test_analytics_support import insert_events

REPO = Path(__file__).resolve().parents[1]
PYTHON = REPO / ".venv-dtlpy" / "bin" / "python"
SCRIPT = REPO / "tests" / "clients" / "dtlpy_tutorial.py"
PINNED = next(
    line.split("==")[1].strip()
    for line in (REPO / "tests" / "clients" / "requirements-dtlpy.txt").read_text().splitlines()
    if line.startswith("dtlpy==")
)
DAYS = 30
EDGES = (0, 60_000, 300_000, 900_000, 3_600_000)  # the histogram's default bins, ms


def none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else value


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ok(response, status: int = 200):
    assert response.status_code == status, response.content
    return response.json()


@pytest.fixture
def team(api, make_user, clickhouse):
    """Organization acme: owner alice, workers bob and carol; project "my project" (created 30 days
    ago) with tasks "my dataset" and "other data"; another organization's project of the same name."""
    alice, bob, carol, dave = (make_user(n) for n in ("alice", "bob", "carol", "dave"))
    owner = client_for(alice)
    org = ok(owner.post("/api/organizations", {"slug": "acme", "name": "Acme"}, format="json"), 201)
    owner.credentials(HTTP_X_ORGANIZATION="acme")
    for user in (bob, carol):  # members join by invitation
        join_by_invitation(owner, user)
    project = ok(owner.post("/api/projects", {"name": "my project"}, format="json"), 201)
    tasks = {}
    for name in ("my dataset", "other data"):
        task = ok(owner.post("/api/tasks", {"name": name, "project_id": project["id"]}, format="json"), 201)
        jobs = [ok(owner.post("/api/jobs", {"task_id": task["id"]}, format="json"), 201) for _ in range(6)]
        tasks[name] = (task["id"], [job["id"] for job in jobs])
    created = timezone.now() - timedelta(days=DAYS)
    Project.objects.filter(pk=project["id"]).update(created_date=created)
    # somebody else's project of the same name: not visible to alice, so not ambiguous
    other = client_for(dave)
    ok(other.post("/api/organizations", {"slug": "globex"}, format="json"), 201)
    other.credentials(HTTP_X_ORGANIZATION="globex")
    ok(other.post("/api/projects", {"name": "my project"}, format="json"), 201)

    rng = random.Random(14)
    records = []
    first, last = created + timedelta(hours=1), timezone.now() - timedelta(hours=1)
    span_ms = int((last - first).total_seconds() * 1000)
    for _ in range(3000):
        name = rng.choice(list(tasks))
        task_id, job_ids = tasks[name]
        user = rng.choice((alice, bob, carol))
        moment = first + timedelta(milliseconds=rng.randrange(span_ms))
        ids = {"org_id": org["id"], "project_id": project["id"], "task_id": task_id}
        ids |= {"job_id": rng.choice(job_ids), "user_id": user.pk, "user_name": user.username}
        if rng.random() < 0.5:
            duration = rng.randrange(1000, 400_000)
            records.append(
                EventRecord(
                    "send:working_time",
                    moment,
                    count=1,
                    duration=duration,
                    payload={"working_time": duration},
                    **ids,
                )
            )
        else:
            records.append(
                EventRecord(
                    "draw:object", moment, source="client", count=1, duration=rng.randrange(8000), **ids
                )
            )
    insert_events(clickhouse, records)
    return {
        "alice": alice,
        "owner": owner,
        "org": org,
        "project": Project.objects.get(pk=project["id"]),
        "tasks": tasks,
    }


def run_dtlpy(tmp_path: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """The client venv's interpreter, with HOME (dtlpy's cookie, logs and cache: ~/.dataloop) in a
    temporary directory, and every host but this one behind a proxy that refuses connections: no
    request can reach Dataloop's cloud."""
    if not PYTHON.exists():
        pytest.fail("The dtlpy client venv is missing: run `make dtlpy-client` (make test does).")
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "DATALOOP_PATH": str(home / ".dataloop"),
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "localhost,127.0.0.1",
        **env,
    }
    return subprocess.run([str(PYTHON), *args], env=env, capture_output=True, text=True, timeout=300)


def run_tutorial(tmp_path: Path, server: str, token: str) -> dict:
    output = tmp_path / "tutorial.json"
    env = {
        "ANALYTICS_URL": server,
        "ANALYTICS_TOKEN": token,
        "PROJECT_NAME": "my project",
        "DATASET_NAME": "my dataset",
    }
    done = run_dtlpy(tmp_path, [str(SCRIPT), str(output)], env)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(output.read_text())


def test_the_dataloop_tutorial_runs_unchanged(live_server, team, tmp_path):
    owner, project = team["owner"], team["project"]
    key = ok(owner.post("/api/auth/tokens", {"name": "notebook"}, format="json"), 201)["key"]
    got = run_tutorial(tmp_path, live_server.url, key)

    assert got["dtlpy_version"] == PINNED
    assert got["user_email"] == team["alice"].email
    assert got["project"] == {
        "id": str(project.pk),
        "name": "my project",
        "created_at": dataloop_time(project.created_date),
    }
    dataset_id, job_ids = team["tasks"]["my dataset"]
    assert got["dataset"] == {"id": str(dataset_id), "name": "my dataset"}

    # the range the query used: the project's creation (its hour) to now
    hour_entry, day_entry = got["entries"]
    start = parse(hour_entry["startTime"])
    assert start == project.created_date.replace(minute=0, second=0, microsecond=0)
    end = parse(hour_entry["endTime"])
    hours = round((end - start).total_seconds() / 3600)
    assert DAYS * 24 <= hours <= DAYS * 24 + 2

    # 30 days by hour: every bucket x every bin, more than a page would hold, and nothing cut
    assert hour_entry["hasNext"] is False and hour_entry["totalCount"] == len(got["hour"]) == 5 * hours > 1000
    days = (parse(day_entry["endTime"]) - parse(day_entry["startTime"])).days
    assert day_entry["hasNext"] is False and len(got["day"]) == 5 * days
    assert [r["time"] for r in got["hour"]] == sorted((r["time"] for r in got["hour"]), reverse=True)
    for table in (got["hour"], got["day"]):
        # a DataFrame holds the open last bin's null maxDuration as NaN
        assert {(r["minDuration"], none_if_nan(r["maxDuration"])) for r in table} == {
            *zip(EDGES, (*EDGES[1:], None), strict=True)
        }

    day_start = start.replace(hour=0)
    tomorrow = (timezone.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    metrics = ok(
        owner.get(
            "/api/analytics/metrics/values",
            {
                "start_timestamp": day_start.timestamp(),
                "end_timestamp": tomorrow.timestamp(),
                "bucket": "1d",
                "task_id": dataset_id,
                "metrics": ["jobs_worked"],
            },
        )
    )
    jobs_worked = {m["name"]: m for m in metrics["metrics"]}["jobs_worked"]["aggregate"]
    # each job of the dataset counted once, in the hour (and the day) of its last work
    assert (
        sum(r["count"] for r in got["hour"])
        == sum(r["count"] for r in got["day"])
        == jobs_worked
        == len(job_ids)
    )

    # activeUsers: the KPI's active users of the project, with their per-user summaries' numbers
    kpis = ok(
        owner.get(
            "/api/analytics/kpis/values",
            {
                "start_timestamp": day_start.timestamp(),
                "end_timestamp": tomorrow.timestamp(),
                "bucket": "1d",
                "project_id": project.pk,
                "kpis": ["active_users", "working_hours"],
            },
        )
    )
    by_kpi = {k["kpi"]: k for k in kpis["kpis"]}
    users = got["active_users"]
    assert len(users) == by_kpi["active_users"]["aggregate"] == 3
    assert sum(u["workingTime"] for u in users) / 3_600_000 == pytest.approx(
        by_kpi["working_hours"]["aggregate"]
    )
    for user in users:
        summary = ok(owner.get(f"/api/analytics/users/{user['userId']}/summary", {"days": DAYS + 2}))
        (in_project,) = [p for p in summary["by_project"] if p["project_id"] == project.pk]
        assert user["workingTime"] == in_project["working_time_ms"] > 0
        assert user["events"] == in_project["events"]


def test_dtlpy_refuses_nothing_the_server_refuses(live_server, team, tmp_path):
    """A revoked key: dtlpy still sends it (its exp is fine), the server answers 401 at login."""
    owner = team["owner"]
    created = ok(owner.post("/api/auth/tokens", {"name": "old"}, format="json"), 201)
    assert owner.delete(f"/api/auth/tokens/{created['id']}").status_code == 204
    login = (
        "import os, dtlpy as dl; url = os.environ['ANALYTICS_URL'] + '/api'; "
        "dl.add_environment(environment=url, alias='analytics'); dl.setenv(url); "
        "dl.login_token(os.environ['ANALYTICS_TOKEN'])"
    )
    done = run_dtlpy(
        tmp_path, ["-c", login], {"ANALYTICS_URL": live_server.url, "ANALYTICS_TOKEN": created["key"]}
    )
    assert done.returncode != 0 and "Invalid API key" in done.stderr and "revoked" in done.stderr
