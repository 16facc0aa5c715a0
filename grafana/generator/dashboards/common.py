"""What every dashboard shares: the id variables and their cascade, the scope, source and error
variables, panels used on several dashboards, column units."""

from __future__ import annotations

from typing import Any

from analytics.tiers import rollup_table
from generator import clickhouse as ch
from generator.sql import (
    EVENTS_TIME,
    ROLLUP_TIME,
    ZERO_FILL,
    join_names,
    label,
    metric,
    metrics_prefilter,
    where,
)

ALL_IDS = ("organization", "project", "task", "job", "user")
# A dashboard's range is any range Grafana sends: only the 5-minute tier tiles it.
ROLLUP = rollup_table(300)
# A stat's text when its ratio KPI is NULL (nothing to divide by): not a made-up 0.
NO_RATIO = "\N{EN DASH}"
# Grafana (unit, decimals) of table columns, as field overrides.
HOURS = ("h", 2)
PERCENT = ("percent", 1)

# --- variables -----------------------------------------------------------------------------------

# Each id variable lists the ids present in the rollup over the time range (limited to the
# organizations visible, and to the selections of the variables before it), with their names.
CASCADE = {
    "organization": (),
    "project": ("organization",),
    "task": ("organization", "project"),
    "job": ("organization", "project", "task"),
    "user": ("organization", "project", "task", "job"),
}
_ID_LABELS = {
    "organization": "Organization",
    "project": "Project",
    "task": "Task",
    "job": "Job",
    "user": "User",
}
_ID_COLUMNS = {
    "organization": "org_id",
    "project": "project_id",
    "task": "task_id",
    "job": "job_id",
    "user": "user_id",
}


def id_variable_sql(variable: str, parents: tuple[str, ...]) -> str:
    column = _ID_COLUMNS[variable]
    return f"""
SELECT r.{column} AS value, concat({label("n.name", f"r.{column}")}, ' (#', toString(r.{column}), ')') AS text
FROM (
    SELECT DISTINCT {column}
    FROM {ROLLUP}
    {where(ROLLUP_TIME, parents, extra=[f"{column} != 0"])}
) AS r
{join_names(variable, "n", f"r.{column}")}
ORDER BY text
"""


def id_variables(
    variables: tuple[str, ...],
    cascade: dict[str, tuple[str, ...]] | None = None,
    labels: dict[str, str] | None = None,
) -> list:
    cascade = cascade or CASCADE
    labels = {**_ID_LABELS, **(labels or {})}
    return [
        ch.id_variable(v, labels[v], id_variable_sql(v, tuple(p for p in cascade[v] if p in variables)))
        for v in variables
    ]


def scope_variable(ids: tuple[str, ...]) -> Any:
    return ch.text_variable(
        "scope",
        "Scope",
        f"""
SELECT DISTINCT metric_key
FROM {ROLLUP}
{where(ROLLUP_TIME, ids, extra=["position(metric_key, '=') = 0"])}
ORDER BY metric_key
""",
    )


def source_variable(ids: tuple[str, ...]) -> Any:
    return ch.text_variable(
        "source",
        "Source",
        f"""
SELECT DISTINCT source
FROM {ROLLUP}
{where(ROLLUP_TIME, ids)}
ORDER BY source
""",
    )


EXCEPTION_MESSAGE = "JSONExtractString(ifNull(payload, ''), 'message')"


def error_variable(ids: tuple[str, ...]) -> Any:
    return ch.text_variable(
        "error",
        "Error message",
        f"""
SELECT DISTINCT {EXCEPTION_MESSAGE} AS message
FROM events
{where(EVENTS_TIME, ids, {"source": "source"}, ["scope = 'send:exception'"])}
ORDER BY message
LIMIT 500
""",
    )


# --- shared panels -------------------------------------------------------------------------------


def events_over_time_sql(ids: tuple[str, ...], texts: dict[str, str]) -> str:
    return f"""
SELECT $__timeInterval(bucket) AS time, {metric("events")} AS "Events"
FROM {ROLLUP}
{where(ROLLUP_TIME, ids, texts, [metrics_prefilter(["events"])])}
GROUP BY time
ORDER BY time {ZERO_FILL}
"""


def names_columns(alias: str) -> list[str]:
    """`Name`, `ID` column pairs for the org/project/task/job ids of rows aliased `alias`."""
    columns = []
    for variable in ("organization", "project", "task", "job"):
        column = _ID_COLUMNS[variable]
        title = _ID_LABELS[variable]
        columns.append(f'{variable}_names.name AS "{title}"')
        columns.append(f'{alias}.{column} AS "{title} ID"')
    return columns


def names_joins(alias: str) -> str:
    return "\n".join(
        join_names(variable, f"{variable}_names", f"{alias}.{_ID_COLUMNS[variable]}")
        for variable in ("organization", "project", "task", "job")
    )
