"""Annotators: per-annotator KPIs from the registry (working hours, throughput, job outcomes)."""

from __future__ import annotations

from typing import Any

from analytics.registry import JOB_KPIS, KPIS, METRICS
from generator import clickhouse as ch
from generator.dashboards.common import (
    CASCADE,
    HOURS,
    NO_RATIO,
    PERCENT,
    ROLLUP,
    id_variables,
)
from generator.sql import (
    ROLLUP_TIME,
    calendar_period,
    job_kpi,
    join_names,
    kpi,
    label,
    metric,
    metrics_prefilter,
    where,
)

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
    FROM {ROLLUP}
    {where(ROLLUP_TIME, ids, extra=["user_id != 0", metrics_prefilter(["working_time_ms"])])}
    GROUP BY user_id
    HAVING {metric("working_time_ms")} > 0
)"""


def _user_jobs(ids: tuple[str, ...], with_user: bool = True) -> str:
    """The jobs the selected annotators had events on in the range (each job once per user)."""
    columns = "user_id, job_id" if with_user else "job_id"
    return f"""user_jobs AS (
    SELECT DISTINCT {columns}
    FROM {ROLLUP}
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
    FROM {ROLLUP}
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
    FROM {ROLLUP}
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
    FROM {ROLLUP}
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
    cascade = {**CASCADE, "user": ("organization", "project", "task")}
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
FROM {ROLLUP}
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
FROM {ROLLUP}
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
    FROM {ROLLUP}
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
    FROM {ROLLUP}
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
