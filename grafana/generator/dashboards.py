"""The four dashboards: All Events, Management and Monitoring (every panel CVAT's have, fixed) and
Annotators (per-annotator KPIs from the registry). docs/dashboards.md describes every panel.

Aggregates read `rollup_5m` (5-minute buckets: a time range is honoured to the bucket); the raw
tables (the events list, exceptions) and the numbers a rollup cannot hold (the browser and OS of
`load:cvat` payloads, min/max durations) read `events`.
"""

from __future__ import annotations

from typing import Any

from analytics.registry import JOB_KPIS, KPIS, METRICS
from generator import clickhouse as ch
from generator import pipeline
from generator.sql import (
    EVENTS_TIME,
    ROLLUP_TIME,
    ZERO_FILL,
    calendar_period,
    job_kpi,
    join_names,
    kpi,
    label,
    metric,
    metrics_prefilter,
    where,
)

ALL_IDS = ("organization", "project", "task", "job", "user")
# A stat's text when its ratio KPI is NULL (nothing to divide by): not a made-up 0.
NO_RATIO = "\N{EN DASH}"
# Grafana (unit, decimals) of table columns, as field overrides.
HOURS = ("h", 2)
PERCENT = ("percent", 1)

# --- variables -----------------------------------------------------------------------------------

