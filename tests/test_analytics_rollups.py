"""The 5-minute rollups: filled by the materialized views, additive, deduplicated on retry, and
rebuilt identically by the backfill command. Real chDB throughout."""

from __future__ import annotations

import io
import os
import random
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from analytics.backfill import staging_inserts
from analytics.buckets import Grid
from analytics.registry import METRICS, STATUS_FIELDS
from analytics.selectors import Scope, metric_series
from events.record import EventRecord
from shipping.sinks import ClickHouseSink
from store.clickhouse_migrations import MIGRATIONS
from store.ddl import SINGLE_NODE
from store.schema import ROLLUP_5M_STATUS_MV
from test_analytics_support import in_range, insert_events, random_events, totals

START = datetime(2026, 10, 30, 22, 0, tzinfo=UTC)  # spans the October/November partitions
SPAN = timedelta(days=3)


def snapshot(client, table: str = "rollup_5m") -> list[tuple]:
    """Every rollup key with its sums (the last four values), merged (SummingMergeTree merges
    lazily). The organization tiers have no project/task/job/user columns."""
    ids = "org_id" if table.startswith("rollup_org_") else "org_id, project_id, task_id, job_id, user_id"
    return client.query(
        f"SELECT bucket, {ids}, source, metric_key,"
        " sum(events), sum(units), sum(duration_ms), sum(working_time_ms)"
        f" FROM {table} GROUP BY ALL ORDER BY ALL"
    ).result_rows


TABLES = ("rollup_5m", "rollup_1h", "rollup_1d", "rollup_org_1h", "rollup_org_1d")


def per_org(rows: list[tuple]) -> list[tuple]:
    """Rows of a full tier added up per (bucket, org, source, metric_key): an organization tier."""
    merged: dict[tuple, list[int]] = {}
    for bucket, org_id, _project, _task, _job, _user, source, metric_key, *sums in rows:
        total = merged.setdefault((bucket, org_id, source, metric_key), [0, 0, 0, 0])
        for i, value in enumerate(sums):
            total[i] += value
    return sorted((*key, *sums) for key, sums in merged.items())


def both(client) -> tuple[list[tuple], ...]:
    """Snapshots of every rollup tier."""
    return tuple(snapshot(client, table) for table in TABLES)


def coarser(rows: list[tuple], **truncate: int) -> list[tuple]:
    merged: dict[tuple, list[int]] = {}
    for bucket, *keys_and_sums in rows:
        key = (bucket.replace(**truncate), *keys_and_sums[:7])
        sums = merged.setdefault(key, [0, 0, 0, 0])
        for i, value in enumerate(keys_and_sums[7:]):
            sums[i] += value
    return sorted((*key, *sums) for key, sums in merged.items())


@pytest.fixture
def seeded(clickhouse):
    records = random_events(random.Random(4), 4000, START, SPAN)
    insert_events(clickhouse, records)
    return records


def whole(records) -> Grid:
    return Grid(int(START.timestamp()), int(SPAN.total_seconds()), 1)


def test_every_metric_in_the_rollup_equals_the_raw_events(seeded):
    series = metric_series(Scope(), whole(seeded), list(METRICS))
    assert series.totals == totals(seeded, METRICS)
    assert series.totals["objects_drawn"] > 0 and series.totals["jobs_rejected"] > 0


def test_every_tier_gives_the_same_numbers(seeded):
    start = int(START.timestamp()) + 2 * 3600  # 2026-10-31T00:00Z
    names = [*METRICS, "active_users", "jobs_worked"]
    daily = metric_series(Scope(), Grid(start, 86_400, 2), names)  # read from rollup_1d
    hourly = metric_series(Scope(), Grid(start, 3600, 48), names)  # read from rollup_1h
    fine = metric_series(Scope(), Grid(start, 300, 48 * 12), names)  # read from rollup_5m
    for name in METRICS:
        assert hourly.values[name] == [sum(fine.values[name][12 * h : 12 * h + 12]) for h in range(48)]
        assert daily.values[name] == [sum(hourly.values[name][24 * d : 24 * d + 24]) for d in range(2)]
    assert daily.totals == hourly.totals == fine.totals


def test_the_hourly_and_daily_rollups_hold_the_five_minute_rows_summed(seeded, clickhouse):
    five, hourly, daily, org_hourly, org_daily = both(clickhouse)
    assert hourly == coarser(five, minute=0)
    assert daily == coarser(five, minute=0, hour=0)
    assert len(daily) < len(hourly) < len(five)
    assert org_hourly == per_org(hourly)
    assert org_daily == per_org(daily)
    assert len(org_daily) < len(daily) and len(org_hourly) < len(hourly)


