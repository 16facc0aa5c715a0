"""The read engine's single definitions: the scope predicate's rendering, the tier choice, the grid,
the time parser and the KPI formula compiler."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analytics.formulas import compile_condition, compile_formula
from analytics.grid import MONTHLY, Grid
from analytics.query.timegrid import grid_table, make_grid
from analytics.registry import ALL_METRICS, KPIS
from analytics.selectors import Scope
from analytics.tiers import org_rollup_table, org_tier_of, rollup_table, sums_table
from analytics.times import parse_instant
from store.schema import ORG_SCOPED_TABLES
from store.sql import load_sql, scoped_sql

DAY = 86_400


def test_the_scope_predicate_renders_only_the_filters_a_scope_applies():
    path = "queries/analytics/metric_sums.sql"
    one_org = scoped_sql(path, Scope(org_ids=(1,)).params())
    assert "org_id IN {org_ids:Array(UInt64)}" in one_org
    assert "user_id" not in one_org and "any_" not in one_org and "/*scope*/" not in one_org
    user = scoped_sql(path, Scope(org_ids=(1,), user_ids=(4,)).params())
    assert "org_id IN {org_ids:Array(UInt64)}" in user and "user_id IN {user_ids:Array(UInt64)}" in user
    everything = scoped_sql(path, Scope().params())
    assert "org_id IN" not in everything and "AND true" in everything
    # The full rendering keeps every filter behind its lifting Bool.
    assert "({any_user:Bool} OR user_id IN {user_ids:Array(UInt64)})" in load_sql(path)


def test_a_missing_scope_parameter_is_an_error_not_an_unfiltered_read():
    params = Scope(org_ids=(1,)).params()
    del params["all_orgs"]
    with pytest.raises(ValueError, match="all_orgs"):
        scoped_sql("queries/analytics/metric_sums.sql", params)


def test_the_scoped_read_returns_the_same_rows_as_the_fully_lifted_one(clickhouse):
    params = {
        **Scope(org_ids=(1,), user_ids=(4,)).params(),
        "start": 0,
        "end": 2 * DAY,
        "step": DAY,
        "table": "rollup_1d",
        "all_keys": True,
        "metric_keys": [],
    }
    path = "queries/analytics/metric_sums.sql"
    assert (
        clickhouse.query(scoped_sql(path, params), parameters=params).result_rows
        == clickhouse.query(load_sql(path), parameters=params).result_rows
    )


def test_one_tier_choice_for_every_reader():
    start = 1_700_006_400  # a UTC midnight
    assert rollup_table(start, start + 30 * DAY, DAY) == "rollup_1d"
    assert rollup_table(start + 3600, 3600) == "rollup_1h"
    assert rollup_table(start + 300, 300) == "rollup_5m"
    assert org_rollup_table(start + 300, 300) is None
    assert org_rollup_table(start, DAY) == "rollup_org_1d"
    assert sums_table(start, 60) == "events"
    assert grid_table(make_grid(start, start + DAY, "minute")) == "events"
    assert grid_table(make_grid(start, start + DAY, "hour")) == "rollup_1h"
    assert grid_table(make_grid(start, start + 60 * DAY, "month")) == "rollup_1d"
    assert {"events", "rollup_1h", "rollup_org_1h", "rollup_org_1d"} <= set(ORG_SCOPED_TABLES)
    assert "object_names" not in ORG_SCOPED_TABLES
    assert org_tier_of("rollup_1h") == "rollup_org_1h" and org_tier_of("rollup_1d") == "rollup_org_1d"
    assert org_tier_of("rollup_5m") is None and org_tier_of("events") is None


@pytest.mark.parametrize("org_ids", [None, (1,), (2, 1)], ids=["all", "one org", "two orgs"])
@pytest.mark.parametrize(("granularity", "timed"), [("hour", True), ("day", True), ("day", False)])
def test_query_api_sums_from_an_organization_tier_equal_the_full_tier(
    clickhouse, monkeypatch, org_ids, granularity, timed
):
    """A query API read that keeps no id column but org_id, for a scope of organizations only,
    reads an organization tier: the same rows as the full tier's (events without an organization
    included for a superuser)."""
    import random
    from datetime import timedelta

    from analytics.query import fetch
    from test_analytics_support import insert_events, random_events

    start = datetime(2026, 11, 2, tzinfo=UTC)
    insert_events(clickhouse, random_events(random.Random(7), 3000, start, timedelta(days=2)))
    t0 = int(start.timestamp())
    grid = make_grid(t0, t0 + 2 * DAY, granularity)
    registry_metrics = [ALL_METRICS[name] for name in ("events", "working_time_ms", "jobs_completed")]

    def read(dims: tuple[str, ...]) -> tuple[list[str], list[tuple]]:
        fetcher = fetch.Fetcher(Scope(org_ids=org_ids))
        tables: list[str] = []
        original = fetcher._query

        def spy(name, params):
            tables.append(params["table"])
            return original(name, params)

        monkeypatch.setattr(fetcher, "_query", spy)
        shape = fetch.Shape(grid, timed, dims)
        fetcher.want(shape, registry_metrics)
        return tables, sorted(fetcher.sums(shape))

    org_tables, org_rows = read(("org_id",))
    assert org_tables == [org_tier_of(grid_table(grid) if timed else rollup_table(t0, t0 + 2 * DAY))]
    assert org_rows
    monkeypatch.setattr(fetch, "org_tier_of", lambda table: None)
    full_tables, full_rows = read(("org_id",))
    assert full_tables == [grid_table(grid) if timed else "rollup_1d"]
    assert org_rows == full_rows


def test_one_grid_weeks_on_mondays_and_calendar_months():
    wednesday = datetime(2026, 11, 4, 12, tzinfo=UTC).timestamp()
    week = Grid.covering(wednesday, wednesday + 1, 7 * DAY)
    assert datetime.fromtimestamp(week.start, UTC).weekday() == 0 and week.count == 1
    months = Grid.covering(
        datetime(2026, 1, 15, tzinfo=UTC).timestamp(), datetime(2026, 3, 2, tzinfo=UTC).timestamp(), MONTHLY
    )
    assert [datetime.fromtimestamp(ts, UTC).month for ts in months.starts] == [1, 2, 3]
    assert months.end == datetime(2026, 4, 1, tzinfo=UTC).timestamp()
    assert months.index(datetime(2026, 2, 28, tzinfo=UTC).timestamp()) == 1


def test_one_time_parser():
    assert parse_instant("1795341600", per_second=1) == 1795341600
    assert parse_instant(1795341600250, per_second=1000) == 1795341600.25
    assert parse_instant("2026-11-22T10:00:00Z", per_second=1000) == 1795341600
    for bad in ("last tuesday", "2026-13-01T00:00:00Z", True):
        with pytest.raises(ValueError):
            parse_instant(bad, per_second=1)


def test_formulas_give_none_for_a_zero_denominator_and_propagate_it():
    formula = compile_formula("100 * a / (b + c) + 1", ("a", "b", "c"))
    assert formula({"a": 1, "b": 1, "c": 3}) == 26.0
    assert formula({"a": 1, "b": 0, "c": 0}) is None
    with pytest.raises(ValueError, match="not one of its metrics"):
        compile_formula("a / d", ("a",))
    accepted = compile_condition("a > 0 AND b = 0", ("a", "b"))
    assert accepted({"a": 2, "b": 0}) and not accepted({"a": 2, "b": 1})
    assert (
        KPIS["objects_per_working_hour"].compute({"objects_drawn": 10, "working_time_ms": 1_800_000}) == 20.0
    )