# Each id variable lists the ids present in the rollup over the time range (limited to the
# organizations visible, and to the selections of the variables before it), with their names.
_CASCADE = {
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
    FROM rollup_5m
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
    cascade = cascade or _CASCADE
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
FROM rollup_5m
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
FROM rollup_5m
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
FROM rollup_5m
{where(ROLLUP_TIME, ids, texts, [metrics_prefilter(["events"])])}
GROUP BY time
ORDER BY time {ZERO_FILL}
"""


def _names_columns(alias: str) -> list[str]:
    """`Name`, `ID` column pairs for the org/project/task/job ids of rows aliased `alias`."""
    columns = []
    for variable in ("organization", "project", "task", "job"):
        column = _ID_COLUMNS[variable]
        title = _ID_LABELS[variable]
        columns.append(f'{variable}_names.name AS "{title}"')
        columns.append(f'{alias}.{column} AS "{title} ID"')
    return columns


def _names_joins(alias: str) -> str:
    return "\n".join(
        join_names(variable, f"{variable}_names", f"{alias}.{_ID_COLUMNS[variable]}")
        for variable in ("organization", "project", "task", "job")
    )


# --- All Events ----------------------------------------------------------------------------------


def all_events() -> Any:
    ids = ALL_IDS
    texts = {"scope": "scope", "source": "source"}
    rollup_texts = {"scope": "metric_key", "source": "source"}
    board = ch.new_dashboard(
        "all-events",
        "All Events",
        "Every event: how many over time, the latest ones with names beside ids, and the "
        "browsers and operating systems of the annotation UI.",
        ["events"],
    )
    board.with_variable(ch.org_ids_variable())
    for variable in id_variables(ids):
        board.with_variable(variable)
    board.with_variable(scope_variable(ids)).with_variable(source_variable(ids))

    board.with_panel(
        ch.timeseries_panel(
            1,
            "Events over time",
            "Number of events (every scope and source) per time interval. CVAT calls this "
            "'Overall Activity'. From rollup_5m.",
            events_over_time_sql(ids, rollup_texts),
            ch.grid(0, 0, 24, 8),
        )
    )
    columns = [
        'e.timestamp AS "Time"',
        'e.scope AS "Scope"',
        'e.source AS "Source"',
        'e.user_name AS "User"',
        'e.user_id AS "User ID"',
        *_names_columns("e"),
        'e.obj_name AS "Object"',
        'e.obj_id AS "Object ID"',
        'e.obj_val AS "Value"',
        'e.count AS "Count"',
        'e.duration AS "Duration (ms)"',
        'e.payload AS "Payload"',
        'e.event_id AS "Event ID"',
    ]
    column_list = ",\n    ".join(columns)
    board.with_panel(
        ch.table_panel(
            2,
            "Latest events",
            "The 1000 most recent events matching the filters, newest first, with the names of "
            "their organization, project, task and job beside the ids. From events.",
            f"""
SELECT
    {column_list}
FROM (
    SELECT *
    FROM events
    {where(EVENTS_TIME, ids, texts)}
    ORDER BY timestamp DESC
    LIMIT 1000
) AS e
{_names_joins("e")}
ORDER BY e.timestamp DESC
""",
            ch.grid(0, 8, 24, 14),
        )
    )
    for panel_id, title, expression, x in (
        (
            3,
            "Browsers",
            "trim(concat(JSONExtractString(ifNull(payload, ''), 'platform', 'name'), ' ', "
            "JSONExtractString(ifNull(payload, ''), 'platform', 'version')))",
            0,
        ),
        (4, "Operating systems", "JSONExtractString(ifNull(payload, ''), 'platform', 'os')", 12),
    ):
        what = "Browser" if panel_id == 3 else "Operating system"
        board.with_panel(
            ch.barchart_panel(
                panel_id,
                title,
                f"Number of distinct users per {what.lower()}, from the `payload.platform` of the "
                "annotation UI's `load:cvat` events (the scope and source filters do not apply). "
                "From events.",
                f"""
SELECT platform AS "{what}", count() AS "Users"
FROM (
    SELECT DISTINCT user_id, {expression} AS platform
    FROM events
    {where(EVENTS_TIME, ids, extra=["scope = 'load:cvat'"])}
)
WHERE platform != ''
GROUP BY platform
ORDER BY "Users" DESC, platform
LIMIT 20
""",
                ch.grid(x, 22, 12, 8),
                x_field=what,
            )
        )
    return board


# --- Management ----------------------------------------------------------------------------------


def management() -> Any:
    ids = ALL_IDS
    board = ch.new_dashboard(
        "management",
        "Management",
        "Who worked, when and on what: events per user, working time per user, project, task "
        "and job (computed by the server from client events, see docs/working-time.md).",
        ["management"],
    )
    board.with_variable(ch.org_ids_variable())
    for variable in id_variables(ids):
        board.with_variable(variable)

    board.with_panel(
        ch.timeseries_panel(
            1,
            "Events per user",
            "Number of events each user caused, per time interval (CVAT's 'User Activity'). From rollup_5m.",
            f"""
SELECT time, "User", "Events"
FROM (
    SELECT r.time AS time, {label("u.name", "r.user_id")} AS "User", r.events AS "Events"
    FROM (
        SELECT $__timeInterval(bucket) AS time, user_id, {metric("events")} AS events
        FROM rollup_5m
        {where(ROLLUP_TIME, ids, extra=["user_id != 0", metrics_prefilter(["events"])])}
        GROUP BY time, user_id
    ) AS r
    {join_names("user", "u", "r.user_id")}
    ORDER BY "User", time {ZERO_FILL}
)
ORDER BY time, "User"
""",
            ch.grid(0, 0, 24, 9),
        )
    )
    board.with_panel(
        ch.timeseries_panel(
            2,
            "Events over time",
            "Number of events of every user per time interval (CVAT's 'Overall Activity'). From rollup_5m.",
            events_over_time_sql(ids, {}),
            ch.grid(0, 9, 24, 7),
        )
    )
    hours = KPIS["working_hours"]
    board.with_panel(
        ch.table_panel(
            3,
            "Working time",
            f"{hours.display_name} per user, project, task and job: {hours.description} "
            "Rows with no job (working time outside a job) are kept. 'Objects drawn' and "
            "'Events' count the same user's events on the same job. From rollup_5m.",
            f"""
SELECT
    {label("u.name", "r.user_id")} AS "User",
    r.user_id AS "User ID",
    p.name AS "Project",
    nullIf(r.project_id, 0) AS "Project ID",
    t.name AS "Task",
    nullIf(r.task_id, 0) AS "Task ID",
    j.name AS "Job",
    nullIf(r.job_id, 0) AS "Job ID",
    r.working_hours AS "Working time (h)",
    r.objects_drawn AS "Objects drawn",
    r.events AS "Events"
FROM (
    SELECT
        user_id, project_id, task_id, job_id,
        {kpi("working_hours")} AS working_hours,
        {metric("objects_drawn")} AS objects_drawn,
        {metric("events")} AS events
    FROM rollup_5m
    {where(ROLLUP_TIME, ids, extra=["user_id != 0"])}
    GROUP BY user_id, project_id, task_id, job_id
    HAVING working_hours > 0
) AS r
{join_names("user", "u", "r.user_id")}
{join_names("project", "p", "r.project_id")}
{join_names("task", "t", "r.task_id")}
{join_names("job", "j", "r.job_id")}
ORDER BY "Working time (h)" DESC, "User ID", "Project ID", "Task ID", "Job ID"
""",
            ch.grid(0, 16, 24, 12),
            units={"Working time (h)": HOURS},
        )
    )
    board.with_panel(
        ch.barchart_panel(
            4,
            "Working hours per user",
            f"{hours.display_name} of each user over the time range (the top 30). From rollup_5m.",
            f"""
SELECT {label("u.name", "r.user_id")} AS "User", r.working_hours AS "Working hours"
FROM (
    SELECT user_id, {kpi("working_hours")} AS working_hours
    FROM rollup_5m
    {where(ROLLUP_TIME, ids, extra=["user_id != 0", metrics_prefilter(hours.metrics)])}
    GROUP BY user_id
    HAVING working_hours > 0
) AS r
{join_names("user", "u", "r.user_id")}
ORDER BY "Working hours" DESC, r.user_id
LIMIT 30
""",
            ch.grid(0, 28, 24, 9),
            x_field="User",
            unit="h",
        )
    )
    return board


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
FROM rollup_5m
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
FROM rollup_5m
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
FROM rollup_5m
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
FROM rollup_5m
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
FROM rollup_5m
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
    {", ".join(_names_columns("e"))},
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
{_names_joins("e")}
ORDER BY e.timestamp DESC
""",
            ch.grid(0, 24, 24, 14),
        )
    )
    board.with_panel(pipeline.shipping_panel(8, ch.grid(0, 38, 24, 8)))
    return board


