"""Shared fixtures. Tests talk to a real embedded ClickHouse (chDB), one per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from shipping import service
from store.client import get_client, reset_client
from store.migrations_runner import migrate


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A file SQLite test database (WAL, as in production) instead of the shared in-memory one:
    the live server's threads serve requests concurrently, which in-memory SQLite answers with
    "database table is locked"."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("django") / "test.sqlite3")
    elif database["ENGINE"].endswith("postgresql"):
        # One database per test process: parallel runs on one server never share (or drop) one.
        database.setdefault("TEST", {})["NAME"] = f"test_{database['NAME']}_{os.getpid()}"


@pytest.fixture(scope="session")
def clickhouse_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clickhouse")


@pytest.fixture(scope="session")
def _clickhouse_engine(clickhouse_dir: Path):
    # chDB allows one engine path per process: the whole session shares this one.
    settings.CLICKHOUSE_URL = f"chdb://{clickhouse_dir}"
    reset_client()
    client = get_client()
    migrate(client)
    return client


@pytest.fixture
def clickhouse(_clickhouse_engine):
    """The engine, with every table emptied (the schema stays)."""
    client = _clickhouse_engine
    tables = client.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase()"
        " AND engine LIKE '%MergeTree' AND name != 'schema_migrations'"
    ).result_rows
    for (name,) in tables:
        client.command(f"TRUNCATE TABLE `{name}`")
    return client


@pytest.fixture(autouse=True)
def spool_path(tmp_path: Path) -> Iterator[Path]:
    """A fresh spool per test, so nothing leaks from one test's events into another's."""
    path = tmp_path / "spool.sqlite3"
    settings.SPOOL_PATH = path
    service.reset()
    yield path
    service.reset()


@pytest.fixture(autouse=True)
def _fresh_sign_in_counts() -> Iterator[None]:
    """Failed sign-ins are counted per process (django-axes): one test's must not lock out the next."""
    from django.core.cache import caches

    caches["axes"].clear()
    yield
    caches["axes"].clear()


@pytest.fixture
def ship(clickhouse):
    """Ship everything spooled so far into ClickHouse, synchronously."""

    def _ship() -> int:
        return service.get_flusher().drain(timeout=30)

    return _ship


@pytest.fixture
def api(transactional_db) -> APIClient:
    # transactional_db: events are emitted on commit, which the plain `db` fixture never does.
    return APIClient()


def rows(client, sql: str, **parameters) -> list[dict]:
    """Query ClickHouse and get dicts, for assertions that read like the data."""
    result = client.query(sql, parameters=parameters)
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


@pytest.fixture
def make_user(django_user_model):
    def _make(username: str, *, superuser: bool = False, password: str = "pw"):
        if superuser:
            return django_user_model.objects.create_superuser(username, f"{username}@example.com", password)
        return django_user_model.objects.create_user(username, f"{username}@example.com", password)

    return _make


@pytest.fixture
def org_api(api, make_user):
    """An API client logged in as the owner of organization `acme` (X-Organization set)."""
    owner = make_user("owner")
    api.force_authenticate(owner)
    response = api.post("/api/organizations", {"slug": "acme", "name": "Acme"}, format="json")
    assert response.status_code == 201, response.content
    api.credentials(HTTP_X_ORGANIZATION="acme")
    api.org = response.json()
    api.user = owner
    return api


def join_by_invitation(org_api, user, role: str = "worker") -> dict:
    """Add `user` to org_api's organization the only way an owner can: invite, then accept as them."""
    response = org_api.post("/api/invitations", {"user": user.username, "role": role}, format="json")
    assert response.status_code == 201, response.content
    invitee = APIClient()
    invitee.force_authenticate(user)
    accepted = invitee.post(f"/api/invitations/{response.json()['key']}/accept")
    assert accepted.status_code == 200, accepted.content
    return accepted.json()["membership"]


def create_project_tree(api, name: str = "Cars", tasks: int = 2, jobs_per_task: int = 2) -> dict:
    """A project with labels, `tasks` tasks and `jobs_per_task` jobs each, through the API."""
    project = api.post(
        "/api/projects", {"name": name, "labels": [{"name": "car"}, {"name": "person"}]}, format="json"
    )
    assert project.status_code == 201, project.content
    tree = {"project": project.json(), "tasks": [], "jobs": []}
    for t in range(tasks):
        task = api.post(
            "/api/tasks", {"name": f"{name} task {t}", "project_id": tree["project"]["id"]}, format="json"
        )
        assert task.status_code == 201, task.content
        tree["tasks"].append(task.json())
        for _ in range(jobs_per_task):
            job = api.post("/api/jobs", {"task_id": task.json()["id"]}, format="json")
            assert job.status_code == 201, job.content
            tree["jobs"].append(job.json())
    return tree
