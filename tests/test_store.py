"""The store seam: migrations, retention, URL handling, and the one-process rule of chDB."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import rows
from store.client import database_name, describe, is_embedded
from store.migrations_runner import apply_retention, discover, migrate

REPO = Path(__file__).resolve().parents[1]


def test_migrations_are_recorded_once_and_a_second_run_applies_nothing(clickhouse):
    assert migrate(clickhouse) == []
    recorded = rows(clickhouse, "SELECT version, name FROM schema_migrations FINAL ORDER BY version")
    assert [(r["version"], r["name"]) for r in recorded] == [(m.version, m.name) for m in discover()]


def test_events_table_has_cvat_columns_in_order_plus_event_id(clickhouse):
    columns = [
        r["name"]
        for r in rows(
            clickhouse,
            "SELECT name FROM system.columns WHERE database = "
            "currentDatabase() AND table = 'events' ORDER BY position",
        )
    ]
    assert columns == [
        "scope",
        "obj_name",
        "obj_id",
        "obj_val",
        "source",
        "timestamp",
        "count",
        "duration",
        "project_id",
        "task_id",
        "job_id",
        "user_id",
        "user_name",
        "user_email",
        "org_id",
        "org_slug",
        "payload",
        "access_token_id",
        "remote_addr",
        "event_id",
    ]
    table = rows(
        clickhouse,
        "SELECT sorting_key, partition_key, engine_full FROM system.tables "
        "WHERE database = currentDatabase() AND name = 'events'",
    )[0]
    assert table["sorting_key"] == "org_id, timestamp"
    assert table["partition_key"] == "toYYYYMM(timestamp)"
    assert "non_replicated_deduplication_window = 10000" in table["engine_full"]


def test_retention_sets_and_removes_the_ttl(clickhouse):
    def engine() -> str:
        return rows(
            clickhouse,
            "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'events'",
        )[0]["engine_full"]

    apply_retention(clickhouse, 30)
    assert "TTL toDateTime(timestamp) + toIntervalDay(30)" in engine()
    apply_retention(clickhouse, 0)
    assert " TTL " not in engine()


def test_urls_select_the_mode_and_never_leak_credentials():
    assert is_embedded("chdb:///srv/data/clickhouse")
    assert not is_embedded("http://app:secret@clickhouse:8123/analytics")
    assert database_name("http://app:secret@clickhouse:8123/analytics") == "analytics"
    assert database_name("chdb:///srv/data/clickhouse") == "default"
    assert database_name("chdb:///srv/data/clickhouse?database=events_db") == "events_db"
    assert "secret" not in describe("https://app:secret@clickhouse:8443/analytics")


def test_a_cli_command_says_in_one_line_that_the_server_holds_the_embedded_engine(tmp_path):
    engine_dir = tmp_path / "engine"
    env = {
        **os.environ,
        "ANALYTICS_DATA_DIR": str(tmp_path),
        "CLICKHOUSE_URL": f"chdb://{engine_dir}",
        "PYTHONPATH": str(REPO / "server"),
    }
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time, clickhouse_connect
            client = clickhouse_connect.get_client(dsn="chdb://{engine_dir}")
            client.command("SELECT 1")
            print("holding", flush=True)
            sys.stdin.read()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate_clickhouse"],
            cwd=REPO / "server",
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert result.returncode != 0
    message = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(message) == 1, result.stderr
    assert "in use by another process" in message[0]
    assert "Traceback" not in result.stderr


def test_a_named_database_in_an_embedded_url_is_created_and_used(tmp_path):
    import os as _os

    env = {
        **_os.environ,
        "ANALYTICS_DATA_DIR": str(tmp_path),
        "CLICKHOUSE_URL": f"chdb://{tmp_path / 'engine'}?database=events_db",
        "PYTHONPATH": str(REPO / "server"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate_clickhouse"],
        cwd=REPO / "server",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "schema up to date" in result.stdout


def test_a_dedicated_client_is_a_second_connection_to_our_own_engine(clickhouse):
    from store.client import open_dedicated_client

    dedicated = open_dedicated_client()
    try:
        assert dedicated.query("SELECT count() FROM events").result_rows == [(0,)]
    finally:
        dedicated.close()


def test_a_fresh_data_directory_is_created_by_the_first_command(tmp_path):
    data_dir = tmp_path / "not" / "there" / "yet"
    env = {**os.environ, "ANALYTICS_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO / "server")}
    env.pop("CLICKHOUSE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=REPO / "server",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (data_dir / "django.sqlite3").exists()
