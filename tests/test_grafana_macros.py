"""dashboards.macros against the plugin's and Grafana's own rules (pkg/macros/macros.go, sqlds'
argument parser, CHDatasource.applyConditionalAll, scenes' formatRegistry and CustomAllValue,
rangeutil), and the registry KPIs as SQL against the registry's Python formulas."""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from analytics.registry import JOB_KPIS, KPIS
from dashboards.macros import (
    ALL,
    ORG_VARIABLE,
    MacroError,
    OrgRestriction,
    UnsafeValueError,
    calculate_interval_seconds,
    dashboard_variables,
    expand,
    round_interval_ms,
    seconds_to_hms,
)

FROM = datetime(2026, 11, 22, 10, 0, 0, 250_000, tzinfo=UTC)  # 1795341600.25
TO = datetime(2026, 11, 22, 16, 30, 0, 999_000, tzinfo=UTC)
FROM_S, TO_S = 1795341600, 1795365000
FROM_MS, TO_MS = FROM_S * 1000 + 250, TO_S * 1000 + 999


def x(sql: str, interval: float = 300, **kwargs) -> str:
    return expand(sql, time_from=FROM, time_to=TO, interval_seconds=interval, **kwargs)


def test_time_constants():
    assert int(FROM.timestamp()) == FROM_S and int(TO.timestamp()) == TO_S


# --- backend macros (pkg/macros/macros.go) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("$__fromTime", f"toDateTime({FROM_S})"),
        ("$__toTime", f"toDateTime({TO_S})"),
        ("$__fromTime_ms", f"fromUnixTimestamp64Milli({FROM_MS})"),
        ("$__toTime_ms", f"fromUnixTimestamp64Milli({TO_MS})"),
        ("$__timeFilter(ts)", f"ts >= toDateTime({FROM_S}) AND ts <= toDateTime({TO_S})"),
        (
            "$__timeFilter_ms(ts)",
            f"ts >= fromUnixTimestamp64Milli({FROM_MS}) AND ts <= fromUnixTimestamp64Milli({TO_MS})",
        ),
        ("$__dateFilter(d)", "d >= toDate('2026-11-22') AND d <= toDate('2026-11-22')"),
        (
            "$__dateTimeFilter(d, t)",
            f"(d >= toDate('2026-11-22') AND d <= toDate('2026-11-22')) AND "
            f"(t >= toDateTime({FROM_S}) AND t <= toDateTime({TO_S}))",
        ),
        ("$__dt(d,t)", x("$__dateTimeFilter(d, t)")),
        ("$__timeInterval(ts)", "toStartOfInterval(toDateTime(ts), INTERVAL 300 second)"),
        ("$__timeInterval_ms(ts)", "toStartOfInterval(toDateTime64(ts, 3), INTERVAL 300000 millisecond)"),
        ("$__interval_s", "300"),
        # Arguments are split at the first bracket depth and trimmed; nested calls survive.
        (
            "$__timeFilter( toDateTime(ts, 'UTC') )",
            f"toDateTime(ts, 'UTC') >= toDateTime({FROM_S}) AND toDateTime(ts, 'UTC') <= toDateTime({TO_S})",
        ),
        # Unknown macros are left for ClickHouse to reject, as the plugin does.
        ("$__unknownMacro(x)", "$__unknownMacro(x)"),
        # The longer name is not mistaken for the shorter one (\b).
        (
            "$__timeFilter_ms(a) AND $__timeFilter(b)",
            x("$__timeFilter_ms(a)") + " AND " + x("$__timeFilter(b)"),
        ),
    ],
)
def test_macros(sql, expected):
    assert x(sql) == expected


def test_intervals_are_at_least_one_second_and_truncated():
    assert x("$__interval_s", interval=0.2) == "1"
    assert x("$__interval_s", interval=90.9) == "90"
    assert x("$__timeInterval(t)", interval=0.2) == "toStartOfInterval(toDateTime(t), INTERVAL 1 second)"
    assert x("$__timeInterval_ms(t)", interval=0.0004) == (
        "toStartOfInterval(toDateTime64(t, 3), INTERVAL 1 millisecond)"
    )


