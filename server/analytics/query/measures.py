"""Every measure of the query API, defined on the metric/KPI registry (`analytics.registry`).

A measure's numbers are registry metrics and KPIs, evaluated per time bucket, per group of ids or
over the whole range, so they are the numbers /kpis/values and /metrics/values give for the same
scope and range. Where a measure needs what the rollups cannot keep (the latest state of a job,
the durations of single events, pairing an issue with its resolution, a payload field), it reads
raw `events`, selecting them with the same registry keys; tests check that the parts both can
answer agree.

Three kinds of measure:

- `timeline`: one record per time bucket (zero-filled; a KPI with a zero denominator is null);
- `list`: one record per group of ids (a user, a job, a job and a user ...) with data in range;
- `single`: one record over the whole range.

Dataloop's "item" and "assignment" are CVAT jobs here (the unit of working time and of state).
`docs/query-api.md` has the one-line definition of each measure, generated from `summary`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from operator import itemgetter
from typing import Any

from analytics.errors import AnalyticsError
from analytics.query.fetch import (
    BUCKET,
    DIM_INDEX,
    FIRST,
    LAST,
    Fetcher,
    Shape,
    Totals,
    scope_keys,
    status_params,
    tuple_key,
)
from analytics.query.timegrid import TimeGrid, iso
from analytics.registry import (
    ALL_METRICS,
    DISTINCT_METRICS,
    JOB_STATE_KEYS,
    KPIS,
    METRICS,
    DistinctMetric,
    Metric,
    ratio,
    status_key,
)

# --- rollup keys the registry names without making metrics of them -----------------------------


def _key_metric(name: str, key: str, description: str) -> Metric:
    return Metric(name, name, "count", description, (key,), "events")


# The job states besides completed / rejected (which are registry metrics), and issues reopened.
EXTRA_METRICS: dict[str, Metric] = {
    metric.key: metric
    for metric in (
        _key_metric("jobs_new", JOB_STATE_KEYS["new"], "Jobs moved (back) to the `new` state."),
        _key_metric(
            "jobs_in_progress", JOB_STATE_KEYS["in progress"], "Jobs moved to the `in progress` state."
        ),
        _key_metric(
            "issues_reopened",
            status_key("update:issue", "resolved", "false"),
            "Review issues marked unresolved again.",
        ),
    )
}
assert METRICS["jobs_completed"].metric_keys == (JOB_STATE_KEYS["completed"],)
assert METRICS["jobs_rejected"].metric_keys == (JOB_STATE_KEYS["rejected"],)
assert not set(EXTRA_METRICS) & set(ALL_METRICS)

# Job state -> the metric counting moves into it.
STATE_METRICS: dict[str, str] = {
    "new": "jobs_new",
    "in progress": "jobs_in_progress",
    "rejected": "jobs_rejected",
    "completed": "jobs_completed",
}
assert set(STATE_METRICS) == set(JOB_STATE_KEYS)


def metric(name: str) -> Metric | DistinctMetric:
    return EXTRA_METRICS.get(name) or ALL_METRICS[name]


ID_FIELDS: dict[str, str] = {
    "org_id": "orgId",
    "project_id": "projectId",
    "task_id": "taskId",
    "job_id": "jobId",
    "user_id": "userId",
}


# --- columns: record fields computed from metric totals ---------------------------------------------


@dataclass(frozen=True)
class Col:
    """A record field: a metric total (`metric`) or a KPI on the totals of its metrics (`kpi`)."""

    field: str
    metric: str | None = None
    kpi: str | None = None

    def metrics(self) -> list[str]:
        return list(KPIS[self.kpi].metrics) if self.kpi else [self.metric]  # type: ignore[list-item]


def _metrics_of(cols: Iterable[Col], extra: Iterable[str] = ()) -> list[Metric | DistinctMetric]:
    names = list(dict.fromkeys([*(name for col in cols for name in col.metrics()), *extra]))
    return [metric(name) for name in names]


def _values(cols: Sequence[Col], totals: dict[str, Any]) -> dict[str, Any]:
    """The record fields of `cols` from metric totals (a KPI: its formula on the totals)."""
    return {col.field: KPIS[col.kpi].compute(totals) if col.kpi else totals[col.metric] for col in cols}


# --- the measure interface -------------------------------------------------------------------------


@dataclass
class Ctx:
    fetch: Fetcher
    grid: TimeGrid
    params: dict[str, Any]


def _param_error(message: str, path: str) -> AnalyticsError:
    return AnalyticsError(message, code="invalid_parameter", field=path)


@dataclass
class Measure:
    name: str
    summary: str
    kind: str  # timeline | list | single
    fields: tuple[str, ...] = ()
    sort_field: str | None = None
    default_direction: str = "descending"
    ties: tuple[str, ...] = ()
    params_doc: dict[str, str] = field(default_factory=dict)

    # request-time checks

    def check_params(self, params: dict[str, Any], path: str) -> None:
        unknown = sorted(set(params) - set(self.params_doc))
        if unknown:
            allowed = ", ".join(sorted(self.params_doc)) or "none"
            raise _param_error(
                f"{path}.{unknown[0]} is not a parameter of {self.name} (parameters: {allowed}).",
                f"{path}.{unknown[0]}",
            )

    def bucketed(self, params: dict[str, Any]) -> bool:
        """True when the records are split by time bucket (a timeline is zero-filled): the number
        of buckets is then bounded by ANALYTICS_MAX_BUCKETS."""
        return self.kind == "timeline"

    def record_fields(self, params: dict[str, Any]) -> tuple[str, ...]:
        return self.fields

    # evaluation: plan() declares the reads, records() builds the records from them

    def plan(self, ctx: Ctx) -> None:
        pass

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        raise NotImplementedError


@dataclass
class MetricTimeline(Measure):
    """One record per bucket: registry metrics and KPIs of the bucket."""

    cols: tuple[Col, ...] = ()
    kind: str = "timeline"
    sort_field: str | None = "time"
    default_direction: str = "ascending"

    def __post_init__(self) -> None:
        self.fields = ("time", *(col.field for col in self.cols))

    def plan(self, ctx: Ctx) -> None:
        ctx.fetch.want(Shape(ctx.grid, True), _metrics_of(self.cols))

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        totals = Totals(_metrics_of(self.cols))
        by_bucket = totals.group(ctx.fetch.sums(Shape(ctx.grid, True)), itemgetter(BUCKET))
        zero = {m.key: 0 for m in totals.metrics}
        return [
            {"time": time, **_values(self.cols, by_bucket.get(i, zero))}
            for i, time in enumerate(ctx.grid.iso_starts())
        ]


@dataclass
class MetricSingle(Measure):
    """One record: registry metrics and KPIs over the whole range."""

    cols: tuple[Col, ...] = ()
    dims: tuple[str, ...] = ()  # id columns a distinct metric among the cols counts
    kind: str = "single"

    def __post_init__(self) -> None:
        self.fields = tuple(col.field for col in self.cols)

    def plan(self, ctx: Ctx) -> None:
        ctx.fetch.want(Shape(ctx.grid, False, self.dims), _metrics_of(self.cols))

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        totals = Totals(_metrics_of(self.cols))
        return [_values(self.cols, totals.total(ctx.fetch.sums(Shape(ctx.grid, False, self.dims))))]


@dataclass
class MetricList(Measure):
    """One record per group of ids (`dims`) with data in range: the groups counted by the
    `include` metric (a distinct metric counting the group's id, or an additive one > 0)."""

    dims: tuple[str, ...] = ()  # what a record is about (its id fields)
    cols: tuple[Col, ...] = ()
    include: str = "working_time_ms"
    read_dims: tuple[str, ...] = ()  # extra id columns to read (for distinct counts per group)
    require_ids: tuple[str, ...] = ()  # groups whose id here is 0 (none) are left out
    first_last: tuple[str, str] | None = None  # fields for the first/last bucket with `include` data
    user_name: bool = False
    aliases: dict[str, str] = field(default_factory=dict)  # extra field -> id column it repeats
    constants: dict[str, Any] = field(default_factory=dict)
    kind: str = "list"

    def __post_init__(self) -> None:
        ids = [ID_FIELDS[d] for d in self.dims]
        with_aliases = []  # each alias right after the id it repeats (jobId, itemId, ...)
        for dim in self.dims:
            with_aliases.append(ID_FIELDS[dim])
            with_aliases += [alias for alias, column in self.aliases.items() if column == dim]
        names = ["userName"] if self.user_name else []
        first_last = list(self.first_last or ())
        self.fields = (
            *with_aliases,
            *names,
            *self.constants,
            *(col.field for col in self.cols),
            *first_last,
        )
        if not self.ties:
            self.ties = tuple(ids)

    def _shape(self, ctx: Ctx) -> Shape:
        return Shape(ctx.grid, False, (*self.dims, *self.read_dims))

    def plan(self, ctx: Ctx) -> None:
        ctx.fetch.want(self._shape(ctx), _metrics_of(self.cols, [self.include]), spans=bool(self.first_last))

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        rows = ctx.fetch.sums(self._shape(ctx))
        totals = Totals(_metrics_of(self.cols, [self.include]))
        group_key = tuple_key([DIM_INDEX[d] for d in self.dims])
        groups = totals.group(rows, group_key)
        spans: dict[tuple, list[int]] = {}
        if self.first_last:
            for row in totals.matching(rows, self.include):
                span = spans.setdefault(group_key(row), [row[FIRST], row[LAST]])
                span[0] = min(span[0], row[FIRST])
                span[1] = max(span[1], row[LAST])
        required = [self.dims.index(d) for d in self.require_ids]
        kept = [
            (key, values)
            for key, values in groups.items()
            if values[self.include] > 0 and all(key[r] for r in required)
        ]
        names = (
            ctx.fetch.user_names(key[self.dims.index("user_id")] for key, _ in kept) if self.user_name else {}
        )
        out = []
        for key, values in kept:
            record: dict[str, Any] = {}
            for n, dim in enumerate(self.dims):
                record[ID_FIELDS[dim]] = key[n] or None
                for alias, column in self.aliases.items():
                    if column == dim:
                        record[alias] = key[n] or None
            if self.user_name:
                record["userName"] = names.get(key[self.dims.index("user_id")])
            record.update(self.constants)
            record.update(_values(self.cols, values))
            if self.first_last:
                first, last = spans[key]
                record[self.first_last[0]] = iso(ctx.grid.floor(first))
                record[self.first_last[1]] = iso(ctx.grid.floor(last))
            out.append(record)
        return out


# --- measures with their own shape ------------------------------------------------------------------

DEFAULT_EDGES_MS = (60_000, 300_000, 900_000, 3_600_000)
MAX_EDGES = 20


def _edges(params: dict[str, Any]) -> tuple[int, ...]:
    return tuple(params.get("edgesMs") or DEFAULT_EDGES_MS)


@dataclass
class JobDurationHistogram(Measure):
    """countItemInAnnotationTimeBucket."""

    kind: str = "timeline"
    fields: tuple[str, ...] = ("time", "bucket", "minDuration", "maxDuration", "count")
    sort_field: str | None = "time"
    default_direction: str = "ascending"
    ties: tuple[str, ...] = ("minDuration",)

    def check_params(self, params: dict[str, Any], path: str) -> None:
        super().check_params(params, path)
        edges = params.get("edgesMs")
        if edges is None:
            return
        ok = (
            isinstance(edges, list)
            and 0 < len(edges) <= MAX_EDGES
            and all(isinstance(e, int) and not isinstance(e, bool) and e > 0 for e in edges)
            and all(a < b for a, b in pairwise(edges))
        )
        if not ok:
            raise _param_error(
                f"{path}.edgesMs must be 1 to {MAX_EDGES} increasing positive integers (milliseconds).",
                f"{path}.edgesMs",
            )

    def _shape(self, ctx: Ctx) -> Shape:
        return Shape(ctx.grid, False, ("job_id",))

    def plan(self, ctx: Ctx) -> None:
        metrics = [DISTINCT_METRICS["jobs_worked"], METRICS["working_time_ms"]]
        ctx.fetch.want(self._shape(ctx), metrics, spans=True)

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        rows = ctx.fetch.sums(self._shape(ctx))
        totals = Totals([DISTINCT_METRICS["jobs_worked"], METRICS["working_time_ms"]])
        per_job = totals.group(rows, lambda row: row[DIM_INDEX["job_id"]])
        last: dict[int, int] = {}
        for row in totals.matching(rows, "jobs_worked"):
            job = row[DIM_INDEX["job_id"]]
            last[job] = max(last.get(job, 0), row[LAST])
        edges = _edges(ctx.params)
        lows = (0, *edges)
        counts = [[0] * len(lows) for _ in range(ctx.grid.count)]
        for job, values in per_job.items():
            if not values["jobs_worked"]:
                continue
            duration = values["working_time_ms"]
            slot = sum(1 for edge in edges if duration >= edge)
            counts[ctx.grid.index(last[job])][slot] += 1
        out = []
        for i, time in enumerate(ctx.grid.iso_starts()):
            for slot, low in enumerate(lows):
                high = edges[slot] if slot < len(edges) else None
                out.append(
                    {
                        "time": time,
                        "bucket": f"{low}-{high}" if high is not None else f"{low}+",
                        "minDuration": low,
                        "maxDuration": high,
                        "count": counts[i][slot],
                    }
                )
        return out


GROUP_BY_FIELDS: dict[str, str | None] = {
    "orgId": "org_id",
    "projectId": "project_id",
    "taskId": "task_id",
    "datasetId": "task_id",
    "jobId": "job_id",
    "assignmentId": "job_id",
    "itemId": "job_id",
    "userId": "user_id",
    "time": None,
}


@dataclass
class ActivityByField(Measure):
    """userStatsActivityTimeByField."""

    kind: str = "list"
    sort_field: str | None = "duration"

    def _fields(self, params: dict[str, Any]) -> list[str]:
        return list(params.get("groupByFields") or [])

    def check_params(self, params: dict[str, Any], path: str) -> None:
        super().check_params(params, path)
        fields = params.get("groupByFields")
        where = f"{path}.groupByFields"
        if not isinstance(fields, list) or not fields:
            raise _param_error(
                f"{where} is required: a non-empty list of {', '.join(GROUP_BY_FIELDS)}.", where
            )
        for name in fields:
            if name not in GROUP_BY_FIELDS:
                raise _param_error(f"{where} cannot hold {name!r}; use {', '.join(GROUP_BY_FIELDS)}.", where)
        if len(set(fields)) != len(fields):
            raise _param_error(f"{where} names a field twice.", where)

    def bucketed(self, params: dict[str, Any]) -> bool:
        return "time" in self._fields(params)

    def record_fields(self, params: dict[str, Any]) -> tuple[str, ...]:
        return (*self._fields(params), "activityStatus", "duration")

    def _shape(self, ctx: Ctx) -> Shape:
        fields = self._fields(ctx.params)
        dims = tuple(GROUP_BY_FIELDS[f] for f in fields if GROUP_BY_FIELDS[f])
        return Shape(ctx.grid, "time" in fields, dims)  # type: ignore[arg-type]

    def plan(self, ctx: Ctx) -> None:
        ctx.fetch.want(self._shape(ctx), [METRICS["working_time_ms"]])

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        fields = self._fields(ctx.params)
        positions = [BUCKET if f == "time" else DIM_INDEX[GROUP_BY_FIELDS[f]] for f in fields]  # type: ignore[index]
        totals = Totals([METRICS["working_time_ms"]])
        groups = totals.group(ctx.fetch.sums(self._shape(ctx)), tuple_key(positions))
        starts = ctx.grid.iso_starts() if "time" in fields else []
        out = []
        for key, values in groups.items():
            if not values["working_time_ms"]:
                continue
            record: dict[str, Any] = {}
            for name, value in zip(fields, key, strict=True):
                record[name] = starts[value] if name == "time" else (value or None)
            record["activityStatus"] = "active"
            record["duration"] = values["working_time_ms"]
            out.append(record)
        return out

    def sort_ties(self, params: dict[str, Any]) -> tuple[str, ...]:
        return tuple(self._fields(params))


@dataclass
class ActivityByRole(Measure):
    """userStatsActivityTimeByRole: working time by the role the user holds (now) in the
    organization the time was spent in."""

    kind: str = "list"
    fields: tuple[str, ...] = ("role", "users", "activityDuration")
    sort_field: str | None = "activityDuration"
    ties: tuple[str, ...] = ("role",)

    def _shape(self, ctx: Ctx) -> Shape:
        return Shape(ctx.grid, False, ("org_id", "user_id"))

    def plan(self, ctx: Ctx) -> None:
        ctx.fetch.want(self._shape(ctx), [METRICS["working_time_ms"]])

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        from accounts.models import Membership

        totals = Totals([METRICS["working_time_ms"]])
        groups = totals.group(
            ctx.fetch.sums(self._shape(ctx)),
            lambda row: (row[DIM_INDEX["org_id"]], row[DIM_INDEX["user_id"]]),
        )
        kept = {key: values["working_time_ms"] for key, values in groups.items() if values["working_time_ms"]}
        users = {user for _, user in kept if user}
        roles = {
            (org, user): role
            for org, user, role in Membership.objects.filter(user_id__in=users).values_list(
                "organization_id", "user_id", "role"
            )
        }
        by_role: dict[str | None, list] = {}
        for (org, user), duration in kept.items():
            entry = by_role.setdefault(roles.get((org, user)), [set(), 0])
            if user:
                entry[0].add(user)
            entry[1] += duration
        return [
            {"role": role, "users": len(ids), "activityDuration": duration}
            for role, (ids, duration) in by_role.items()
        ]


@dataclass
class IssuesPerAssignee(Measure):
    """issuePerAnnotator: issues opened on jobs, by the job's current assignee."""

    kind: str = "list"
    fields: tuple[str, ...] = ("assigneeId", "assigneeName", "jobs", "issues")
    sort_field: str | None = "issues"
    ties: tuple[str, ...] = ("assigneeId",)

    def _shape(self, ctx: Ctx) -> Shape:
        return Shape(ctx.grid, False, ("job_id",))

    def plan(self, ctx: Ctx) -> None:
        ctx.fetch.want(self._shape(ctx), [METRICS["issues_created"]])

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        from annotation.models import Job

        totals = Totals([METRICS["issues_created"]])
        per_job = totals.group(ctx.fetch.sums(self._shape(ctx)), lambda row: row[DIM_INDEX["job_id"]])
        per_job = {job: v["issues_created"] for job, v in per_job.items() if v["issues_created"]}
        assignees = dict(
            Job.objects.filter(pk__in=[j for j in per_job if j]).values_list("pk", "assignee_id")
        )
        by_assignee: dict[int | None, list[int]] = {}
        for job, issues in per_job.items():
            entry = by_assignee.setdefault(assignees.get(job), [0, 0])
            entry[0] += 1
            entry[1] += issues
        names = ctx.fetch.user_names(a for a in by_assignee if a)
        return [
            {
                "assigneeId": assignee,
                "assigneeName": names.get(assignee) if assignee else None,
                "jobs": jobs,
                "issues": issues,
            }
            for assignee, (jobs, issues) in by_assignee.items()
        ]


STATE_FIELDS: dict[str, str] = {
    "new": "new",
    "in progress": "inProgress",
    "rejected": "rejected",
    "completed": "completed",
}


@dataclass
class JobLatestState(Measure):
    """assignmentStatsCompletedStatus."""

    kind: str = "list"
    fields: tuple[str, ...] = (
        "jobId",
        "itemId",
        "taskId",
        "projectId",
        "state",
        "stateTime",
        "stateUserId",
        *STATE_FIELDS.values(),
    )
    sort_field: str | None = "stateTime"
    ties: tuple[str, ...] = ("jobId",)

    def _shape(self, ctx: Ctx) -> Shape:
        return Shape(ctx.grid, False, ("project_id", "task_id", "job_id"))

    def _metrics(self) -> list[Metric | DistinctMetric]:
        return [metric(name) for name in STATE_METRICS.values()]

    def plan(self, ctx: Ctx) -> None:
        ctx.fetch.want(self._shape(ctx), self._metrics())

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        latest = ctx.fetch.raw(
            "job_latest_state", ctx.grid, **status_params("state", JOB_STATE_KEYS.values())
        )
        totals = Totals(self._metrics())
        counts = totals.group(ctx.fetch.sums(self._shape(ctx)), lambda row: row[DIM_INDEX["job_id"]])
        zero = dict.fromkeys(STATE_METRICS.values(), 0)
        out = []
        for job, task, project, state, at, by_user in latest:
            values = counts.get(job, zero)
            out.append(
                {
                    "jobId": job,
                    "itemId": job,
                    "taskId": task or None,
                    "projectId": project or None,
                    "state": state,
                    "stateTime": iso(ctx.grid.floor(at)),
                    "stateUserId": by_user or None,
                    **{f: values[STATE_METRICS[s]] for s, f in STATE_FIELDS.items()},
                }
            )
        return out


@dataclass
class DurationStats(Measure):
    """Statistics of single events' durations per job (and action), from raw events."""

    actions: tuple[str, ...] = ()  # registry metrics whose scope keys select the events
    with_action: bool = False
    kind: str = "list"
    sort_field: str | None = "totalDuration"

    def __post_init__(self) -> None:
        self.fields = (
            "jobId",
            "itemId",
            "taskId",
            "projectId",
            *(("action",) if self.with_action else ()),
            "events",
            *(("actions",) if self.with_action else ()),
            "totalDuration",
            "avgDuration",
            "minDuration",
            "p50Duration",
            "p90Duration",
            "maxDuration",
        )
        self.ties = ("jobId", "action") if self.with_action else ("jobId",)
        for name in self.actions:
            scope_keys(METRICS[name])  # raises unless the metric reads plain scopes

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        action_keys = [scope_keys(METRICS[name]) for name in self.actions]
        rows = ctx.fetch.raw(
            "event_duration_stats",
            ctx.grid,
            action_keys=action_keys,
            scopes=sorted({k for keys in action_keys for k in keys}),
        )
        out = []
        for job, task, project, a, events, units, total, shortest, longest, p50, p90 in rows:
            record: dict[str, Any] = {
                "jobId": job,
                "itemId": job,
                "taskId": task or None,
                "projectId": project or None,
            }
            if self.with_action:
                record["action"] = self.actions[a - 1]
            record["events"] = events
            if self.with_action:
                record["actions"] = units
            record.update(
                {
                    "totalDuration": total,
                    # per object for actions (as the KPI avg_draw_time_ms), per event otherwise
                    "avgDuration": ratio(total, units if self.with_action else events),
                    "minDuration": shortest,
                    "p50Duration": p50,
                    "p90Duration": p90,
                    "maxDuration": longest,
                }
            )
            out.append(record)
        return out


@dataclass
class IssueResolveTime(Measure):
    """issueResolveTime."""

    kind: str = "timeline"
    fields: tuple[str, ...] = (
        "time",
        "resolved",
        "measured",
        "totalResolveTime",
        "avgResolveTime",
        "maxResolveTime",
    )
    sort_field: str | None = "time"
    default_direction: str = "ascending"

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        rows = ctx.fetch.raw(
            "issue_resolutions",
            ctx.grid,
            timed=True,
            **status_params("resolve", METRICS["issues_resolved"].metric_keys),
            create_keys=scope_keys(METRICS["issues_created"]),
        )
        by_bucket = {row[0]: row[1:] for row in rows}
        out = []
        for i, time in enumerate(ctx.grid.iso_starts()):
            resolved, measured, total, longest = by_bucket.get(i, (0, 0, 0, 0))
            out.append(
                {
                    "time": time,
                    "resolved": resolved,
                    "measured": measured,
                    "totalResolveTime": total,
                    "avgResolveTime": ratio(total, measured),
                    "maxResolveTime": longest if measured else None,
                }
            )
        return out


def _ms_between(earlier: Any, later: Any) -> int | None:
    if earlier is None or later is None:
        return None
    return round((later - earlier).total_seconds() * 1000)


@dataclass
class IssueCorrections(Measure):
    """issueCorrectionTime."""

    kind: str = "list"
    fields: tuple[str, ...] = (
        "issueId",
        "jobId",
        "taskId",
        "projectId",
        "raisedBy",
        "createdAt",
        "correctedAt",
        "correctionTime",
        "resolvedAt",
        "resolveTime",
    )
    sort_field: str | None = "createdAt"
    ties: tuple[str, ...] = ("issueId",)

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        rows = ctx.fetch.raw(
            "issue_corrections",
            ctx.grid,
            create_keys=scope_keys(METRICS["issues_created"]),
            save_keys=scope_keys(METRICS["jobs_saved"]),
            **status_params("resolve", METRICS["issues_resolved"].metric_keys),
        )
        out = []
        for issue, job, task, project, user, created, corrected, resolved in rows:

            def at(moment: Any) -> str | None:
                return None if moment is None else iso(ctx.grid.floor(moment.timestamp()))

            out.append(
                {
                    "issueId": issue,
                    "jobId": job or None,
                    "taskId": task or None,
                    "projectId": project or None,
                    "raisedBy": user or None,
                    "createdAt": at(created),
                    "correctedAt": at(corrected),
                    "correctionTime": _ms_between(created, corrected),
                    "resolvedAt": at(resolved),
                    "resolveTime": _ms_between(created, resolved),
                }
            )
        return out


@dataclass
class ExceptionsByStatus(Measure):
    """exceptionsByStatusCode."""

    kind: str = "list"
    fields: tuple[str, ...] = ("source", "statusCode", "exceptions")
    sort_field: str | None = "exceptions"
    ties: tuple[str, ...] = ("source", "statusCode")

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        metrics = [METRICS[name] for name in KPIS["exceptions"].metrics]
        scopes = sorted({key for m in metrics for key in scope_keys(m)})
        rows = ctx.fetch.raw("exceptions_by_status", ctx.grid, scopes=scopes)
        counts: dict[tuple[str, int | None], int] = {}
        for metric_key, source, status, n in rows:
            if any(m.matches(metric_key, source) for m in metrics):
                counts[(source, status)] = counts.get((source, status), 0) + n
        return [
            {"source": source, "statusCode": status, "exceptions": n}
            for (source, status), n in counts.items()
        ]


# --- the measures -----------------------------------------------------------------------------------

WT = "working_time_ms"
_WT_LIST = {"include": WT}

_MEASURES: list[Measure] = [
    MetricList(
        "activeUsers",
        "Users with at least one event in range (registry `active_users`): their events, working time "
        "and first / last active bucket.",
        dims=("user_id",),
        cols=(Col("events", "events"), Col("workingTime", WT)),
        include="active_users",
        require_ids=("user_id",),
        first_last=("firstActivity", "lastActivity"),
        user_name=True,
        sort_field="lastActivity",
        ties=("userId",),
    ),
    MetricTimeline(
        "annotationTimeline",
        "Per bucket: objects drawn, pasted and deleted, object edits, annotations saved through the "
        "server, and drawing time (registry metrics).",
        cols=(
            Col("objectsDrawn", "objects_drawn"),
            Col("objectsPasted", "objects_pasted"),
            Col("objectsDeleted", "objects_deleted"),
            Col("objectEdits", "object_edits"),
            Col("annotationsSaved", "annotations_saved_server"),
            Col("drawDuration", "draw_duration_ms"),
        ),
    ),
    MetricTimeline(
        "itemStatusTimeline",
        "Per bucket: jobs moved to each state (new, in progress, rejected, completed): the job state "
        "changes of the registry's JOB_STATE_KEYS.",
        cols=tuple(Col(STATE_FIELDS[state], name) for state, name in STATE_METRICS.items()),
    ),
    MetricList(
        "itemAnnotationDuration",
        "Per job with working time in range (registry `jobs_worked`): its working time.",
        dims=("job_id", "task_id", "project_id"),
        cols=(Col("duration", WT),),
        include="jobs_worked",
        aliases={"itemId": "job_id"},
        sort_field="duration",
    ),
    JobDurationHistogram(
        "countItemInAnnotationTimeBucket",
        "Jobs with working time in range by their working time in range (bins of `params.edgesMs`), "
        "each counted once, in the bucket of its last working time.",
        params_doc={"edgesMs": f"bin edges in ms, increasing (default {list(DEFAULT_EDGES_MS)})"},
    ),
    MetricList(
        "avgItemAnnotationTimePerAnnotator",
        "Per user with working time: KPI `working_time_per_job_ms` over the user's working time "
        "and the jobs they worked on.",
        dims=("user_id",),
        read_dims=("job_id",),
        cols=(
            Col("avgTime", kpi="working_time_per_job_ms"),
            Col("totalTime", WT),
            Col("jobs", "jobs_worked"),
        ),
        user_name=True,
        sort_field="avgTime",
        **_WT_LIST,
    ),
    JobLatestState(
        "assignmentStatsCompletedStatus",
        "Per job with a state change in range: its latest state, when and by whom, and how many times "
        "it moved to each state.",
    ),
    DurationStats(
        "assignmentStatsItemActiveTimeStats",
        "Per job: count, total, average, min, p50, p90 and max of its working-time events' durations "
        "(the total is its working time).",
        actions=(WT,),
    ),
    MetricList(
        "assignmentStatsItemTotalTime",
        "Per job with working time: its working time.",
        dims=("job_id", "task_id", "project_id"),
        cols=(Col("totalTime", WT),),
        include="jobs_worked",
        aliases={"itemId": "job_id"},
        sort_field="totalTime",
    ),
    DurationStats(
        "assignmentStatsAnnotationActionTimeStats",
        "Per job and annotation action (registry `objects_drawn`, `objects_pasted`, `objects_deleted`, "
        "`object_edits`): events, objects, total and average time per object, and single events' "
        "min / p50 / p90 / max duration.",
        actions=("objects_drawn", "objects_pasted", "objects_deleted", "object_edits"),
        with_action=True,
    ),
    MetricList(
        "assignmentStatsActiveTime",
        "Per job and user: the user's working time on the job.",
        dims=("job_id", "user_id"),
        cols=(Col("activeTime", WT),),
        require_ids=("job_id",),
        sort_field="activeTime",
        **_WT_LIST,
    ),
    MetricList(
        "assignmentStatsStudioActiveTime",
        "Same as assignmentStatsActiveTime: the annotation UI is the studio, and working time is "
        "only counted there.",
        dims=("job_id", "user_id"),
        cols=(Col("activeTime", WT),),
        require_ids=("job_id",),
        sort_field="activeTime",
        **_WT_LIST,
    ),
    MetricList(
        "assignmentStartTime",
        "Per job and user who opened it in range (registry `jobs_opened`): the first bucket they opened "
        "it in, and how many times.",
        dims=("job_id", "task_id", "project_id", "user_id"),
        cols=(Col("opens", "jobs_opened"),),
        include="jobs_opened",
        require_ids=("job_id",),
        first_last=("startTime", "lastOpenTime"),
        sort_field="startTime",
        ties=("jobId", "userId"),
    ),
    MetricSingle(
        "labelingCounters",
        "Objects drawn, pasted, deleted and edited, annotations saved through the server, frame "
        "changes, drawing time and KPI `avg_draw_time_ms`, over the range.",
        cols=(
            Col("objectsDrawn", "objects_drawn"),
            Col("objectsPasted", "objects_pasted"),
            Col("objectsDeleted", "objects_deleted"),
            Col("objectEdits", "object_edits"),
            Col("annotationsSaved", "annotations_saved_server"),
            Col("framesChanged", "frames_changed"),
            Col("drawDuration", "draw_duration_ms"),
            Col("avgDrawTime", kpi="avg_draw_time_ms"),
        ),
    ),
    MetricList(
        "userStatsTaskActivityTime",
        "Per user and task: working time.",
        dims=("user_id", "task_id", "project_id"),
        cols=(Col("duration", WT),),
        sort_field="duration",
        ties=("userId", "taskId", "projectId"),
        **_WT_LIST,
    ),
    MetricList(
        "userStatsActivityTime",
        "Per user with working time: working time (always `active`: working time leaves idle gaps out).",
        dims=("user_id",),
        cols=(Col("activityDuration", WT),),
        constants={"activityStatus": "active"},
        user_name=True,
        sort_field="activityDuration",
        **_WT_LIST,
    ),
    ActivityByField(
        "userStatsActivityTimeByField",
        "Working time grouped by `params.groupByFields` (orgId, projectId, taskId / datasetId, jobId / "
        "itemId / assignmentId, userId, time), one record per group with working time.",
        params_doc={"groupByFields": "required: the fields to group by, in record order"},
    ),
    ActivityByRole(
        "userStatsActivityTimeByRole",
        "Working time by the role (owner, maintainer, supervisor, worker) the user holds now in the "
        "organization the time was spent in; null role: not a member (any more) or no organization.",
    ),
    MetricSingle(
        "userStatsTotalActivityTime",
        "Working time over the range (registry `working_time_ms`).",
        cols=(Col("activityDuration", WT),),
    ),
    MetricSingle(
        "userStatsStudioTime",
        "Same number as userStatsTotalActivityTime (working time is only counted in the annotation UI).",
        cols=(Col("activityDuration", WT),),
    ),
    MetricSingle(
        "annotationCounters",
        "Working time, jobs worked on, KPI `working_time_per_job_ms`, objects drawn and KPI "
        "`avg_draw_time_ms`, over the range.",
        cols=(
            Col("totalTime", WT),
            Col("jobs", "jobs_worked"),
            Col("avgItemAnnotationTime", kpi="working_time_per_job_ms"),
            Col("objectsDrawn", "objects_drawn"),
            Col("avgAnnotationTime", kpi="avg_draw_time_ms"),
        ),
        dims=("job_id",),
    ),
    MetricSingle(
        "annotationWholeTime",
        "Working time over the range, as `totalTime`.",
        cols=(Col("totalTime", WT),),
    ),
    MetricSingle(
        "issueCounters",
        "Issues opened, resolved and reopened, and KPI `issue_resolution_rate`, over the range.",
        cols=(
            Col("created", "issues_created"),
            Col("resolved", "issues_resolved"),
            Col("reopened", "issues_reopened"),
            Col("resolutionRate", kpi="issue_resolution_rate"),
        ),
    ),
    MetricTimeline(
        "issueTimeline",
        "Per bucket: issues opened, resolved and reopened.",
        cols=(
            Col("created", "issues_created"),
            Col("resolved", "issues_resolved"),
            Col("reopened", "issues_reopened"),
        ),
    ),
    IssueResolveTime(
        "issueResolveTime",
        "Per bucket: issue resolutions (registry `issues_resolved`) and, for those whose issue's "
        "creation is recorded, the total, average and longest time from creation to resolution.",
    ),
    IssueCorrections(
        "issueCorrectionTime",
        "Per issue opened in range: time from its creation to the first save of its job after it (the "
        "correction) and to its first resolution, null when not (yet) in range.",
    ),
    IssuesPerAssignee(
        "issuePerAnnotator",
        "Issues opened in range (registry `issues_created`) by the current assignee of their job.",
    ),
    MetricTimeline(
        "executionOverTime",
        "Per bucket: function calls (registry `function_calls`).",
        cols=(Col("executions", "function_calls"),),
    ),
    MetricTimeline(
        "exceptionsOverTime",
        "Per bucket: client and server exceptions, KPI `exceptions` and KPI `exceptions_per_1k_events`.",
        cols=(
            Col("client", "exceptions_client"),
            Col("server", "exceptions_server"),
            Col("total", kpi="exceptions"),
            Col("perThousandEvents", kpi="exceptions_per_1k_events"),
        ),
    ),
    ExceptionsByStatus(
        "exceptionsByStatusCode",
        "Exceptions (KPI `exceptions`) by source and HTTP status code (server errors; null for client "
        "exceptions).",
    ),
    MetricList(
        "jobsCompletedPerUser",
        "Per user who moved jobs to `completed` in range: how many times (registry `jobs_completed`).",
        dims=("user_id",),
        cols=(Col("jobsCompleted", "jobs_completed"),),
        include="jobs_completed",
        user_name=True,
        sort_field="jobsCompleted",
    ),
    MetricTimeline(
        "objectsPerWorkingHour",
        "Per bucket: objects drawn, working time and KPI `objects_per_working_hour`.",
        cols=(
            Col("objectsDrawn", "objects_drawn"),
            Col("workingTime", WT),
            Col("objectsPerWorkingHour", kpi="objects_per_working_hour"),
        ),
    ),
]

MEASURES: dict[str, Measure] = {m.name: m for m in _MEASURES}

# Dataloop measures that do not map onto our events, and why (400 measure_not_supported).
_NO_LABEL = "events carry no label (CVAT's client does not record one on object actions)"
_NO_FAAS = "there are no FaaS services, models or pipelines"
NOT_SUPPORTED: dict[str, str] = {
    "avgAnnotationTimePerLabel": _NO_LABEL,
    "labelingActionsPerLabel": _NO_LABEL,
    "labelingTimePerLabel": _NO_LABEL,
    "labelingAvgTimePerLabel": _NO_LABEL,
    "issuePerLabel": "issues are not tied to a label",
    "issueRaiseTime": "there is no reviewer timing of raising an issue",
    "issueApprovalTime": "corrections have no approval step",
    "assignmentStatsAnnotationClassifyBulkStats": "there is no bulk classification",
    "annotationClassifyBulkTime": "there is no bulk classification",
    "serviceReplicaStatus": _NO_FAAS,
    "serviceQueueSize": _NO_FAAS,
    "serviceNumberOfReplicas": _NO_FAAS,
    "serviceUsage": _NO_FAAS,
    "serviceUsageProjects": _NO_FAAS,
    "snapshotData": _NO_FAAS,
    "executionDuration": "function calls carry no duration",
    "executionCountByFunction": "function calls do not record which function",
    "executionAvgDurationByNode": _NO_FAAS,
    "pipelineExecutionAvgDuration": _NO_FAAS,
}
assert not set(NOT_SUPPORTED) & set(MEASURES)


def lookup(measure_type: str, path: str) -> Measure:
    found = MEASURES.get(measure_type)
    if found is not None:
        return found
    if measure_type in NOT_SUPPORTED:
        raise AnalyticsError(
            f"{measure_type} is not supported: {NOT_SUPPORTED[measure_type]}.",
            code="measure_not_supported",
            field=path,
        )
    raise AnalyticsError(
        f"Unknown measureType {measure_type!r}; see docs/query-api.md for the measures.",
        code="unknown_measure",
        field=path,
    )


def sort_ties(measure: Measure, params: dict[str, Any]) -> tuple[str, ...]:
    ties = getattr(measure, "sort_ties", None)
    return ties(params) if callable(ties) else measure.ties
