"""The registry's vocabulary: units, rollup columns and status keys, and the two kinds of metric
(additive `Metric`, `DistinctMetric`). The definitions themselves live in `analytics.registry`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# --- units ---------------------------------------------------------------------------------------

Unit = Literal["count", "ms", "hours", "per_hour", "percentage", "per_1k_events"]

UNITS: dict[str, str] = {
    "count": "A number of things (events, objects, jobs, users).",
    "ms": "Milliseconds.",
    "hours": "Hours (3 600 000 ms).",
    "per_hour": "Things per working hour.",
    "percentage": "A percentage: a value of 1 means 1% (not 100%).",
    "per_1k_events": "Occurrences per 1 000 events.",
}

# --- rollup vocabulary ---------------------------------------------------------------------------

Column = Literal["events", "units", "duration_ms", "working_time_ms"]

COLUMNS: dict[str, str] = {
    "events": "number",
    "units": "sum of `count` (1 when `count` is null)",
    "duration_ms": "sum of `duration`",
    "working_time_ms": "sum of `duration`",
}

# The fields whose update events also get a `scope:field=value` rollup key. Must match the WHERE
# of rollup_5m_status_mv in server/store/schema.py (a test checks it).
STATUS_FIELDS: tuple[str, ...] = ("state", "stage", "status", "resolved")

# `metric_keys` value meaning "every scope" (every rollup row that is not a status key).
ALL_SCOPES = "*"


def status_key(scope: str, field_name: str, value: str) -> str:
    """The rollup metric_key of a status change: `update:job` + state + completed ->
    `update:job:state=completed`."""
    if field_name not in STATUS_FIELDS:
        raise ValueError(f"{field_name!r} is not a status field; status fields are {STATUS_FIELDS}")
    return f"{scope}:{field_name}={value}"


def is_status_key(metric_key: str) -> bool:
    return "=" in metric_key


JOB_STATES: tuple[str, ...] = ("new", "in progress", "rejected", "completed")
JOB_STATE_KEYS: dict[str, str] = {state: status_key("update:job", "state", state) for state in JOB_STATES}


@dataclass(frozen=True)
class Metric:
    """Additive: sum of `column` over rollup rows whose metric_key is in `metric_keys` (and whose
    source is in `sources`, when given)."""

    key: str
    display_name: str
    unit: Unit
    description: str
    metric_keys: tuple[str, ...]
    column: Column
    sources: tuple[str, ...] = ()
    additive: bool = field(default=True, init=False)

    def matches(self, metric_key: str, source: str) -> bool:
        if self.sources and source not in self.sources:
            return False
        if self.metric_keys == (ALL_SCOPES,):
            return not is_status_key(metric_key)
        return metric_key in self.metric_keys

    @property
    def definition(self) -> str:
        """In terms of events, for docs and configs."""
        if self.metric_keys == (ALL_SCOPES,):
            what = "all events"
        else:
            what = ", ".join(f"`{key}`" for key in self.metric_keys) + " events"
        if self.sources:
            what += " with source " + " or ".join(f"`{s}`" for s in self.sources)
        return f"{COLUMNS[self.column]} of {what}"


Dimension = Literal["user_id", "job_id", "task_id", "project_id"]


@dataclass(frozen=True)
class DistinctMetric:
    """Not additive: number of distinct non-zero `dimension` values among the rollup rows of a
    period whose metric_key is in `metric_keys` (every scope when `(ALL_SCOPES,)`)."""

    key: str
    display_name: str
    description: str
    dimension: Dimension
    metric_keys: tuple[str, ...] = (ALL_SCOPES,)
    unit: Unit = "count"
    additive: bool = field(default=False, init=False)

    def matches(self, metric_key: str) -> bool:
        if self.metric_keys == (ALL_SCOPES,):
            return not is_status_key(metric_key)
        return metric_key in self.metric_keys

    @property
    def definition(self) -> str:
        if self.metric_keys == (ALL_SCOPES,):
            what = "all events"
        else:
            what = ", ".join(f"`{key}`" for key in self.metric_keys) + " events"
        return f"number of distinct non-null `{self.dimension}` among {what}"
