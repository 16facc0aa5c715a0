"""Both export flows end to end through the API (real chDB, real worker code run in-thread):
CVAT's scenario, every permission case, the date rules, expiry and the error answers."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import orjson
import pytest
from django.utils import timezone

from accounts.models import Membership, Organization, Role
from annotation.models import Job, Project, Task
from conftest import create_project_tree
from events.record import EventRecord
from exports import service
from exports.models import ExportJob, ExportStatus
from exports.worker import run_pending

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WIDE = {"from": "2026-01-01T00:00:00Z", "to": "2026-12-31T00:00:00Z"}


def insert(client, records: list[EventRecord]) -> None:
    client.raw_insert("events", None, b"\n".join(r.to_row() for r in records), fmt="JSONEachRow")


def parse_csv(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode(), newline="")))


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def classic(api, **params):
    return api.get("/api/events?" + urlencode(params))


def classic_export(api, **params) -> list[dict]:
    """CVAT's v1 flow: 202 -> 201 -> action=download 200."""
    started = classic(api, **params)
    assert started.status_code == 202, started.content
    query_id = started.json()["query_id"]
    assert classic(api, **params, query_id=query_id).status_code == 202  # queued
    run_pending()
    ready = classic(api, **params, query_id=query_id)
    assert ready.status_code == 201 and ready.content == b""
    download = classic(api, **params, query_id=query_id, action="download")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    return parse_csv(body(download))


def job_export(api, **params) -> list[dict]:
    """CVAT's v2 flow: POST /api/events/export -> /api/requests/{rq_id} -> /api/events/download."""
    started = api.post("/api/events/export?" + urlencode(params))
    assert started.status_code == 202, started.content
    rq_id = started.json()["rq_id"]
    run_pending()
    status = api.get(f"/api/requests/{rq_id}").json()
    assert status["status"] == "finished", status
    download = api.get(f"/api/events/download?rq_id={rq_id}")
    assert download.status_code == 200, download.content
    return parse_csv(body(download))


def forbidden(response, attr: str, value: int) -> None:
    assert response.status_code == 403, response.content
    assert f"You don't have permission to view events with {attr}={value}" in response.content.decode()


def conflicting_context(response) -> None:
    # ?org= and ?org_id= naming different organizations: the context itself is refused.
    assert response.status_code == 400, response.content
    assert "org_id" in response.content.decode()


# --- CVAT's scenario ------------------------------------------------------------------------------


@pytest.mark.parametrize("flow", [classic_export, job_export], ids=["classic", "job"])
def test_cvat_scenario_project_with_two_tasks_of_two_jobs(org_api, ship, flow):
    tree = create_project_tree(org_api, tasks=2, jobs_per_task=2)
    project_id = tree["project"]["id"]
    ship()

    rows = flow(org_api, project_id=project_id)
    counts = Counter(row["scope"] for row in rows)
    assert (counts["create:project"], counts["create:task"], counts["create:job"]) == (1, 2, 4)
    assert {row["project_id"] for row in rows} == {str(project_id)}
    for row in rows:
        assert row["user_id"] == str(org_api.user.pk) and row["user_name"] == "owner"
        assert row["user_email"] == "owner@example.com"
        uuid.UUID(orjson.loads(row["payload"])["request"]["id"])
    assert "remote_addr" not in rows[0]
    assert [row["timestamp"] for row in rows] == sorted(row["timestamp"] for row in rows)

    # Filter by task: its creation and its two jobs.
    task_id = tree["tasks"][0]["id"]
    counts = Counter(row["scope"] for row in flow(org_api, task_id=task_id))
    assert (counts["create:task"], counts["create:job"]) == (1, 2)
    # A project that does not exist: nothing.
    assert flow(org_api, project_id=project_id + 1000) == []

    # Deleting the project: one request id for the whole cascade.
    assert org_api.delete(f"/api/projects/{project_id}").status_code == 204
    ship()
    deletes = [row for row in flow(org_api, project_id=project_id) if row["scope"].startswith("delete:")]
    counts = Counter(row["scope"] for row in deletes)
    assert (counts["delete:project"], counts["delete:task"], counts["delete:job"]) == (1, 2, 4)
    assert len({orjson.loads(row["payload"])["request"]["id"] for row in deletes}) == 1


