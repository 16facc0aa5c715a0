"""All Events: every event over time and in a table, CVAT's dashboard of that name."""

from __future__ import annotations

from typing import Any

from generator import clickhouse as ch
from generator.dashboards.common import (
    ALL_IDS,
    events_over_time_sql,
    id_variables,
    names_columns,
    names_joins,
    scope_variable,
    source_variable,
)
from generator.sql import (
    EVENTS_TIME,
    where,
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
        *names_columns("e"),
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
{names_joins("e")}
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