# --- Annotators ----------------------------------------------------------------------------------

# Activity numbers count the events an annotator caused (user_id on the event). Job outcomes
# (completed, rejected) are about the jobs the annotator had events on in the range, whoever
# changed their state: a reviewer rejects an annotator's job. Same rule as the per-user summary
# (server/analytics/user_summary.py).
ACTIVITY = ("working_time_ms", "objects_drawn", "jobs_worked")
OUTCOMES = ("jobs_completed", "jobs_rejected")
_NO_USER = ("organization", "project", "task", "job")


# "Per day" panels: at least one calendar day per bar, and few enough bars to read. Grafana's
# interval for a range is range / max data points, rounded; below a week per point it is a day,
# so up to 63 days are shown per day and longer ranges per week (per month past ~8 months).
PER_DAY_MIN_INTERVAL = "1d"
PER_DAY_MAX_POINTS = 9


def _workers(ids: tuple[str, ...]) -> str:
    """The annotators every Annotators panel lists: users with working time in the range."""
    return f"""workers AS (
    SELECT user_id
    FROM rollup_5m
    {where(ROLLUP_TIME, ids, extra=["user_id != 0", metrics_prefilter(["working_time_ms"])])}
    GROUP BY user_id
    HAVING {metric("working_time_ms")} > 0
)"""


def _user_jobs(ids: tuple[str, ...], with_user: bool = True) -> str:
    """The jobs the selected annotators had events on in the range (each job once per user)."""
    columns = "user_id, job_id" if with_user else "job_id"
    return f"""user_jobs AS (
    SELECT DISTINCT {columns}
    FROM rollup_5m
    {where(ROLLUP_TIME, ids, extra=["user_id != 0", "job_id != 0", "position(metric_key, '=') = 0"])}
)"""


def _job_outcomes(ids: tuple[str, ...], period: str | None = None) -> str:
    """Completions and rejections per job (and per period when `period` is given), whoever made
    them: the organization/project/task filters apply, the annotator filter does not."""
    outcomes = ",\n        ".join(f"{metric(name)} AS {name}" for name in OUTCOMES)
    scoped = tuple(v for v in _NO_USER if v in ids)
    keys = f"{period} AS period, job_id" if period else "job_id"
    group = "period, job_id" if period else "job_id"
    return f"""SELECT
        {keys},
        {outcomes}
    FROM rollup_5m
    {where(ROLLUP_TIME, scoped, extra=["job_id != 0", metrics_prefilter(OUTCOMES)])}
    GROUP BY {group}"""


