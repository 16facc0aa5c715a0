"""Monitoring: CVAT's monitoring dashboard (exceptions, durations, event shipping)."""

from __future__ import annotations

from typing import Any

from analytics.registry import KPIS, METRICS
from generator import clickhouse as ch
from generator import pipeline
from generator.dashboards.common import (
    ALL_IDS,
    EXCEPTION_MESSAGE,
    NO_RATIO,
    ROLLUP,
    error_variable,
    id_variables,
    names_columns,
    names_joins,
    source_variable,
)
from generator.sql import (
    EVENTS_TIME,
    ROLLUP_TIME,
    ZERO_FILL,
    kpi,
    metric,
    metrics_prefilter,
    where,
)

# --- Monitoring ----------------------------------------------------------------------------------


def monitoring() -> Any:
    ids = ALL_IDS
    texts = {"source": "source"}
    board = ch.new_dashboard(
        "monitoring",
        "Monitoring",
        "Health of the annotation platform: active users, events and their durations by scope, "
        "and exceptions from the UI and the server.",
        ["monitoring"],
    )
    board.with_variable(ch.org_ids_variable())
    for variable in id_variables(ids):
        board.with_variable(variable)
    board.with_variable(source_variable(ids)).with_variable(error_variable(ids))

    active = "active_users"
    board.with_panel(
        ch.stat_panel(
            1,
            "Active users (last 15 minutes)",
            "Distinct users with at least one event in the last 15 minutes (the last three "
            "5-minute buckets and the current one), whatever the time range. From rollup_5m.",
            f"""
SELECT {metric(active)} AS "Active users"
FROM {ROLLUP}
{where(None, ids, texts, ["bucket >= toStartOfFiveMinutes(now() - INTERVAL 15 MINUTE)"])}
""",
            ch.grid(0, 0, 4, 7),
        )
    )
    board.with_panel(
        ch.timeseries_panel(
            2,
            "Active users",
            "Distinct users with at least one event, per time interval (at least 15 minutes). "
            "From rollup_5m.",
            f"""
SELECT $__timeInterval(bucket) AS time, {metric(active)} AS "Active users"
FROM {ROLLUP}
{where(ROLLUP_TIME, ids, texts)}
GROUP BY time
ORDER BY time {ZERO_FILL}
""",
            ch.grid(4, 0, 20, 7),
            min_interval="15m",
        )
    )
    board.with_panel(
        ch.table_panel(
            3,
            "Duration of events",
            "Per scope and source, over the events that have a duration (> 0 ms; for "
            "send:working_time it is the working time). Minimum and maximum cannot be added up, "
            "so this panel reads events, not the rollup.",
            f"""
SELECT
    scope AS "Scope",
    source AS "Source",
    count() AS "Events with a duration",
    round(avg(duration)) AS "Average duration (ms)",
    min(duration) AS "Shortest (ms)",
    max(duration) AS "Longest (ms)"
FROM events
{where(EVENTS_TIME, ids, texts, ["duration > 0"])}
GROUP BY scope, source
ORDER BY "Events with a duration" DESC, scope, source
""",
            ch.grid(0, 7, 12, 9),
            units={name: ("ms", 0) for name in ("Average duration (ms)", "Shortest (ms)", "Longest (ms)")},
        )
    )
    board.with_panel(
        ch.table_panel(
            4,
            "Number of events",
            "Number of events per scope and source. From rollup_5m.",
            f"""
SELECT metric_key AS "Scope", source AS "Source", {metric("events")} AS "Events"
FROM {ROLLUP}
{where(ROLLUP_TIME, ids, texts, [metrics_prefilter(["events"])])}
GROUP BY metric_key, source
HAVING "Events" > 0
ORDER BY "Events" DESC, metric_key, source
""",
            ch.grid(12, 7, 12, 9),
        )
    )
    client, server = METRICS["exceptions_client"], METRICS["exceptions_server"]
    board.with_panel(
        ch.timeseries_panel(
            5,
            "Exceptions over time",
            f"{client.display_name} ({client.description}) and {server.display_name} "
            f"({server.description}) per time interval. From rollup_5m.",
            f"""
SELECT
    $__timeInterval(bucket) AS time,
    {metric("exceptions_client")} AS "{client.display_name}",
    {metric("exceptions_server")} AS "{server.display_name}"
FROM {ROLLUP}
{where(ROLLUP_TIME, ids, texts, [metrics_prefilter(["exceptions_client", "exceptions_server"])])}
GROUP BY time
ORDER BY time {ZERO_FILL}
""",
            ch.grid(0, 16, 20, 8),
        )
    )
    rate = KPIS["exceptions_per_1k_events"]
    board.with_panel(
        ch.stat_panel(
            6,
            rate.display_name,
            f"{rate.description} Over the time range. From rollup_5m.",
            f"""
SELECT {kpi(rate.key)} AS "{rate.display_name}"
FROM {ROLLUP}
{where(ROLLUP_TIME, ids, texts, [metrics_prefilter(rate.metrics)])}
""",
            ch.grid(20, 16, 4, 8),
            decimals=2,
            no_value=NO_RATIO,
        )
    )
    board.with_panel(
        ch.table_panel(
            7,
            "Exceptions",
            "The 1000 most recent send:exception events matching the filters (and the error "
            "message filter), newest first. From events.",
            f"""
SELECT
    e.timestamp AS "Time",
    e.source AS "Source",
    e.user_name AS "User",
    e.user_id AS "User ID",
    {", ".join(names_columns("e"))},
    JSONExtractString(ifNull(e.payload, ''), 'message') AS "Error",
    JSONExtractString(ifNull(e.payload, ''), 'stack') AS "Stack",
    e.payload AS "Payload"
FROM (
    SELECT *
    FROM events
    {where(EVENTS_TIME, ids, {"source": "source", "error": EXCEPTION_MESSAGE}, ["scope = 'send:exception'"])}
    ORDER BY timestamp DESC
    LIMIT 1000
) AS e
{names_joins("e")}
ORDER BY e.timestamp DESC
""",
            ch.grid(0, 24, 24, 14),
        )
    )
    board.with_panel(pipeline.shipping_panel(8, ch.grid(0, 38, 24, 8)))
    return board
