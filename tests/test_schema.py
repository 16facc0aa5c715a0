"""The schema's one definition (store/schema.py) and its two renderings: every statement parses
with ClickHouse's own parser (chDB's formatQuery), the single-node rendering is what this suite
runs on, the cluster rendering keeps its invariants, and every copy of the event columns follows
the definition. No ClickHouse cluster runs here: the cluster statements are parsed, not run."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from analytics.backfill import staging_inserts, swaps
from analytics.selectors import RAW_COLUMNS
from events.record import EVENT_COLUMNS, EventRecord
from exports.query import EXPORT_COLUMNS, render_columns
from shipping.sinks import ClickHouseSink
from store import schema
from store.clickhouse_migrations import MIGRATIONS
from store.ddl import SINGLE_NODE, Create, MaterializedView, Table, Topology
from store.migrations_runner import checksum, plan, retention_statements
from store.sql import export_filter_params, load_sql

REPO = Path(__file__).resolve().parents[1]
CLUSTER = Topology("analytics")
TABLES = [v for v in vars(schema).values() if isinstance(v, Table)]
VIEWS = [v for v in vars(schema).values() if isinstance(v, MaterializedView)]


def every_statement(topology: Topology) -> list[str]:
    statements = [sql for _, group in plan(topology, 30) for sql in group]
    statements += retention_statements(topology, 0)
    statements += staging_inserts(topology) + swaps(topology)
    return statements


@pytest.mark.parametrize("topology", [SINGLE_NODE, CLUSTER], ids=["single-node", "cluster"])
def test_every_rendered_statement_parses_with_clickhouse_s_parser(_clickhouse_engine, topology):
    client = _clickhouse_engine
    statements = every_statement(topology)
    assert len(statements) > 30
    for sql in statements:
        formatted = client.query("SELECT formatQuery({sql:String})", parameters={"sql": sql}).result_rows
        assert formatted[0][0].split()[0] in ("CREATE", "INSERT", "ALTER"), sql


def test_the_suite_runs_on_the_single_node_rendering(clickhouse):
    recorded = dict(clickhouse.query("SELECT version, checksum FROM schema_migrations FINAL").result_rows)
    assert recorded == {m.version: checksum(m, SINGLE_NODE) for m in MIGRATIONS}
    existing = {
        name
        for (name,) in clickhouse.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase()"
        ).result_rows
    }
    assert existing == {t.name for t in TABLES} | {v.name for v in VIEWS}


def test_every_definition_is_created_by_exactly_one_migration_in_version_order():
    created = [op.definition.name for m in MIGRATIONS for op in m.operations if isinstance(op, Create)]
    assert sorted(created) == sorted(d.name for d in [*TABLES, *VIEWS] if d is not schema.SCHEMA_MIGRATIONS)
    position = {name: i for i, name in enumerate(created)}
    for view in VIEWS:  # a view is created after the tables it reads and writes
        assert position[view.select.source.name] < position[view.name]
        assert position[view.target.name] < position[view.name]
    versions = [m.version for m in MIGRATIONS]
    assert versions == sorted(set(versions))


def test_single_node_rendering_has_no_cluster_parts():
    for sql in every_statement(SINGLE_NODE):
        assert "ON CLUSTER" not in sql and "Replicated" not in sql and "Distributed" not in sql
        assert "_local" not in sql and not re.search(r"(?<!non_)replicated_deduplication_window", sql)


def _created(sql: str) -> str:
    return re.match(r"CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS (\w+)", sql).group(1)


def read_path_tables() -> set[str]:
    """Every defined table named by a query of the read path, a dashboard or the dashboards'
    org restriction (the backfill's queries are per node, not read path)."""
    texts = [
        p.read_text()
        for p in (REPO / "clickhouse" / "queries").rglob("*.sql")
        if not p.name.startswith("backfill_")
    ]
    texts += [p.read_text() for p in (REPO / "grafana" / "dashboards").glob("*.json")]
    texts += [p.read_text() for p in (REPO / "server" / "analytics").rglob("*.py") if p.name != "backfill.py"]
    texts += [(REPO / "server" / "dashboards" / "macros.py").read_text()]
    names = {t.name for t in TABLES}
    found = {name for text in texts for name in names if re.search(rf"\b{name}\b", text)}
    assert {"events", "rollup_1h", "rollup_org_1d", "object_names"} <= found
    return found


def test_the_cluster_rendering_keeps_its_invariants():
    statements = [sql for _, group in plan(CLUSTER, 30) for sql in group]
    statements += staging_inserts(CLUSTER) + swaps(CLUSTER) + retention_statements(CLUSTER, 0)
    distributed: dict[str, str] = {}
    for sql in statements:
        assert "non_replicated" not in sql, sql
        if sql.startswith(("CREATE", "ALTER TABLE events")):
            assert " ON CLUSTER `analytics`" in sql.splitlines()[0], sql
        engine = re.search(r"^ENGINE = (\w+)\((.*)\)$", sql, re.MULTILINE)
        if sql.startswith("CREATE TABLE") and engine:
            kind, args = engine.groups()
            if kind == "Distributed":
                assert args.startswith("'analytics', currentDatabase(), '")
                distributed[_created(sql)] = args
                continue
            assert kind.startswith("Replicated") and kind.endswith("MergeTree"), sql
            assert "'{replica}'" in args, sql
            if _created(sql) != "schema_migrations":  # on every node, not per shard
                assert "{shard}" in args, sql
            assert re.search(r"replicated_deduplication_window = \d+", sql), sql
        if sql.startswith("CREATE MATERIALIZED VIEW"):  # views read and write the local tables
            assert re.search(r" TO \w+(_local|_backfill) AS\n", sql), sql
            assert re.search(r"^FROM \w+_local$", sql, re.MULTILINE), sql
    assert set(distributed) >= read_path_tables()
    for name, args in distributed.items():
        assert f"'{name}_local'" in args and "cityHash64(" in args


def test_both_sharding_keys_put_an_organization_s_events_and_rollups_on_one_shard(_clickhouse_engine):
    events_key = schema.EVENTS_SHARDING_KEY.replace("org_id", "toNullable(toUInt64(number))")
    rollup_key = schema.ROLLUP_SHARDING_KEY.replace("org_id", "toUInt64(number)")
    differ = _clickhouse_engine.query(
        f"SELECT countIf({events_key} != {rollup_key}) FROM numbers(100000)"
    ).result_rows
    assert differ == [(0,)]


def test_inserts_on_a_cluster_wait_for_every_shard(settings):
    from shipping import sinks

    assert SINGLE_NODE.insert_settings() == {}
    assert CLUSTER.insert_settings() == {"distributed_foreground_insert": 1}
    profile = (REPO / "components/clickhouse-cluster/users.d/cluster-profiles.xml").read_text()
    for name, value in CLUSTER.insert_settings().items():
        assert f"<{name}>{value}</{name}>" in profile
    settings.CLICKHOUSE_CLUSTER = "analytics"
    assert sinks.configured_topology().insert_settings() == CLUSTER.insert_settings()


def test_dedup_windows_follow_the_topology():
    for table in TABLES:
        single = "\n".join(table.create(SINGLE_NODE))
        cluster = "\n".join(table.create(CLUSTER))
        if table.dedup_window:
            assert f"non_replicated_deduplication_window = {table.dedup_window}" in single
            assert f"replicated_deduplication_window = {table.dedup_window}" in cluster
        else:
            assert "deduplication_window" not in single
            assert "replicated_deduplication_window = 0" in cluster
    # Every table a view writes keeps a window: the retried block is dropped there too.
    assert all(view.target.dedup_window for view in VIEWS)


def test_the_backfill_runs_the_views_own_selects():
    inserts = "\n".join(staging_inserts(SINGLE_NODE))
    for view in VIEWS:
        if view.target in {tier for tier, _ in schema.ROLLUP_TIERS}:
            body = view.select.render("X").split("FROM X")[0]
            assert body in inserts, view.name


def test_the_raw_event_read_is_built_from_the_5_minute_views_expressions():
    from analytics.query.fetch import _SUMS_RAW
    from analytics.registry import METRICS, STATUS_FIELDS

    views = "\n".join(
        schema.ROLLUP_5M_SCOPES_MV.create(SINGLE_NODE) + schema.ROLLUP_5M_STATUS_MV.create(SINGLE_NODE)
    )
    for piece in (
        schema.SCOPE_KEY,
        schema.STATUS_CHANGE,
        schema.STATUS_KEY,
        schema.UNITS,
        schema.WORKING_TIME,
    ):
        assert piece in views and piece in _SUMS_RAW, piece
    for column in ("org_id", "project_id", "task_id", "job_id", "user_id"):
        assert f"ifNull({column}, 0) AS {column}" in views and f"ifNull({column}, 0) AS {column}" in _SUMS_RAW
    # The views' literals are the registry's: working time and the status fields.
    assert METRICS["working_time_ms"].metric_keys == ("send:working_time",)
    assert schema.WORKING_TIME == "scope = 'send:working_time'"
    assert "obj_name IN (" + ", ".join(f"'{f}'" for f in STATUS_FIELDS) + ")" in schema.STATUS_CHANGE
    assert "/*" not in _SUMS_RAW


def test_the_raw_event_read_equals_the_5_minute_views_on_5_minute_buckets(clickhouse):
    """Same events, one read through the views (rollup_5m), one through event_rollup_rows."""
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    scopes = ["draw:object", "update:job", "send:working_time", "update:issue", "update:task"]
    records = [
        EventRecord(
            scopes[i % 5],
            start + timedelta(seconds=53 * i),
            obj_name=["state", "resolved", "name", None][i % 4],
            obj_val=f"v{i % 3}",
            count=(i % 4) or None,
            duration=i * 7,
            org_id=(i % 3) or None,
            job_id=(i % 6) or None,
            user_id=10 + i % 4,
        )
        for i in range(600)
    ]
    ClickHouseSink().send(b"\n".join(r.to_row() for r in records), uuid.uuid4().hex)
    keys = "bucket, org_id, project_id, task_id, job_id, user_id, source, metric_key"
    sums = "sum(events), sum(units), sum(duration_ms), sum(working_time_ms)"
    raw = schema.event_rollup_rows(schema.FIVE_MINUTE_BUCKET, ("1",))
    from_raw = clickhouse.query(
        f"SELECT {keys}, count(), sum(units), sum(duration_ms), sum(working_time_ms) FROM ({raw})"
        f" GROUP BY {keys} ORDER BY ALL"
    ).result_rows
    from_views = clickhouse.query(
        f"SELECT {keys}, {sums} FROM rollup_5m GROUP BY {keys} ORDER BY ALL"
    ).result_rows
    assert from_raw == from_views and len(from_views) > 100


def test_print_needs_no_engine_and_prints_every_statement_in_order(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "server"),
        "ANALYTICS_DATA_DIR": str(tmp_path),
        "CLICKHOUSE_URL": "http://nobody:nothing@127.0.0.1:9/analytics",
    }
    for args, topology in (([], SINGLE_NODE), (["--cluster", "analytics"], CLUSTER)):
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate_clickhouse", "--print", *args],
            cwd=REPO / "server",
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        printed = [s.strip() for s in re.sub(r"--[^\n]*", "", result.stdout).split(";\n") if s.strip()]
        assert printed == [sql for _, group in plan(topology, 0) for sql in group]
        assert not (tmp_path / "clickhouse").exists()