def _annotator_ctes(ids: tuple[str, ...]) -> str:
    activity = ",\n        ".join(f"{metric(name)} AS {name}" for name in ACTIVITY)
    first_pass = job_kpi("first_pass_acceptance", {name: f"o.{name}" for name in OUTCOMES}, "o.job_id")
    return f"""
WITH
activity AS (
    SELECT
        user_id,
        {activity}
    FROM rollup_5m
    {where(ROLLUP_TIME, ids, extra=["user_id != 0"])}
    GROUP BY user_id
),
{_user_jobs(ids)},
job_outcomes AS (
    {_job_outcomes(ids)}
),
outcomes AS (
    SELECT
        uj.user_id AS user_id,
        sum(o.jobs_completed) AS jobs_completed,
        sum(o.jobs_rejected) AS jobs_rejected,
        {first_pass} AS first_pass
    FROM user_jobs AS uj
    INNER JOIN job_outcomes AS o ON o.job_id = uj.job_id
    GROUP BY uj.user_id
)"""


def _job_outcome_totals(ids: tuple[str, ...]) -> str:
    """Outcomes of the jobs the selected annotators worked on, each job once."""
    return f"""
WITH
{_user_jobs(ids, with_user=False)},
job_outcomes AS (
    {_job_outcomes(ids)}
)"""


def _per_period_sql(ids: tuple[str, ...]) -> str:
    """One row per calendar period (the chart's) and annotator: the Annotators table's columns.
    Each period's numbers add up to the Annotators table's, because both read the same rows
    (activity by the annotator's own events, outcomes of the jobs they worked on in the range)."""
    period = calendar_period()
    hours, speed = KPIS["working_hours"], KPIS["objects_per_working_hour"]
    completed, rejection = KPIS["jobs_completed"], KPIS["job_rejection_rate"]
    first_pass = JOB_KPIS["first_pass_acceptance"]
    activity = ",\n        ".join(
        f"{metric(name)} AS {name}" for name in ("working_time_ms", "objects_drawn")
    )
    # A job counts as first-pass in the period it was completed, if it had no rejection anywhere
    # in the range (a rejection the next day undoes it).
    period_first_pass = job_kpi(
        first_pass.key,
        {"jobs_completed": "jp.jobs_completed", "jobs_rejected": "jt.jobs_rejected"},
        "jp.job_id",
    )
    per_row = {"working_time_ms": "working_time_ms", "objects_drawn": "objects_drawn"} | {
        name: name for name in OUTCOMES
    }
    return f"""
WITH
{_workers(ids)},
activity AS (
    SELECT
        {period} AS period,
        user_id,
        {activity}
    FROM rollup_5m
    {where(ROLLUP_TIME, ids, extra=["user_id != 0", metrics_prefilter(("working_time_ms", "objects_drawn"))])}
    GROUP BY period, user_id
),
{_user_jobs(ids)},
job_periods AS (
    {_job_outcomes(ids, period)}
),
job_totals AS (
    SELECT job_id, sum(jobs_rejected) AS jobs_rejected
    FROM job_periods
    GROUP BY job_id
),
outcomes AS (
    SELECT
        jp.period AS period,
        uj.user_id AS user_id,
        sum(jp.jobs_completed) AS jobs_completed,
        sum(jp.jobs_rejected) AS jobs_rejected,
        {period_first_pass} AS first_pass
    FROM user_jobs AS uj
    INNER JOIN job_periods AS jp ON jp.job_id = uj.job_id
    INNER JOIN job_totals AS jt ON jt.job_id = uj.job_id
    GROUP BY jp.period, uj.user_id
),
rows AS (
    SELECT
        period,
        user_id,
        ifNull(a.working_time_ms, 0) AS working_time_ms,
        ifNull(a.objects_drawn, 0) AS objects_drawn,
        ifNull(o.jobs_completed, 0) AS jobs_completed,
        ifNull(o.jobs_rejected, 0) AS jobs_rejected,
        o.first_pass AS first_pass
    FROM activity AS a
    FULL OUTER JOIN outcomes AS o USING (period, user_id)
    WHERE user_id IN (SELECT user_id FROM workers)
)
SELECT
    r.period AS "Period",
    {label("u.name", "r.user_id")} AS "Annotator",
    r.user_id AS "User ID",
    {kpi(hours.key, per_row)} AS "{hours.display_name}",
    r.objects_drawn AS "{METRICS["objects_drawn"].display_name}",
    {kpi(speed.key, per_row)} AS "{speed.display_name}",
    r.jobs_completed AS "{completed.display_name}",
    r.first_pass AS "{first_pass.display_name} (%)",
    r.jobs_rejected AS "{METRICS["jobs_rejected"].display_name}",
    {kpi(rejection.key, per_row)} AS "{rejection.display_name} (%)"
FROM rows AS r
{join_names("user", "u", "r.user_id")}
WHERE r.working_time_ms > 0 OR r.jobs_completed > 0 OR r.jobs_rejected > 0
ORDER BY "Period", "Annotator", "User ID"
"""