# --- classic flow ---------------------------------------------------------------------------------


def test_classic_flow_answers_and_headers(org_api, clickhouse):
    started = classic(org_api, **WIDE, filename="audit.csv")
    assert started.status_code == 202 and started["Deprecation"] == "@1742169600"
    query_id = started.json()["query_id"]
    uuid.UUID(query_id)
    run_pending()
    assert classic(org_api, query_id=query_id).status_code == 201
    for _ in range(2):  # unlike CVAT, downloading does not consume the file
        download = classic(org_api, query_id=query_id, action="download")
        assert download.status_code == 200
        assert 'filename="audit.csv"' in download["Content-Disposition"]
        assert download["Content-Type"].startswith("text/csv")
        assert body(download).startswith(b"scope,obj_name,obj_id,")


def test_classic_flow_takes_format_jsonl(org_api, clickhouse):
    started = classic(org_api, **WIDE, format="jsonl")
    assert started.status_code == 202, started.content
    query_id = started.json()["query_id"]
    run_pending()
    download = classic(org_api, query_id=query_id, format="jsonl", action="download")
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/jsonl")
    assert ".jsonl" in download["Content-Disposition"]


def test_classic_flow_errors(org_api, clickhouse):
    response = classic(org_api, action="delete")
    assert response.status_code == 400 and "Unexpected action" in response.content.decode()
    response = classic(org_api, query_id="not-a-uuid")
    assert response.status_code == 400 and "query_id" in response.content.decode()
    response = classic(org_api, location="cloud_storage", cloud_storage_id=1)
    assert response.status_code == 400 and "cloud storage" in response.content.decode()


def test_classic_unknown_query_id_starts_the_export_under_that_id(org_api, clickhouse):
    query_id = str(uuid.uuid4())
    response = classic(org_api, query_id=query_id)
    assert response.status_code == 202 and response.json() == {"query_id": query_id}
    run_pending()
    assert classic(org_api, query_id=query_id).status_code == 201


def test_classic_default_filename_and_someone_elses_query_id(org_api, clickhouse, make_user):
    query_id = classic(org_api).json()["query_id"]
    run_pending()
    download = classic(org_api, query_id=query_id, action="download")
    disposition = download["Content-Disposition"]
    assert 'filename="logs_' in disposition and '.csv"' in disposition
    org_api.force_authenticate(make_user("mallory"))
    org_api.credentials()
    assert classic(org_api, query_id=query_id, action="download").status_code == 404


def test_classic_failed_export_reports_its_error_then_starts_again(org_api, clickhouse):
    query_id = classic(org_api).json()["query_id"]
    ExportJob.objects.filter(pk=query_id).update(status=ExportStatus.FAILED, error="DatabaseError: disk full")
    response = classic(org_api, query_id=query_id)
    assert response.status_code == 500 and "disk full" in response.json()["detail"]
    assert classic(org_api, query_id=query_id).status_code == 202  # forgotten, so started again


def test_classic_expired_file_is_exported_again(org_api, clickhouse):
    query_id = classic(org_api).json()["query_id"]
    run_pending()
    ExportJob.objects.filter(pk=query_id).update(expiry_date=timezone.now() - timedelta(seconds=1))
    assert classic(org_api, query_id=query_id, action="download").status_code == 202
    run_pending()
    assert classic(org_api, query_id=query_id, action="download").status_code == 200


# --- job flow -------------------------------------------------------------------------------------