@pytest.mark.parametrize("sql", ["$__timeFilter", "$__timeFilter(a, b)", "$__timeInterval(a, b)", "$__dt(a)"])
def test_wrong_argument_counts_are_errors(sql):
    with pytest.raises(MacroError, match="argument"):
        x(sql)


def test_unclosed_bracket_is_an_error():
    with pytest.raises(MacroError, match="missing close bracket"):
        x("$__timeFilter(ts")


def test_epoch_milliseconds_are_accepted_and_ranges_must_be_ordered():
    assert expand("$__fromTime_ms", time_from=FROM_MS, time_to=TO_MS, interval_seconds=1) == (
        f"fromUnixTimestamp64Milli({FROM_MS})"
    )
    with pytest.raises(MacroError):
        expand("$__fromTime", time_from=TO, time_to=FROM, interval_seconds=1)


# --- template variables -------------------------------------------------------------------------------


def test_formats_of_multi_values():
    values = {"v": ["a", "b'c"]}
    assert x("${v:singlequote}", variables=values, quoting="grafana") == "'a','b\\'c'"
    assert x("${v:doublequote}", variables={"v": ['a"b']}, quoting="grafana") == '"a\\"b"'
    assert x("${v:sqlstring}", variables=values, quoting="grafana") == "'a','b''c'"
    # The plugin's own formatter when no format is given: quoted list (no escaping), raw scalar.
    assert x("$v ${v} [[v]]", variables={"v": ["a", "b"]}) == "'a','b' 'a','b' 'a','b'"
    assert x("$v", variables={"v": "7"}) == "7"
    assert x("${v:csv} ${v:pipe} ${v:raw} ${v:json}", variables={"v": ["1", "2"]}) == '1,2 1|2 1,2 ["1","2"]'
    assert x("${v:glob}", variables={"v": ["1", "2"]}) == "{1,2}"
    assert x("${v:glob}", variables={"v": ["1"]}) == "1"
    assert x("${v:text}", variables={"v": ["1", "2"]}) == "1 + 2"


def test_unknown_variables_are_left_alone():
    assert x("$nope ${nope:singlequote}") == "$nope ${nope:singlequote}"


def test_custom_all_value_is_inserted_verbatim_and_interpolated_again():
    sql = "(-1 IN (${p:singlequote}) OR p IN (${p:singlequote}))"
    assert x(sql, variables={"p": ALL}, all_values={"p": "-1"}) == "(-1 IN (-1) OR p IN (-1))"
    assert x(sql, variables={"p": [ALL]}, all_values={"p": "-1"}) == "(-1 IN (-1) OR p IN (-1))"
    assert x("${p:text}", variables={"p": ALL}, all_values={"p": "-1"}) == "All"
    assert x("${p:singlequote}", variables={"p": ALL, "q": ["x"]}, all_values={"p": "$q"}) == "'x'"


def test_all_without_custom_value_is_every_option_and_never_in_empty():
    assert x("${s:singlequote}", variables={"s": ALL}, all_values={"s": None}, options={"s": ["a", "b"]}) == (
        "'a','b'"
    )
    with pytest.raises(MacroError, match=r"IN \(\)"):
        x("${s:singlequote}", variables={"s": ALL}, all_values={"s": None}, options={"s": []})


def test_an_empty_selection_is_all_or_an_error():
    assert x("${p:singlequote}", variables={"p": []}, all_values={"p": "-1"}) == "-1"
    with pytest.raises(MacroError, match="no value"):
        x("${p:singlequote}", variables={"p": []})
    with pytest.raises(MacroError, match="no All option"):
        x("${p:singlequote}", variables={"p": ALL})