def annotators() -> Any:
    ids = ("organization", "project", "task", "user")
    cascade = {**_CASCADE, "user": ("organization", "project", "task")}
    board = ch.new_dashboard(
        "annotators",
        "Annotators",
        "Per-annotator KPIs from the KPI registry: working hours per day, objects per working "
        "hour, jobs completed, first-pass acceptance and the rejection rate of the jobs each "
        "annotator worked on, per annotator and per day.",
        ["annotators", "kpi"],
    )
    board.with_variable(ch.org_ids_variable())
    for variable in id_variables(ids, cascade, {"user": "Annotator"}):
        board.with_variable(variable)

    hours, speed = KPIS["working_hours"], KPIS["objects_per_working_hour"]
    completed, rejection = KPIS["jobs_completed"], KPIS["job_rejection_rate"]
    first_pass = JOB_KPIS["first_pass_acceptance"]
    board.with_panel(
        ch.stat_panel(
            1,
            hours.display_name,
            f"{hours.description} Of the selected annotators, over the time range.",
            f"""
SELECT {kpi(hours.key)} AS "{hours.display_name}"
FROM rollup_5m
{where(ROLLUP_TIME, ids, extra=["user_id != 0", metrics_prefilter(hours.metrics)])}
""",
            ch.grid(0, 0, 6, 5),
            unit="h",
            decimals=2,
        )
    )
    board.with_panel(
        ch.stat_panel(
            2,
            speed.display_name,
            f"{speed.description} Of the selected annotators, over the time range.",
            f"""
SELECT {kpi(speed.key)} AS "{speed.display_name}"
FROM rollup_5m
{where(ROLLUP_TIME, ids, extra=["user_id != 0", metrics_prefilter(speed.metrics)])}
""",
            ch.grid(6, 0, 6, 5),
            decimals=1,
            no_value=NO_RATIO,
        )
    )
    totals = {name: f"sum({name})" for name in OUTCOMES}
    board.with_panel(
        ch.stat_panel(
            3,
            completed.display_name,
            f"{completed.description} Jobs the selected annotators worked on in the time range, "
            "whoever completed them.",
            f"""{_job_outcome_totals(ids)}
SELECT {kpi(completed.key, totals)} AS "{completed.display_name}"
FROM job_outcomes
WHERE job_id IN (SELECT job_id FROM user_jobs)
""",
            ch.grid(12, 0, 6, 5),
        )
    )
    board.with_panel(
        ch.stat_panel(
            4,
            rejection.display_name,
            f"{rejection.description} Of the jobs the selected annotators worked on in the time range.",
            f"""{_job_outcome_totals(ids)}
SELECT {kpi(rejection.key, totals)} AS "{rejection.display_name} (%)"
FROM job_outcomes
WHERE job_id IN (SELECT job_id FROM user_jobs)
""",
            ch.grid(18, 0, 6, 5),
            unit="percent",
            decimals=1,
            no_value=NO_RATIO,
        )
    )
    board.with_panel(
        ch.timeseries_panel(
            6,
            "Working hours per annotator per day",
            f"{hours.display_name} of each annotator per calendar day in the dashboard's "
            "timezone (per week, Monday first, over about two months; per month over about eight), "
            "as stacked bars. Each annotator's bars add up to the Annotators table.",
            f"""
SELECT
    r.time AS time,
    {label("u.name", "r.user_id")} AS "Annotator",
    r.working_hours AS "{hours.display_name}"
FROM (
    SELECT {calendar_period()} AS time, user_id, {kpi(hours.key)} AS working_hours
    FROM rollup_5m
    {where(ROLLUP_TIME, ids, extra=["user_id != 0", metrics_prefilter(hours.metrics)])}
    GROUP BY time, user_id
    HAVING working_hours > 0
) AS r
{join_names("user", "u", "r.user_id")}
ORDER BY time, "Annotator"
""",
            ch.grid(0, 5, 24, 10),
            unit="h",
            decimals=2,
            min_interval=PER_DAY_MIN_INTERVAL,
            max_data_points=PER_DAY_MAX_POINTS,
            bars=True,
        )
    )
    per_user = {name: f"a.{name}" for name in ACTIVITY} | {name: f"ifNull(o.{name}, 0)" for name in OUTCOMES}
    board.with_panel(
        ch.table_panel(
            5,
            "Annotators",
            "One row per user with working time in the range. Working hours, objects drawn, "
            "objects per working hour and jobs worked on count the annotator's own events; jobs "
            "completed and rejected, first-pass acceptance and the rejection rate are those of "
            "the jobs the annotator had events on, whoever changed their state (a reviewer "
            f"rejects an annotator's job). {first_pass.display_name}: {first_pass.description}",
            f"""{_annotator_ctes(ids)}
SELECT
    {label("u.name", "a.user_id")} AS "Annotator",
    a.user_id AS "User ID",
    {kpi(hours.key, per_user)} AS "{hours.display_name}",
    a.objects_drawn AS "{METRICS["objects_drawn"].display_name}",
    {kpi(speed.key, per_user)} AS "{speed.display_name}",
    a.jobs_worked AS "Jobs worked on",
    ifNull(o.jobs_completed, 0) AS "{completed.display_name}",
    o.first_pass AS "{first_pass.display_name} (%)",
    ifNull(o.jobs_rejected, 0) AS "{METRICS["jobs_rejected"].display_name}",
    {kpi(rejection.key, per_user)} AS "{rejection.display_name} (%)"
FROM activity AS a
LEFT JOIN outcomes AS o ON o.user_id = a.user_id
{join_names("user", "u", "a.user_id")}
WHERE a.working_time_ms > 0
ORDER BY "{hours.display_name}" DESC, a.user_id
""",
            ch.grid(0, 15, 24, 10),
            units=_kpi_units(),
        )
    )
    board.with_panel(
        ch.table_panel(
            8,
            "Annotators per day",
            "The Annotators table per calendar day (the chart's periods: days, or weeks and months "
            "over long ranges) in the dashboard's timezone. A day's jobs completed and rejected "
            "are the state changes made that day; a job counts as first-pass on the day it was "
            "completed if it had no rejection anywhere in the range.",
            _per_period_sql(ids),
            ch.grid(0, 25, 24, 12),
            units=_kpi_units(),
            min_interval=PER_DAY_MIN_INTERVAL,
            max_data_points=PER_DAY_MAX_POINTS,
        )
    )
    board.with_panel(
        ch.barchart_panel(
            7,
            f"{speed.display_name} by annotator",
            f"{speed.description} Annotators with working time in the range (the top 30).",
            f"""
SELECT {label("u.name", "r.user_id")} AS "Annotator", r.speed AS "{speed.display_name}"
FROM (
    SELECT user_id, {kpi(speed.key)} AS speed
    FROM rollup_5m
    {where(ROLLUP_TIME, ids, extra=["user_id != 0", metrics_prefilter(speed.metrics)])}
    GROUP BY user_id
    HAVING speed IS NOT NULL
) AS r
{join_names("user", "u", "r.user_id")}
ORDER BY "{speed.display_name}" DESC, r.user_id
LIMIT 30
""",
            ch.grid(0, 37, 24, 9),
            x_field="Annotator",
        )
    )
    return board


def _kpi_units() -> dict[str, tuple[str, int | None]]:
    return {
        KPIS["working_hours"].display_name: HOURS,
        KPIS["objects_per_working_hour"].display_name: ("short", 1),
        f"{JOB_KPIS['first_pass_acceptance'].display_name} (%)": PERCENT,
        f"{KPIS['job_rejection_rate'].display_name} (%)": PERCENT,
    }


BUILDERS = {
    "all_events.json": all_events,
    "management.json": management,
    "monitoring.json": monitoring,
    "annotators.json": annotators,
}