def test_job_flow_status_download_and_expiry(org_api, clickhouse, settings):
    insert(clickhouse, [EventRecord(scope="create:task", timestamp=T0, org_id=org_api.org["id"], task_id=1)])
    started = org_api.post("/api/events/export?" + urlencode({**WIDE, "format": "jsonl", "task_id": 1}))
    assert started.status_code == 202
    rq_id = started.json()["rq_id"]

    queued = org_api.get(f"/api/requests/{rq_id}").json()
    assert queued["status"] == "queued" and queued["result_url"] is None and queued["progress"] == 0
    assert queued["owner"] == {"id": org_api.user.pk, "username": "owner"}
    assert queued["operation"]["type"] == "export:events" and queued["operation"]["task_id"] == 1
    not_yet = org_api.get(f"/api/events/download?rq_id={rq_id}")
    assert not_yet.status_code == 400 and "not finished" in not_yet.content.decode()

    run_pending()
    done = org_api.get(f"/api/requests/{rq_id}").json()
    assert done["status"] == "finished" and done["progress"] == 1 and done["rows"] == 1
    assert done["started_date"] and done["finished_date"] and done["created_date"]
    expiry = datetime.fromisoformat(done["expiry_date"].replace("Z", "+00:00"))
    finished = datetime.fromisoformat(done["finished_date"].replace("Z", "+00:00"))
    assert expiry - finished == timedelta(hours=settings.EXPORT_TTL_HOURS)
    assert done["result_url"] == f"http://testserver/api/events/download?rq_id={rq_id}"

    for _ in range(2):  # repeatable until expiry
        download = org_api.get(done["result_url"])
        assert download.status_code == 200 and download["Content-Type"].startswith("application/jsonl")
        assert orjson.loads(body(download).splitlines()[0])["scope"] == "create:task"

    ExportJob.objects.filter(pk=rq_id).update(expiry_date=timezone.now() - timedelta(seconds=1))
    expired = org_api.get(done["result_url"])
    assert expired.status_code == 404
    assert "The exported file has expired, please retry exporting" in expired.content.decode()
    # The periodic cleanup deletes the file; the answer stays the same.
    path = ExportJob.objects.get(pk=rq_id).file_path
    assert service.cleanup() == 1
    assert not __import__("pathlib").Path(path).exists()
    assert org_api.get(done["result_url"]).status_code == 404


def test_job_flow_parquet_and_error_answers(org_api, clickhouse, make_user):
    rq_id = org_api.post("/api/events/export?format=parquet").json()["rq_id"]
    run_pending()
    download = org_api.get(f"/api/events/download?rq_id={rq_id}")
    assert body(download)[:4] == b"PAR1" and 'filename="logs_' in download["Content-Disposition"]

    assert org_api.get("/api/events/download").status_code == 400
    assert "Invalid export request id" in org_api.get("/api/events/download?rq_id=zzz").content.decode()
    unknown = org_api.get(f"/api/events/download?rq_id={uuid.uuid4()}")
    assert "Unknown export request id" in unknown.content.decode()
    assert org_api.get(f"/api/requests/{uuid.uuid4()}").status_code == 404
    assert org_api.post("/api/events/export?format=xml").status_code == 400

    # Only the owner sees the request and downloads the file.
    org_api.force_authenticate(make_user("mallory"))
    org_api.credentials()
    assert org_api.get(f"/api/requests/{rq_id}").status_code == 404
    assert org_api.get(f"/api/events/download?rq_id={rq_id}").status_code == 403


def test_job_flow_failed_export_reports_its_error(org_api, clickhouse, monkeypatch):
    rq_id = org_api.post("/api/events/export").json()["rq_id"]

    def broken(*args, **kwargs):
        raise RuntimeError("ClickHouse went away")

    monkeypatch.setattr("exports.worker.write_export", broken)
    run_pending()
    status = org_api.get(f"/api/requests/{rq_id}").json()
    assert status["status"] == "failed" and "ClickHouse went away" in status["message"]
    response = org_api.get(f"/api/events/download?rq_id={rq_id}")
    assert response.status_code == 400 and "ClickHouse went away" in response.content.decode()


def test_anonymous_is_refused(api):
    assert api.get("/api/events").status_code in (401, 403)
    assert api.post("/api/events/export").status_code in (401, 403)


# --- permissions ----------------------------------------------------------------------------------


