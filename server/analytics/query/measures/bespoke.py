"""Measures with their own shape: histograms, breakdowns by a field or a role, latest job
states, durations and pairings of single events read from raw `events` with registry keys."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from analytics.formulas import ratio
from analytics.query.fetch import (
    BUCKET,
    DIM_INDEX,
    LAST,
    Shape,
    Totals,
    scope_keys,
    status_params,
    tuple_key,
)
from analytics.query.measures.base import Ctx, Measure, metric, param_error
from analytics.query.request import DIMENSIONS
from analytics.query.timegrid import iso
from analytics.registry import (
    DISTINCT_METRICS,
    JOB_STATE_KEYS,
    KPIS,
    METRICS,
    STATE_METRICS,
    DistinctMetric,
    Metric,
)

# --- measures with their own shape ------------------------------------------------------------------

DEFAULT_EDGES_MS = (60_000, 300_000, 900_000, 3_600_000)
MAX_EDGES = 20
# Edges come back in the records: keep them integers every JSON reader holds exactly.
MAX_EDGE_MS = 2**53 - 1


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
            and all(isinstance(e, int) and not isinstance(e, bool) and 0 < e <= MAX_EDGE_MS for e in edges)
            and all(a < b for a, b in pairwise(edges))
        )
        if not ok:
            raise param_error(
                f"{path}.edgesMs must be 1 to {MAX_EDGES} increasing positive integers (milliseconds, "
                f"at most {MAX_EDGE_MS}).",
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


# The context dimensions, plus the job as Dataloop's item (a record per job is what grouping by
# item can mean here; as a context filter itemId is refused) and the time bucket.
GROUP_BY_FIELDS: dict[str, str | None] = {**DIMENSIONS, "itemId": "job_id", "time": None}


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
            raise param_error(
                f"{where} is required: a non-empty list of {', '.join(GROUP_BY_FIELDS)}.", where
            )
        for name in fields:
            if name not in GROUP_BY_FIELDS:
                raise param_error(f"{where} cannot hold {name!r}; use {', '.join(GROUP_BY_FIELDS)}.", where)
        if len(set(fields)) != len(fields):
            raise param_error(f"{where} names a field twice.", where)

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