def test_print_refuses_a_name_that_is_not_a_cluster_name():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a cluster name"):
        call_command("migrate_clickhouse", "--print", "--cluster", "x'; DROP", stdout=io.StringIO())


def test_create_missing_restores_dropped_objects_without_copying_data_again(clickhouse):
    moment = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    ClickHouseSink().send(
        EventRecord("create:project", moment, obj_id=7, obj_name="Cars", org_id=1).to_row(), "t1"
    )
    names_before = clickhouse.query("SELECT count() FROM object_names").result_rows
    clickhouse.command("DROP VIEW rollup_1d_mv")
    out = io.StringIO()
    call_command("migrate_clickhouse", "--create-missing", stdout=out)
    creates = [op for m in MIGRATIONS for op in m.operations if isinstance(op, Create)]
    assert f"{1 + len(creates)} CREATE ... IF NOT EXISTS run" in out.getvalue()
    assert clickhouse.query("SELECT count() FROM system.tables WHERE name = 'rollup_1d_mv'").result_rows == [
        (1,)
    ]
    assert clickhouse.query("SELECT count() FROM object_names").result_rows == names_before


# --- the event columns, defined once ---------------------------------------------------------------


def test_the_record_and_its_row_have_exactly_the_defined_columns():
    assert schema.EVENTS.column_names() == EVENT_COLUMNS
    assert set(EventRecord.__slots__) == set(EVENT_COLUMNS)
    row = json.loads(EventRecord("create:task", datetime(2026, 1, 1, tzinfo=UTC)).to_row())
    assert list(row) != [] and set(row) == set(EVENT_COLUMNS)


