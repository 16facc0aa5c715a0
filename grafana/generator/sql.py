"""SQL building blocks of the dashboards: variable filters, names beside ids, and metric/KPI
expressions compiled from the registry (server/analytics/registry.py, which alone defines what a
number means) by the API's own compiler, server/analytics/metric_sql.py.

Rules every query follows (tests/test_grafana_dashboards.py checks them):
- every read of `events` or a rollup is its own SELECT whose WHERE holds the organization filter
  (ORG_FILTER, the hidden `org_ids` variable that the built-in pages force to the viewer's
  organizations) and the dashboard's variable filters, on bare column names;
- a multi-value variable is only ever written `${var:singlequote}`, inside
  `(-1 IN (${v}) OR col IN (${v}))` for ids (custom all value `-1`) or
  `('__all__' IN (${v}) OR col IN (${v}))` for text (custom all value `'__all__'`): All inserts the
  custom all value verbatim, so an empty option list never produces `IN ()`;
- no database name: tables are resolved in the datasource's default database;
- rollup tables are SummingMergeTree: always sum()/sumIf() ... GROUP BY; object_names is a
  ReplacingMergeTree: always argMax(name, updated_at) ... GROUP BY.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from analytics.metric_sql import job_kpi, kpi, metric, metric_condition, metrics_prefilter, quote

# The registry's metrics and KPIs as SQL come from the API's own compiler (analytics/metric_sql.py).
__all__ = ["job_kpi", "kpi", "metric", "metric_condition", "metrics_prefilter", "quote"]

ID_ALL = "-1"  # custom all value of id variables
TEXT_ALL = "'__all__'"  # custom all value of text variables (the quotes are part of it)
ORG_VARIABLE = "org_ids"


def ref(variable: str) -> str:
    return "${" + variable + ":singlequote}"


def id_filter(variable: str, column: str) -> str:
    """`column` among the selected ids, or everything (NULLs included) when All."""
    v = ref(variable)
    return f"(-1 IN ({v}) OR {column} IN ({v}))"


def text_filter(variable: str, column: str) -> str:
    v = ref(variable)
    return f"('__all__' IN ({v}) OR {column} IN ({v}))"


ORG_FILTER = id_filter(ORG_VARIABLE, "org_id")

# Variable name -> id column, for the id variables every dashboard may use.
ID_VARIABLES = {
    "organization": "org_id",
    "project": "project_id",
    "task": "task_id",
    "job": "job_id",
    "user": "user_id",
}
KIND_OF = {
    "org_id": "organization",
    "project_id": "project",
    "task_id": "task",
    "job_id": "job",
    "user_id": "user",
}


def where(
    time: str | None,
    ids: Iterable[str] = (),
    texts: Mapping[str, str] | None = None,
    extra: Iterable[str] = (),
) -> str:
    """The WHERE clause of one read of a restricted table: time macro, organization filter, the
    id variables `ids` (names from ID_VARIABLES), text variables {variable: column}, extras."""
    parts = [time] if time else []
    parts.append(ORG_FILTER)
    parts += [id_filter(variable, ID_VARIABLES[variable]) for variable in ids]
    parts += [text_filter(variable, column) for variable, column in (texts or {}).items()]
    parts += list(extra)
    return "WHERE " + "\n    AND ".join(parts)


ROLLUP_TIME = "$__timeFilter(bucket)"
EVENTS_TIME = "$__timeFilter_ms(timestamp)"

# Zero where nothing happened: every interval of the range gets a row (per series when the ORDER
# BY starts with the series column: ClickHouse fills each sorting prefix on its own).
ZERO_FILL = (
    "WITH FILL FROM toStartOfInterval($__fromTime, INTERVAL $__interval_s second)"
    " TO $__toTime STEP $__interval_s"
)

# The dashboard's timezone (Grafana's `${__timezone}`: `utc` or an IANA name; the built-in pages
# send the viewer's choice). ClickHouse knows `UTC` but not Grafana's lower-case `utc`.
TIMEZONE = "if(lower(${__timezone:singlequote}) = 'utc', 'UTC', ${__timezone:singlequote})"
# Seconds of the calendar periods a "per day" panel groups by, by its interval ($__interval_s).
WEEK_S = 604_800
MONTH_S = 2_592_000


def calendar_period(column: str = "bucket") -> str:
    """The start of the calendar day, week (Monday) or month, in the dashboard's timezone, that
    holds `column`: a day unless the panel's interval is a week or a month (long ranges). Days
    follow the timezone's midnight, unlike `$__timeInterval`, which cuts UTC days."""
    return (
        f"toDateTime(multiIf($__interval_s >= {MONTH_S}, toStartOfMonth({column}, {TIMEZONE}), "
        f"$__interval_s >= {WEEK_S}, toMonday({column}, {TIMEZONE}), toDate({column}, {TIMEZONE})), "
        f"{TIMEZONE})"
    )


# --- names ---------------------------------------------------------------------------------------


def names(kind: str) -> str:
    """A subquery of the latest name of every object of `kind` (id, name)."""
    return (
        "(SELECT id, argMax(name, updated_at) AS name FROM object_names"
        f" WHERE kind = {quote(kind)} GROUP BY id)"
    )


def join_names(kind: str, alias: str, column: str) -> str:
    return f"LEFT JOIN {names(kind)} AS {alias} ON {alias}.id = {column}"


def label(name_column: str, id_column: str) -> str:
    """`name` when known, else `#id` (a dropdown option or series label)."""
    return f"if({name_column} = '', concat('#', toString({id_column})), {name_column})"