def test_a_scope_without_id_filters_reads_the_organization_tiers_with_the_same_numbers(seeded, monkeypatch):
    from analytics import selectors

    read: list[str] = []
    real_rows = selectors._rows

    def recording_rows(name: str, params: dict) -> list:
        read.append(params["table"])
        return real_rows(name, params)

    monkeypatch.setattr(selectors, "_rows", recording_rows)
    names = [*METRICS, "active_users", "jobs_worked"]
    start = int(START.timestamp())
    cases = [
        (scope, grid)
        for scope in (Scope(), Scope(org_ids=(1, 2)))
        for grid in (Grid(start + 7200, 86_400, 2), Grid(start, 3600, 72))
    ]
    fast = [metric_series(scope, grid, names) for scope, grid in cases]
    # Sums and distinct counts (from the tiers' uniqExact states), one query each.
    assert read == ["rollup_org_1d", "rollup_org_1h"] * 2

    monkeypatch.setattr(selectors, "org_rollup_table", lambda *bounds: None)
    read.clear()
    full = [metric_series(scope, grid, names) for scope, grid in cases]
    assert set(read) == {"rollup_1d", "rollup_1h"}
    for a, b in zip(fast, full, strict=True):
        assert a.values == b.values and a.totals == b.totals
    assert fast[0].totals["objects_drawn"] > 0

    # With an id filter the organization tiers cannot answer.
    monkeypatch.undo()
    monkeypatch.setattr(selectors, "_rows", recording_rows)
    read.clear()
    metric_series(Scope(user_ids=(1,)), Grid(start + 7200, 86_400, 2), ["events"])
    assert read == ["rollup_1d"]


def test_distinct_counts_of_the_organization_tiers_stay_exact_when_their_parts_merge(seeded, clickhouse):
    more = random_events(random.Random(5), 2000, START, SPAN)  # the same users and jobs, again
    insert_events(clickhouse, more)
    everything = [*seeded, *more]
    names = ["active_users", "jobs_touched", "jobs_worked", "events"]
    start = int(START.timestamp()) + 7200
    for table in ("rollup_org_1d", "rollup_org_1h"):
        clickhouse.command(f"OPTIMIZE TABLE {table} FINAL")
    assert (
        clickhouse.query(
            "SELECT count() FROM system.parts WHERE active AND table = 'rollup_org_1d'"
        ).result_rows[0][0]
        <= 2
    )
    for grid in (Grid(start, 86_400, 2), Grid(start, 3600, 48)):
        series = metric_series(Scope(), grid, names)
        for i in range(grid.count):
            a, b = grid.start + i * grid.step, grid.start + (i + 1) * grid.step
            assert {n: series.values[n][i] for n in names} == totals(in_range(everything, a, b), names)
        assert series.totals == totals(in_range(everything, grid.start, grid.end), names)


def test_the_migration_copies_existing_rollups_into_the_organization_tiers_once(seeded, clickhouse):
    from_views = both(clickhouse)
    migration = next(m for m in MIGRATIONS if m.label == "0011_org_rollups")
    copies = [sql for sql in migration.statements(SINGLE_NODE) if sql.lstrip().startswith("INSERT")]
    assert len(copies) == 2
    for table in ("rollup_org_1h", "rollup_org_1d"):
        clickhouse.command(f"TRUNCATE TABLE {table}")
    for _ in range(2):  # a migration interrupted after the copy runs again: nothing counts twice
        for sql in copies:
            clickhouse.command(sql)
        assert both(clickhouse) == from_views


def test_status_changes_get_their_own_key_and_other_updates_do_not(clickhouse):
    moment = datetime(2026, 11, 2, 9, 1, tzinfo=UTC)
    insert_events(
        clickhouse,
        [
            EventRecord("update:job", moment, obj_name="state", obj_val="completed", job_id=5, org_id=1),
            EventRecord("update:job", moment, obj_name="assignee", obj_val="7", job_id=5, org_id=1),
            EventRecord("update:issue", moment, obj_name="resolved", obj_val="true", job_id=5, org_id=1),
        ],
    )
    keys = dict(
        clickhouse.query("SELECT metric_key, sum(events) FROM rollup_5m GROUP BY metric_key").result_rows
    )
    assert keys == {
        "update:job": 2,
        "update:job:state=completed": 1,
        "update:issue": 1,
        "update:issue:resolved=true": 1,
    }


def test_the_status_fields_of_the_view_and_the_backfill_are_the_registry_s():
    expected = "(" + ", ".join(f"'{name}'" for name in STATUS_FIELDS) + ")"
    view = ROLLUP_5M_STATUS_MV.create(SINGLE_NODE)[0]
    backfill_sql = next(sql for sql in staging_inserts(SINGLE_NODE) if "obj_name IN" in sql)
    for sql in (view, backfill_sql):
        assert re.findall(r"obj_name IN (\([^)]*\))", sql) == [expected]


def test_a_retried_batch_with_the_same_token_leaves_every_rollup_sum_unchanged(clickhouse):
    records = random_events(random.Random(7), 500, START, timedelta(hours=2))
    rows = [record.to_row() for record in records]
    token = uuid.uuid4().hex
    sink = ClickHouseSink()
    sink.send(b"\n".join(rows), token)
    once = both(clickhouse)
    sink.send(b"\n".join(rows), token)  # the flusher's retry after a lost acknowledgement
    assert both(clickhouse) == once
    assert clickhouse.query("SELECT count() FROM events").result_rows[0][0] == 500
    status_changes = sum(1 for r in records if r.scope.startswith("update:") and r.obj_name in STATUS_FIELDS)
    for table in once:
        assert sum(row[-4] for row in table) == 500 + status_changes


