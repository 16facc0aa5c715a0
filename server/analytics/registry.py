"""Every metric and every KPI of the analytics API, in one place.

Vocabulary (after Crossing Minds' analytics design, see docs/metrics.md):

- A **metric** is a strictly additive number stored per 5-minute bucket in `rollup_5m`: for any
  t1 < t2 < t3, M[t1, t3) = M[t1, t2) + M[t2, t3). Each one sums exactly one rollup column over a
  fixed set of `metric_key`s (optionally of one `source`), so no event is ever counted by two
  different definitions of the same number.
- A **distinct metric** counts distinct ids (users, jobs) among the rollup rows of a period. It is
  exact (the ids are rollup key columns, no sketches) but NOT additive: the users active in a week
  are not the sum of the users active each day. Kept apart from `METRICS` for that reason.
- A **KPI** is what people read: a small formula over the totals of a few metrics for one period.
  A KPI of a long period is the formula applied to the metric totals of that period, never a mean
  of the KPI of its sub-periods (AOV(January) != mean of AOV(each day)).

The API (configs, values), the per-user summary, the query API and the dashboards all read this
module; nothing else defines what a number means. Keep it declarative.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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

# --- metrics -------------------------------------------------------------------------------------


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


def _m(key, display_name, unit, description, metric_keys, column, sources=()) -> Metric:
    return Metric(key, display_name, unit, description, tuple(metric_keys), column, tuple(sources))


_METRICS: list[Metric] = [
    _m("events", "Events", "count", "Every event, of every scope and source.", [ALL_SCOPES], "events"),
    _m(
        "working_time_ms",
        "Working time",
        "ms",
        "Active annotation time, as computed by the server from client events (CVAT's algorithm, "
        "see docs/working-time.md).",
        ["send:working_time"],
        "working_time_ms",
    ),
    _m(
        "objects_drawn",
        "Objects drawn",
        "count",
        "Objects drawn in the annotation UI (`count` of each draw event).",
        ["draw:object"],
        "units",
    ),
    _m(
        "draw_duration_ms",
        "Drawing time",
        "ms",
        "Time spent drawing objects, as measured by the client.",
        ["draw:object"],
        "duration_ms",
    ),
    _m(
        "objects_pasted",
        "Objects pasted",
        "count",
        "Objects pasted in the annotation UI.",
        ["paste:object"],
        "units",
    ),
    _m(
        "objects_deleted",
        "Objects deleted",
        "count",
        "Objects deleted in the annotation UI.",
        ["delete:object"],
        "units",
    ),
    _m(
        "object_edits",
        "Object edits",
        "count",
        "Edits of existing objects: moves, resizes, attribute and label changes.",
        ["drag:object", "resize:object", "change:attribute", "change:label"],
        "units",
    ),
    _m(
        "annotations_saved_server",
        "Annotations created (server)",
        "count",
        "Tags, shapes and tracks created through the server (annotation saves), as counted by the server.",
        ["create:tags", "create:shapes", "create:tracks"],
        "units",
    ),
    _m(
        "frames_changed",
        "Frame changes",
        "count",
        "Frame navigations in the annotation UI.",
        ["change:frame"],
        "units",
    ),
    _m("jobs_opened", "Jobs opened", "count", "Jobs opened in the annotation UI.", ["load:job"], "events"),
    _m("jobs_saved", "Job saves", "count", "Saves of a job from the annotation UI.", ["save:job"], "events"),
    _m(
        "jobs_completed",
        "Jobs completed",
        "count",
        "Jobs moved to the `completed` state (a job completed twice counts twice).",
        [JOB_STATE_KEYS["completed"]],
        "events",
    ),
    _m(
        "jobs_rejected",
        "Jobs rejected",
        "count",
        "Jobs moved to the `rejected` state.",
        [JOB_STATE_KEYS["rejected"]],
        "events",
    ),
    _m("tasks_created", "Tasks created", "count", "Tasks created.", ["create:task"], "events"),
    _m("issues_created", "Issues created", "count", "Review issues opened.", ["create:issue"], "events"),
    _m(
        "issues_resolved",
        "Issues resolved",
        "count",
        "Review issues marked resolved.",
        [status_key("update:issue", "resolved", "true")],
        "events",
    ),
    _m(
        "exceptions_client",
        "Client exceptions",
        "count",
        "Errors reported by the annotation UI.",
        ["send:exception"],
        "events",
        ["client"],
    ),
    _m(
        "exceptions_server",
        "Server exceptions",
        "count",
        "API errors recorded by the server.",
        ["send:exception"],
        "events",
        ["server"],
    ),
    _m(
        "function_calls",
        "Function calls",
        "count",
        "Serverless / auto-annotation function calls.",
        ["call:function"],
        "events",
    ),
]

METRICS: dict[str, Metric] = {metric.key: metric for metric in _METRICS}

_DISTINCT: list[DistinctMetric] = [
    DistinctMetric("active_users", "Active users", "Users with at least one event in the period.", "user_id"),
    DistinctMetric("jobs_touched", "Jobs touched", "Jobs with at least one event in the period.", "job_id"),
    DistinctMetric(
        "jobs_worked",
        "Jobs worked on",
        "Jobs with working time in the period.",
        "job_id",
        ("send:working_time",),
    ),
]

DISTINCT_METRICS: dict[str, DistinctMetric] = {metric.key: metric for metric in _DISTINCT}

AnyMetric = Metric | DistinctMetric
ALL_METRICS: dict[str, AnyMetric] = {**METRICS, **DISTINCT_METRICS}

# --- KPIs ----------------------------------------------------------------------------------------

Totals = Mapping[str, float]

MS_PER_HOUR = 3_600_000


def ratio(numerator: float, denominator: float, scale: float = 1.0) -> float | None:
    """scale * numerator / denominator, or None when the denominator is 0 (the API shows null and
    a warning; never a made-up 0)."""
    if not denominator:
        return None
    return scale * numerator / denominator


@dataclass(frozen=True)
class KPI:
    key: str
    display_name: str
    unit: Unit
    description: str
    metrics: tuple[str, ...]
    formula: Callable[[Totals], float | None]
    formula_text: str

    @property
    def additive(self) -> bool:
        """True when the KPI is one additive metric as-is (its aggregate is the sum of its values)."""
        return len(self.metrics) == 1 and self.metrics[0] in METRICS and self.formula_text == self.metrics[0]

    def compute(self, totals: Totals) -> float | None:
        return self.formula(totals)


def _identity(metric: str) -> Callable[[Totals], float | None]:
    return lambda m: m[metric]


def _kpi(key, display_name, unit, description, metrics, formula, formula_text) -> KPI:
    return KPI(key, display_name, unit, description, tuple(metrics), formula, formula_text)


_KPIS: list[KPI] = [
    _kpi(
        "working_hours",
        "Working hours",
        "hours",
        "Active annotation time, in hours.",
        ["working_time_ms"],
        lambda m: m["working_time_ms"] / MS_PER_HOUR,
        "working_time_ms / 3600000",
    ),
    _kpi(
        "objects_per_working_hour",
        "Objects per working hour",
        "per_hour",
        "Objects drawn per hour of working time.",
        ["objects_drawn", "working_time_ms"],
        lambda m: ratio(m["objects_drawn"], m["working_time_ms"], MS_PER_HOUR),
        "objects_drawn / (working_time_ms / 3600000)",
    ),
    _kpi(
        "avg_draw_time_ms",
        "Average draw time",
        "ms",
        "Average time to draw one object.",
        ["draw_duration_ms", "objects_drawn"],
        lambda m: ratio(m["draw_duration_ms"], m["objects_drawn"]),
        "draw_duration_ms / objects_drawn",
    ),
    _kpi(
        "job_rejection_rate",
        "Job rejection rate",
        "percentage",
        "Share of job reviews that rejected the job: rejections among completions and rejections.",
        ["jobs_rejected", "jobs_completed"],
        lambda m: ratio(m["jobs_rejected"], m["jobs_completed"] + m["jobs_rejected"], 100),
        "100 * jobs_rejected / (jobs_completed + jobs_rejected)",
    ),
    _kpi(
        "issue_resolution_rate",
        "Issue resolution rate",
        "percentage",
        "Issues resolved per issue opened in the same period "
        "(can exceed 100 when older issues are resolved).",
        ["issues_resolved", "issues_created"],
        lambda m: ratio(m["issues_resolved"], m["issues_created"], 100),
        "100 * issues_resolved / issues_created",
    ),
    _kpi(
        "exceptions_per_1k_events",
        "Exceptions per 1k events",
        "per_1k_events",
        "Client and server exceptions per 1000 events.",
        ["exceptions_client", "exceptions_server", "events"],
        lambda m: ratio(m["exceptions_client"] + m["exceptions_server"], m["events"], 1000),
        "1000 * (exceptions_client + exceptions_server) / events",
    ),
    _kpi(
        "active_users",
        "Active users",
        "count",
        "Users with at least one event in the period.",
        ["active_users"],
        _identity("active_users"),
        "active_users",
    ),
    _kpi(
        "working_time_per_job_ms",
        "Working time per job",
        "ms",
        "Average working time per job worked on in the period.",
        ["working_time_ms", "jobs_worked"],
        lambda m: ratio(m["working_time_ms"], m["jobs_worked"]),
        "working_time_ms / jobs_worked",
    ),
    _kpi(
        "objects_drawn",
        "Objects drawn",
        "count",
        "Objects drawn in the annotation UI.",
        ["objects_drawn"],
        _identity("objects_drawn"),
        "objects_drawn",
    ),
    _kpi(
        "jobs_completed",
        "Jobs completed",
        "count",
        "Jobs moved to the completed state.",
        ["jobs_completed"],
        _identity("jobs_completed"),
        "jobs_completed",
    ),
    _kpi(
        "issues_created",
        "Issues created",
        "count",
        "Review issues opened.",
        ["issues_created"],
        _identity("issues_created"),
        "issues_created",
    ),
    _kpi(
        "exceptions",
        "Exceptions",
        "count",
        "Client and server exceptions.",
        ["exceptions_client", "exceptions_server"],
        lambda m: m["exceptions_client"] + m["exceptions_server"],
        "exceptions_client + exceptions_server",
    ),
    _kpi(
        "tasks_created",
        "Tasks created",
        "count",
        "Tasks created.",
        ["tasks_created"],
        _identity("tasks_created"),
        "tasks_created",
    ),
    _kpi(
        "events",
        "Events",
        "count",
        "Every event, of every scope and source.",
        ["events"],
        _identity("events"),
        "events",
    ),
]

KPIS: dict[str, KPI] = {kpi.key: kpi for kpi in _KPIS}


@dataclass(frozen=True)
class JobOutcomeKPI:
    """A KPI that is a share of jobs, each job judged on its own metric totals over the selected
    range (not a formula over the period's totals, so the KPI API does not serve it; the
    dashboards compute it per job). `accepted` holds for a job whose `metrics` totals it is given;
    the KPI is 100 x accepted jobs / jobs with at least one `counted` event."""

    key: str
    display_name: str
    unit: Unit
    description: str
    metrics: tuple[str, ...]
    counted: str
    accepted: Callable[[Totals], bool]
    accepted_text: str


JOB_KPIS: dict[str, JobOutcomeKPI] = {
    "first_pass_acceptance": JobOutcomeKPI(
        "first_pass_acceptance",
        "First-pass acceptance",
        "percentage",
        "Share of the completed jobs that were completed without a rejection: jobs with a "
        "completion and no rejection in the selected range, among jobs with a completion.",
        ("jobs_completed", "jobs_rejected"),
        "jobs_completed",
        lambda m: m["jobs_completed"] > 0 and m["jobs_rejected"] == 0,
        "jobs_completed > 0 AND jobs_rejected = 0",
    ),
}


def metrics_for(kpis: list[KPI] | tuple[KPI, ...]) -> list[str]:
    """The metrics these KPIs read, each once, in registry order."""
    needed = {name for kpi in kpis for name in kpi.metrics}
    return [name for name in ALL_METRICS if name in needed]


def kpi_config(kpi: KPI) -> dict:
    """The public description of a KPI (GET /api/analytics/kpis/configs)."""
    return {
        "name": kpi.key,
        "metadata": {"display_name": kpi.display_name, "unit": kpi.unit, "description": kpi.description},
        "metrics": list(kpi.metrics),
        "formula": kpi.formula_text,
        "additive": kpi.additive,
    }


def metric_config(metric: AnyMetric) -> dict:
    return {
        "name": metric.key,
        "metadata": {
            "display_name": metric.display_name,
            "unit": metric.unit,
            "description": metric.description,
        },
        "definition": metric.definition,
        "additive": metric.additive,
    }


def _check() -> None:
    """Import-time sanity: names are unique across kinds, units known, formulas name only their metrics."""
    assert not set(METRICS) & set(DISTINCT_METRICS), "a metric name is both additive and distinct"
    for metric in ALL_METRICS.values():
        assert metric.unit in UNITS, metric.key
    for kpi in KPIS.values():
        assert kpi.unit in UNITS, kpi.key
        unknown = set(kpi.metrics) - set(ALL_METRICS)
        assert not unknown, f"KPI {kpi.key} reads unknown metrics {unknown}"
    for job_kpi in JOB_KPIS.values():
        assert job_kpi.key not in KPIS and job_kpi.unit in UNITS, job_kpi.key
        assert set(job_kpi.metrics) <= set(METRICS) and job_kpi.counted in job_kpi.metrics, job_kpi.key


_check()