@pytest.fixture
def people(db, make_user, settings):
    """Two organizations; one member of `acme` for each role; events of everyone in both orgs and
    in no org."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    users = {name: make_user(name) for name in ("owner", "maintainer", "supervisor", "worker", "loner")}
    users["admin"] = make_user("admin", superuser=True)
    acme = Organization.objects.create(slug="acme", owner=users["owner"])
    other = Organization.objects.create(slug="other", owner=users["loner"])
    for role in ("owner", "maintainer", "supervisor", "worker"):
        Membership.objects.create(user=users[role], organization=acme, role=role)
    Membership.objects.create(user=users["loner"], organization=other, role=Role.OWNER)
    return users, acme, other


@pytest.fixture
def events_of_everyone(people, clickhouse):
    users, acme, other = people
    records = []
    for i, user in enumerate(users.values()):
        for org in (acme, other, None):
            records.append(
                EventRecord(
                    scope="click:element",
                    source="client",
                    timestamp=T0 + timedelta(seconds=i),
                    user_id=user.pk,
                    user_name=user.username,
                    org_id=org.pk if org else None,
                    org_slug=org.slug if org else None,
                )
            )
    insert(clickhouse, records)
    return people


def seen(api, user, org=None, **params) -> set[tuple[str, str]]:
    api.force_authenticate(user)
    if org is not None:
        params["org"] = org.slug
    return {(row["user_name"], row["org_slug"]) for row in job_export(api, **WIDE, **params)}


ALL_USERS = {"owner", "maintainer", "supervisor", "worker", "loner", "admin"}


def test_superuser_exports_anything(api, events_of_everyone):
    users, acme, other = events_of_everyone
    everything = {(name, slug) for name in ALL_USERS for slug in ("acme", "other", "")}
    assert seen(api, users["admin"]) == everything
    assert seen(api, users["admin"], org_id=other.pk) == {(name, "other") for name in ALL_USERS}
    worker_everywhere = {("worker", slug) for slug in ("acme", "other", "")}
    assert seen(api, users["admin"], user_id=users["worker"].pk) == worker_everywhere
    # In an organization context even a superuser gets that organization only.
    assert seen(api, users["admin"], org=acme) == {(name, "acme") for name in ALL_USERS}
    conflicting_context(api.post(f"/api/events/export?org=acme&org_id={other.pk}"))


@pytest.mark.parametrize("role", ["owner", "maintainer"])
def test_owner_and_maintainer_are_restricted_to_their_organization(api, events_of_everyone, role):
    users, acme, other = events_of_everyone
    assert seen(api, users[role], org=acme) == {(name, "acme") for name in ALL_USERS}
    assert seen(api, users[role], org=acme, user_id=users["worker"].pk) == {("worker", "acme")}
    conflicting_context(api.post(f"/api/events/export?org=acme&org_id={other.pk}"))
    # The same through the classic flow.
    conflicting_context(api.get(f"/api/events?org=acme&org_id={other.pk}"))
    # org_id alone is the organization context (CVAT's third way to name it).
    assert seen(api, users[role], org_id=acme.pk) == {(name, "acme") for name in ALL_USERS}
    assert api.post(f"/api/events/export?org_id={other.pk}").status_code == 403


@pytest.mark.parametrize("role", ["supervisor", "worker"])
def test_supervisor_and_worker_get_their_own_events_in_the_organization(api, events_of_everyone, role):
    users, acme, other = events_of_everyone
    assert seen(api, users[role], org=acme) == {(role, "acme")}
    assert seen(api, users[role], org=acme, org_id=acme.pk, user_id=users[role].pk) == {(role, "acme")}
    owner_id = users["owner"].pk
    forbidden(api.post(f"/api/events/export?org=acme&user_id={owner_id}"), "user_id", owner_id)
    conflicting_context(api.post(f"/api/events/export?org=acme&org_id={other.pk}"))
    assert seen(api, users[role], org_id=acme.pk) == {(role, "acme")}


def test_outside_an_organization_a_user_gets_only_their_own_events(api, events_of_everyone):
    users, _, _ = events_of_everyone
    assert seen(api, users["owner"]) == {("owner", "acme"), ("owner", "other"), ("owner", "")}
    response = api.post(f"/api/events/export?user_id={users['worker'].pk}")
    forbidden(response, "user_id", users["worker"].pk)
    response = api.get(f"/api/events?user_id={users['worker'].pk}")
    forbidden(response, "user_id", users["worker"].pk)


def test_organization_context_of_a_non_member_is_refused(api, events_of_everyone):
    users, _, _ = events_of_everyone
    api.force_authenticate(users["worker"])
    assert api.post("/api/events/export?org=other").status_code == 403
    assert api.get("/api/events?org=other").status_code == 403
    # An unknown one answers alike: the answer does not tell which organizations exist.
    assert api.post("/api/events/export?org=nope").status_code == 403


# --- dates and parameters -------------------------------------------------------------------------


def job_filters(api, **params) -> dict:
    response = api.post("/api/events/export?" + urlencode(params))
    assert response.status_code == 202, response.content
    return ExportJob.objects.get(pk=response.json()["rq_id"]).filters


def iso_ms(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_from_defaults_to_the_narrowest_object_and_to_to_now(org_api, clickhouse):
    tree = create_project_tree(org_api, tasks=1, jobs_per_task=1)
    project = Project.objects.get(pk=tree["project"]["id"])
    task = Task.objects.get(pk=tree["tasks"][0]["id"])
    job = Job.objects.get(pk=tree["jobs"][0]["id"])
    org = Organization.objects.get(pk=org_api.org["id"])
    Organization.objects.filter(pk=org.pk).update(created_date=org.created_date - timedelta(days=3))
    org.refresh_from_db()

    before = timezone.now()
    filters = job_filters(org_api, project_id=project.pk, task_id=task.pk, job_id=job.pk)
    assert filters["from"] == iso_ms(job.created_date)
    assert before - timedelta(seconds=1) <= datetime.fromisoformat(filters["to"]) <= timezone.now()
    assert job_filters(org_api, project_id=project.pk, task_id=task.pk)["from"] == iso_ms(task.created_date)
    assert job_filters(org_api, project_id=project.pk)["from"] == iso_ms(project.created_date)
    # A job that does not exist: the next narrowest that does.
    assert job_filters(org_api, project_id=project.pk, job_id=999999)["from"] == iso_ms(project.created_date)
    # Only the organization (forced here by the context): its creation.
    assert job_filters(org_api)["from"] == iso_ms(org.created_date)
    # Nothing at all (a superuser without context): the epoch.
    org_api.user.is_superuser = True
    org_api.user.save()
    org_api.credentials()
    assert job_filters(org_api)["from"] == "1970-01-01T00:00:00.000Z"
    # Explicit values win; a zone-less time is UTC.
    filters = job_filters(org_api, **{"from": "2026-02-01T10:00:00", "to": "2026-02-02T10:00:00.5+02:00"})
    assert (filters["from"], filters["to"]) == ("2026-02-01T10:00:00.000Z", "2026-02-02T08:00:00.500Z")


def test_date_and_integer_validation(org_api, clickhouse):
    def error(**params) -> tuple[int, str]:
        response = org_api.post("/api/events/export?" + urlencode(params))
        return response.status_code, response.content.decode()

    status, message = error(**{"from": "yesterday"})
    assert status == 400 and "Cannot parse 'from' datetime parameter" in message
    status, message = error(to="2026-13-45")
    assert status == 400 and "Cannot parse 'to' datetime parameter" in message
    status, message = error(**{"from": "2026-02-02", "to": "2026-02-01"})
    assert status == 400 and "'from' must be before" in message
    for name in ("project_id", "task_id", "job_id", "user_id", "org_id"):
        status, message = error(**{name: "abc"})
        assert status == 400 and name in message
    status, message = error(job_id=str(2**70))
    assert status == 400 and "job_id" in message
    # The classic flow validates the same way.
    response = classic(org_api, **{"from": "soon"})
    assert response.status_code == 400 and "Cannot parse 'from'" in response.content.decode()
    assert classic(org_api, task_id="1.5").status_code == 400
    assert not ExportJob.objects.exists()


def test_time_range_bounds_the_rows(org_api, clickhouse):
    org_id = org_api.org["id"]
    insert(
        clickhouse,
        [EventRecord(scope=f"s{i}", timestamp=T0 + timedelta(hours=i), org_id=org_id) for i in range(5)],
    )
    rows = job_export(org_api, **{"from": "2026-03-01T13:00:00Z", "to": "2026-03-01T15:00:00Z"})
    assert [row["scope"] for row in rows] == ["s1", "s2", "s3"]
    for row in rows:
        assert "2026-03-01 13:00:00+00:00" <= row["timestamp"] <= "2026-03-01 15:00:00+00:00"
