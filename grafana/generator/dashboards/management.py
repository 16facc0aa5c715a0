"""Management: CVAT's management dashboard (activity per user, job and task)."""

from __future__ import annotations

from typing import Any

from analytics.registry import KPIS
from generator import clickhouse as ch
from generator.dashboards.common import (
    ALL_IDS,
    HOURS,
    ROLLUP,
    events_over_time_sql,
    id_variables,
)
from generator.sql import (
    ROLLUP_TIME,
    ZERO_FILL,
    join_names,
    kpi,
    label,
    metric,
    metrics_prefilter,
    where,
)

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
        FROM {ROLLUP}
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
    FROM {ROLLUP}
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
    FROM {ROLLUP}
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