def test_builtin_variables():
    sql = (
        "${__from} ${__to} ${__from:date:seconds} ${__to:date:iso} ${__from:date} "
        "$__interval ${__interval_ms}"
    )
    assert x(sql, interval=300) == (
        f"{FROM_MS} {TO_MS} {FROM_S} 2026-11-22T16:30:00.999Z 2026-11-22T10:00:00.250Z 5m 300000"
    )
    assert (
        x("$__range_s $__range_ms $__range") == f"{(TO_MS - FROM_MS + 500) // 1000} {TO_MS - FROM_MS} 23401s"
    )


def test_conditional_all():
    sql = "WHERE $__conditionalAll(col IN (${v:singlequote}), $v) AND $__conditionalAll(f(a, b) = 1, ${w})"
    assert x(sql, variables={"v": ALL, "w": ["x"]}, all_values={"v": None}) == "WHERE 1=1 AND f(a, b) = 1"
    assert x(sql, variables={"v": [], "w": ALL}, all_values={"v": None, "w": None}) == "WHERE 1=1 AND 1=1"
    assert x(sql, variables={"v": ["a"], "w": ["x"]}) == "WHERE col IN ('a') AND f(a, b) = 1"


# --- quoting -------------------------------------------------------------------------------------------


def test_backslashes_break_grafanas_quoting_and_not_ours():
    values = {"v": ["ends with \\"]}
    assert x("${v:singlequote}", variables=values, quoting="grafana") == "'ends with \\'"  # unterminated
    assert x("${v:singlequote}", variables=values) == "'ends with \\\\'"


def test_unquoted_formats_refuse_non_numbers_on_the_server():
    assert x("${v:csv}", variables={"v": ["1", "-2.5"]}) == "1,-2.5"
    for sql in ("${v:csv}", "${v:raw}", "$v", "${v:glob}"):
        with pytest.raises(UnsafeValueError):
            x(sql, variables={"v": "1) OR (1=1"})
        assert x(sql, variables={"v": "1 OR 1"}, quoting="grafana").endswith("1 OR 1")


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=4))
def test_singlequoted_values_reach_clickhouse_unchanged(clickhouse, values):
    """Whatever the value (quotes, backslashes, SQL), it is one string literal equal to itself."""
    values = [value.replace("\x00", "") for value in values]
    sql = x("SELECT [${v:singlequote}] AS got, [${v:sqlstring}] AS got2", variables={"v": values})
    got = clickhouse.query(sql).result_rows[0]
    assert list(got[0]) == values and list(got[1]) == values
    if not any("\\" in value for value in values):
        assert x("${v:singlequote}", variables={"v": values}, quoting="grafana") == x(
            "${v:singlequote}", variables={"v": values}
        )


# --- organization restriction -------------------------------------------------------------------


def test_restriction_overrides_the_request():
    sql = "SELECT 1 FROM events WHERE (-1 IN (${org_ids:singlequote}) OR org_id IN (${org_ids:singlequote}))"
    forced = x(
        sql,
        variables={ORG_VARIABLE: ALL},
        all_values={ORG_VARIABLE: "-1"},
        restriction=OrgRestriction.of([3, 1]),
    )
    assert forced.endswith("(-1 IN ('1','3') OR org_id IN ('1','3'))")
    everyone = x(sql, variables={ORG_VARIABLE: ["1"]}, restriction=OrgRestriction.of(None))
    assert everyone.endswith("(-1 IN (-1) OR org_id IN (-1))")
    with pytest.raises(ValueError):
        OrgRestriction.of([0])
    assert OrgRestriction.of(None).query_settings("db") == {}
    assert (
        OrgRestriction.of([2, 1])
        .query_settings("db")["additional_table_filters"]
        .startswith("{'db.events': 'org_id IN (1, 2)'")
    )


# --- Grafana's interval rules --------------------------------------------------------------------------