def test_vector_sends_exactly_the_defined_columns_in_order():
    config = yaml.safe_load((REPO / "components" / "vector" / "vector.yaml").read_text())
    assert tuple(config["sinks"]["clickhouse_events"]["encoding"]["only_fields"]) == EVENT_COLUMNS


def test_the_export_query_returns_the_exported_columns_in_order(clickhouse):
    assert tuple(c.name for c in schema.EVENTS.columns if c.exported) == EXPORT_COLUMNS
    assert EVENT_COLUMNS[: len(EXPORT_COLUMNS)] == EXPORT_COLUMNS
    sql = load_sql("queries/export_events.sql").replace("/*filters*/", "").rstrip().rstrip(";")
    parameters = {"since": datetime(2026, 1, 1), "until": datetime(2026, 2, 1), **export_filter_params({})}
    described = clickhouse.query(f"DESCRIBE ({render_columns(sql, 'jsonl')})", parameters=parameters)
    assert tuple(row[0] for row in described.result_rows) == EXPORT_COLUMNS
    # The CSV is one rendered line per row, made of those columns.
    described = clickhouse.query(f"DESCRIBE ({render_columns(sql, 'csv')})", parameters=parameters)
    assert [row[:2] for row in described.result_rows] == [("line", "String")]


def test_other_projections_of_events_name_only_defined_columns():
    assert set(RAW_COLUMNS) <= set(EVENT_COLUMNS)