def test_two_different_batches_that_roll_up_to_identical_rows_both_count(clickhouse):
    moment = datetime(2026, 11, 2, 9, 1, tzinfo=UTC)
    sink = ClickHouseSink()
    for _ in range(2):  # same rollup block, different events (and tokens)
        rows = [EventRecord("draw:object", moment, source="client", count=1, org_id=1, user_id=2).to_row()]
        sink.send(b"\n".join(rows), uuid.uuid4().hex)
    for table in TABLES:
        drawn = clickhouse.query(
            f"SELECT sum(units) FROM {table} WHERE metric_key = 'draw:object'"
        ).result_rows
        assert drawn == [(2,)]


def backfill(*args: str) -> str:
    out = io.StringIO()
    call_command("backfill_rollups", "--no-progress", *args, stdout=out)
    return out.getvalue()


def test_backfill_rebuilds_exactly_what_the_views_wrote_and_twice_changes_nothing(seeded, clickhouse):
    from_views = both(clickhouse)
    assert len({row[0].strftime("%Y%m") for row in from_views[0]}) == 2  # two month partitions
    assert "rebuilt 2 month(s)" in backfill()
    assert both(clickhouse) == from_views
    backfill()
    assert both(clickhouse) == from_views


def test_backfill_restores_lost_rollups_month_by_month(seeded, clickhouse):
    from_views = both(clickhouse)
    for table in TABLES:
        clickhouse.command(f"TRUNCATE TABLE {table}")
    assert "2026-09: no events" in backfill("--month", "2026-10", "--month", "2026-09")
    assert both(clickhouse) == tuple([row for row in table if row[0].month == 10] for table in from_views)
    backfill()
    assert both(clickhouse) == from_views


def test_backfill_leaves_months_past_the_retention_horizon_alone(seeded, clickhouse, settings):
    settings.EVENTS_RETENTION_DAYS = 1
    from_views = both(clickhouse)
    clickhouse.command("TRUNCATE TABLE rollup_5m")
    output = backfill()
    assert "2026-10: older than EVENTS_RETENTION_DAYS, skipped" in output
    assert snapshot(clickhouse) == []
    backfill("--include-expired")
    assert both(clickhouse)[0] == from_views[0]


def test_backfill_exits_non_zero_with_one_line_when_the_engine_is_held(clickhouse, clickhouse_dir, tmp_path):
    # This test process holds the embedded engine, as the running server would.
    env = {
        **os.environ,
        "CLICKHOUSE_URL": f"chdb://{clickhouse_dir}",
        "ANALYTICS_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "backfill_rollups", "--no-progress"],
        cwd=settings.REPO_DIR / "server",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("CommandError: ") and "in use by another process" in last, done.stderr


# --- additivity ----------------------------------------------------------------------------------

FIVE_MINUTES = 300
N_SLOTS = int(SPAN.total_seconds()) // FIVE_MINUTES


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(0, N_SLOTS), min_size=3, max_size=3, unique=True).map(sorted))
def test_every_metric_over_t1_t3_is_the_sum_over_t1_t2_and_t2_t3(seeded, cuts):
    t1, t2, t3 = (int(START.timestamp()) + cut * FIVE_MINUTES for cut in cuts)
    names = list(METRICS)

    def over(a: int, b: int) -> dict[str, int]:
        return metric_series(Scope(), Grid(a, b - a, 1), names).totals

    whole_range, left, right = over(t1, t3), over(t1, t2), over(t2, t3)
    assert whole_range == {name: left[name] + right[name] for name in names}
    assert whole_range == totals(in_range(seeded, t1, t3), names)


def test_distinct_counts_are_exact_and_not_additive(seeded):
    start = int(START.timestamp())
    day = 86_400
    series = metric_series(Scope(), Grid(start, day, 3), ["active_users", "jobs_touched", "jobs_worked"])
    for name in ("active_users", "jobs_touched", "jobs_worked"):
        for i in range(3):
            expected = totals(in_range(seeded, start + i * day, start + (i + 1) * day), [name])[name]
            assert series.values[name][i] == expected
        assert series.totals[name] == totals(seeded, [name])[name]
    # the same four users are active every day: 3 days do not make 12 users
    assert series.totals["active_users"] == 4 < sum(series.values["active_users"])


def test_more_distinct_counts_than_one_query_computes_take_more_queries_same_numbers(seeded, monkeypatch):
    from analytics import selectors

    grid = Grid(int(START.timestamp()) + 7200, 86_400, 2)
    names = ["events", "active_users", "jobs_touched", "jobs_worked"]
    together = metric_series(Scope(org_ids=(1,)), grid, names)
    monkeypatch.setattr(selectors, "DISTINCT_SLOTS", 1)
    apart = metric_series(Scope(org_ids=(1,)), grid, names)
    assert apart.values == together.values and apart.totals == together.totals