def test_grafana_interval_rules():
    assert (
        round_interval_ms(9) == 1
        and round_interval_ms(3600) == 5000
        and round_interval_ms(604_800) == 600_000
    )
    assert round_interval_ms(10**12) == 31_536_000_000
    week = (FROM, FROM + timedelta(days=7))
    assert calculate_interval_seconds(*week, max_data_points=1000) == 600
    assert calculate_interval_seconds(FROM, FROM + timedelta(hours=1), max_data_points=1000) == 5
    assert (
        calculate_interval_seconds(FROM, FROM + timedelta(hours=1), max_data_points=1000, min_interval="5m")
        == 300
    )
    assert [seconds_to_hms(s) for s in (0.5, 30, 300, 5400, 86400, 31_536_000)] == [
        "500ms",
        "30s",
        "5m",
        "1h",
        "1d",
        "1y",
    ]


def test_variables_are_read_from_dashboard_json():
    board = {
        "templating": {
            "list": [
                {
                    "name": "p",
                    "type": "query",
                    "query": {"rawSql": "SELECT 1"},
                    "includeAll": True,
                    "allValue": "-1",
                    "multi": True,
                },
                {"name": "h", "type": "custom", "query": "", "hide": 2},
            ]
        }
    }
    p, h = dashboard_variables(board)
    assert (p.query, p.all_value, p.include_all, p.multi, p.hidden) == ("SELECT 1", "-1", True, True, False)
    assert (h.include_all, h.all_value, h.hidden) == (False, None, True)


# --- the registry as SQL ---------------------------------------------------------------------------------


def _kpi_sql(key: str, operands: dict[str, str]) -> str:
    sys.path.insert(0, str(Path(settings.REPO_DIR) / "grafana"))
    try:
        from generator.sql import kpi
    finally:
        sys.path.remove(str(Path(settings.REPO_DIR) / "grafana"))
    return kpi(key, operands)


@pytest.mark.parametrize("key", sorted(KPIS))
def test_kpi_sql_equals_the_registry_formula(clickhouse, key):
    definition = KPIS[key]
    rng = random.Random(key)
    for case in range(12):
        # Zeros included: a ratio over 0 is NULL in SQL and None in the registry.
        totals = {name: (0 if case < 2 else rng.randint(0, 5_000_000)) for name in definition.metrics}
        operands = {name: f"toUInt64({value})" for name, value in totals.items()}
        (got,) = clickhouse.query(f"SELECT {_kpi_sql(key, operands)}").result_rows[0]
        expected = definition.compute(totals)
        if expected is None:
            assert got is None, (key, totals)
        else:
            assert got == pytest.approx(expected, rel=1e-12), (key, totals)


def test_job_kpi_sql_equals_the_registry_definition(clickhouse):
    sys.path.insert(0, str(Path(settings.REPO_DIR) / "grafana"))
    try:
        from generator.sql import job_kpi
    finally:
        sys.path.remove(str(Path(settings.REPO_DIR) / "grafana"))
    for key, definition in JOB_KPIS.items():
        rng = random.Random(key)
        for case in range(10):
            jobs = [{name: rng.choice((0, 0, 1, 2)) for name in definition.metrics} for _ in range(case * 3)]
            rows = (
                ", ".join(
                    "(" + ", ".join([str(i), *(str(job[name]) for name in definition.metrics)]) + ")"
                    for i, job in enumerate(jobs)
                )
                or "(0, " + ", ".join("0" for _ in definition.metrics) + ")"
            )
            columns = ", ".join(["job_id UInt64", *(f"{name} UInt64" for name in definition.metrics)])
            sql = job_kpi(key, {name: name for name in definition.metrics}, "job_id")
            (got,) = clickhouse.query(
                f"SELECT {sql} FROM values('{columns}', {rows}) WHERE {bool(jobs):d}"
            ).result_rows[0]
            counted = [job for job in jobs if job[definition.counted] > 0]
            if not counted:
                assert got is None, (key, jobs)
            else:
                expected = 100 * sum(definition.accepted(job) for job in counted) / len(counted)
                assert got == pytest.approx(expected), (key, jobs)


def test_timezone_is_grafanas_global_variable():
    assert x("${__timezone:singlequote}") == "'utc'"
    assert x("${__timezone:singlequote}", timezone="Europe/Berlin") == "'Europe/Berlin'"
