"""Shared fixtures. Tests talk to a real embedded ClickHouse (chDB), one per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from shipping import service
from store.client import get_client, reset_client
from store.migrations_runner import migrate


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