# --- deduplication on one node, for real -----------------------------------------------------------


def _view_targets_snapshot(client) -> dict[str, list[tuple]]:
    snapshot = {}
    for table in {view.target for view in VIEWS} | {schema.EVENTS}:
        columns = ", ".join(
            f"finalizeAggregation({c.name})" if c.type.startswith("AggregateFunction") else c.name
            for c in table.columns
        )
        snapshot[table.name] = client.query(f"SELECT {columns} FROM {table.name} ORDER BY ALL").result_rows
    return snapshot


def test_a_retried_batch_is_stored_once_in_events_and_every_table_a_view_fills(clickhouse):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    records = [
        EventRecord(
            scope=("update:job" if i % 5 == 0 else "draw:object"),
            timestamp=start + timedelta(seconds=37 * i),
            source="client",
            obj_name="state" if i % 5 == 0 else None,
            obj_val="completed" if i % 5 == 0 else None,
            obj_id=i,
            count=i % 3 or None,
            duration=i * 10,
            org_id=1 + i % 3,
            job_id=100 + i % 7,
            user_id=10 + i % 4,
            user_name=f"user{i % 4}",
        )
        for i in range(300)
    ]
    payload = b"\n".join(r.to_row() for r in records)
    token = uuid.uuid4().hex
    ClickHouseSink().send(payload, token)
    once = _view_targets_snapshot(clickhouse)
    assert len(once) == 1 + len({view.target.name for view in VIEWS})
    assert all(once.values())
    ClickHouseSink().send(payload, token)  # the flusher's retry after a lost acknowledgement
    assert _view_targets_snapshot(clickhouse) == once
