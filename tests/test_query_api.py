"""POST /api/analytics/query: the reference payloads (read into pandas DataFrames as teams do), and
every record of every measure against the same numbers computed directly from the raw events in
plain Python (tests/test_analytics_support.py's registry oracle and explicit event filters below),
at second/minute granularity (raw events) and hour/day/week/month (rollups), under several
contexts; numbers also equal the KPI endpoints'. Errors and permissions: test_query_api_errors.py.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from analytics.query.measures import MEASURES
from analytics.registry import KPIS
from events.record import EventRecord
from test_analytics_support import World, in_range, insert_events, metric_total, random_events, totals

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
T0 = int(START.timestamp())
HOUR, DAY = 3600, 86_400
WORLD = World()
STATUS_CODES = (400, 403, 404, 409, 500)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _at(rng: random.Random, start: datetime, span_ms: int) -> datetime:
    return start + timedelta(milliseconds=rng.randrange(span_ms))


def issue_events(rng: random.Random, n: int, start: datetime, span: timedelta) -> list[EventRecord]:
    """Issues with ids: opened by a reviewer, maybe fixed (a save of the job) and resolved, maybe
    reopened and resolved again; some opened before `start`, some resolved after the span."""
    jobs = [job for job in WORLD.jobs() if job[1] is not None]
    span_ms = int(span.total_seconds() * 1000)
    out = []
    for k in range(n):
        org, project, task, job = rng.choice(jobs)
        ids = {"org_id": org, "project_id": project, "task_id": task, "job_id": job}
        reviewer, annotator = rng.sample(WORLD.users, 2)
        opened = _at(rng, start - timedelta(hours=6), span_ms)
        issue = 70_000 + k
        out.append(
            EventRecord(
                "create:issue", opened, obj_id=issue, user_id=reviewer, user_name=f"user{reviewer}", **ids
            )
        )
        moment = opened
        for _ in range(rng.choice([0, 1, 1, 2])):
            moment += timedelta(milliseconds=rng.randrange(1, 4 * 3_600_000))
            if rng.random() < 0.7:
                out.append(EventRecord("save:job", moment, source="client", user_id=annotator, **ids))
            moment += timedelta(milliseconds=rng.randrange(1, 2 * 3_600_000))
            out.append(
                EventRecord(
                    "update:issue",
                    moment,
                    obj_name="resolved",
                    obj_val="true",
                    obj_id=issue,
                    user_id=reviewer,
                    **ids,
                )
            )
            if rng.random() < 0.4:
                moment += timedelta(milliseconds=rng.randrange(1, 3_600_000))
                out.append(
                    EventRecord(
                        "update:issue",
                        moment,
                        obj_name="resolved",
                        obj_val="false",
                        obj_id=issue,
                        user_id=annotator,
                        **ids,
                    )
                )
    return out


def exception_events(rng: random.Random, n: int, start: datetime, span: timedelta) -> list[EventRecord]:
    span_ms = int(span.total_seconds() * 1000)
    out = []
    for _ in range(n):
        org = rng.choice([*WORLD.org_ids, None])
        out.append(
            EventRecord(
                "send:exception",
                _at(rng, start, span_ms),
                source="server",
                count=1,
                org_id=org,
                user_id=rng.choice(WORLD.users),
                payload={"status_code": rng.choice(STATUS_CODES), "message": "x"},
            )
        )
    return out


@pytest.fixture(scope="module")
def dataset() -> list[EventRecord]:
    rng = random.Random(20261102)
    span = timedelta(days=2)
    records = random_events(rng, 5000, START, span, WORLD)
    records += issue_events(rng, 120, START, span)
    records += exception_events(rng, 60, START, span)
    return records


@pytest.fixture
def seeded(clickhouse, dataset):
    insert_events(clickhouse, dataset)
    return dataset


@pytest.fixture
def root(api, django_user_model):
    # a fixed id far from the ids of the generated events' users (11..14)
    api.force_authenticate(
        django_user_model.objects.create_superuser("root", "root@example.com", None, id=900_001)
    )
    return api


def post(client, body: dict) -> tuple[int, Any]:
    response = client.post("/api/analytics/query", body, format="json")
    return response.status_code, response.json()


def all_pages(client, body: dict) -> list[dict]:
    """What Dataloop scripts do: page += 1 while hasNext, per measure; entries merged."""
    status, entries = post(client, body)
    assert status == 200, entries
    for index, entry in enumerate(entries):
        measure = dict(body["measures"][_measure_of(body, index)])
        while entry["hasNext"]:
            measure["page"] = entry["page"] + 1
            measure["timeGranularity"] = entry["timeGranularity"]
            status, (more,) = post(client, {**body, "measures": [measure]})
            assert status == 200, more
            entry["response"] += more["response"]
            entry["hasNext"], entry["page"] = more["hasNext"], more["page"]
    return entries


def _measure_of(body: dict, entry_index: int) -> int:
    """Which measure of the body an entry belongs to (one entry per granularity)."""
    seen = 0
    for i, measure in enumerate(body["measures"]):
        granularity = measure.get("timeGranularity", "hour")
        seen += len(granularity) if isinstance(granularity, list) else 1
        if entry_index < seen:
            return i
    raise IndexError(entry_index)


# --- an independent time grid --------------------------------------------------------------------


def _month_floor(ts: float) -> datetime:
    moment = datetime.fromtimestamp(ts, UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _next_month(moment: datetime) -> datetime:
    return datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)


def bucket_starts(start: float, end: float, granularity: str) -> list[int]:
    if granularity == "month":
        out, moment = [], _month_floor(start)
        while moment.timestamp() < end:
            out.append(int(moment.timestamp()))
            moment = _next_month(moment)
        return out
    step = {"second": 1, "minute": 60, "hour": HOUR, "day": DAY, "week": 7 * DAY}[granularity]
    origin = T0 if granularity == "week" else 0  # T0 is a Monday
    first = origin + math.floor((start - origin) / step) * step
    return list(range(int(first), int(end), step))


def grid_end(starts: list[int], granularity: str) -> int:
    if granularity == "month":
        return int(_next_month(datetime.fromtimestamp(starts[-1], UTC)).timestamp())
    step = {"second": 1, "minute": 60, "hour": HOUR, "day": DAY, "week": 7 * DAY}[granularity]
    return starts[-1] + step


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Grid:
    def __init__(self, start: float, end: float, granularity: str) -> None:
        self.starts = bucket_starts(start, end, granularity)
        self.start, self.end = self.starts[0], grid_end(self.starts, granularity)

    def floor(self, ts: float) -> int:
        return max(s for s in self.starts if s <= ts)

    def buckets(self, records: Iterable[EventRecord]) -> list[list[EventRecord]]:
        out: list[list[EventRecord]] = [[] for _ in self.starts]
        for r in records:
            t = r.timestamp.timestamp()
            if self.start <= t < self.end:
                out[self.starts.index(self.floor(t))].append(r)
        return out


# --- the oracle: raw events -> expected records -----------------------------------------------------


def keep(records: Iterable[EventRecord], ctx: dict[str, list[int]]) -> list[EventRecord]:
    """Context filters on raw events (null ids never match a filter)."""
    columns = {
        "orgId": "org_id",
        "projectId": "project_id",
        "taskId": "task_id",
        "datasetId": "task_id",
        "jobId": "job_id",
        "assignmentId": "job_id",
        "userId": "user_id",
    }
    return [r for r in records if all(not ids or getattr(r, columns[k]) in ids for k, ids in ctx.items())]


def is_scope(*scopes: str) -> Callable[[EventRecord], bool]:
    return lambda r: r.scope in scopes


def is_change(scope: str, name: str, value: str) -> Callable[[EventRecord], bool]:
    return lambda r: r.scope == scope and r.obj_name == name and r.obj_val == value


WT = is_scope("send:working_time")
LOAD = is_scope("load:job")
STATE = {s: is_change("update:job", "state", s) for s in ("new", "in progress", "rejected", "completed")}
RESOLVED = is_change("update:issue", "resolved", "true")
REOPENED = is_change("update:issue", "resolved", "false")
CREATED = is_scope("create:issue")
ACTIONS = {
    "objects_drawn": is_scope("draw:object"),
    "objects_pasted": is_scope("paste:object"),
    "objects_deleted": is_scope("delete:object"),
    "object_edits": is_scope("drag:object", "resize:object", "change:attribute", "change:label"),
}


def n(records, pred) -> int:
    return sum(1 for r in records if pred(r))


def wt(records) -> int:
    return sum(r.duration for r in records if WT(r))


def m(name: str) -> Callable[[list[EventRecord]], Any]:
    return lambda rs: metric_total(rs, name)


def kpi(name: str) -> Callable[[list[EventRecord]], Any]:
    return lambda rs: KPIS[name].compute(totals(rs, KPIS[name].metrics))


def count(pred) -> Callable[[list[EventRecord]], int]:
    return lambda rs: n(rs, pred)


TIMELINES: dict[str, dict[str, Callable]] = {
    "annotationTimeline": {
        "objectsDrawn": m("objects_drawn"),
        "objectsPasted": m("objects_pasted"),
        "objectsDeleted": m("objects_deleted"),
        "objectEdits": m("object_edits"),
        "annotationsSaved": m("annotations_saved_server"),
        "drawDuration": m("draw_duration_ms"),
    },
    "itemStatusTimeline": {
        "new": count(STATE["new"]),
        "inProgress": count(STATE["in progress"]),
        "rejected": count(STATE["rejected"]),
        "completed": count(STATE["completed"]),
    },
    "issueTimeline": {"created": count(CREATED), "resolved": count(RESOLVED), "reopened": count(REOPENED)},
    "executionOverTime": {"executions": count(is_scope("call:function"))},
    "exceptionsOverTime": {
        "client": count(lambda r: r.scope == "send:exception" and r.source == "client"),
        "server": count(lambda r: r.scope == "send:exception" and r.source == "server"),
        "total": count(is_scope("send:exception")),
        "perThousandEvents": lambda rs: (1000 * n(rs, is_scope("send:exception")) / len(rs)) if rs else None,
    },
    "objectsPerWorkingHour": {
        "objectsDrawn": m("objects_drawn"),
        "workingTime": wt,
        "objectsPerWorkingHour": kpi("objects_per_working_hour"),
    },
}

SINGLES: dict[str, dict[str, Callable]] = {
    "labelingCounters": {
        "objectsDrawn": m("objects_drawn"),
        "objectsPasted": m("objects_pasted"),
        "objectsDeleted": m("objects_deleted"),
        "objectEdits": m("object_edits"),
        "annotationsSaved": m("annotations_saved_server"),
        "framesChanged": m("frames_changed"),
        "drawDuration": m("draw_duration_ms"),
        "avgDrawTime": kpi("avg_draw_time_ms"),
    },
    "userStatsTotalActivityTime": {"activityDuration": wt},
    "userStatsStudioTime": {"activityDuration": wt},
    "annotationWholeTime": {"totalTime": wt},
    "annotationCounters": {
        "totalTime": wt,
        "jobs": lambda rs: len({r.job_id for r in rs if WT(r) and r.job_id}),
        "avgItemAnnotationTime": kpi("working_time_per_job_ms"),
        "objectsDrawn": m("objects_drawn"),
        "avgAnnotationTime": kpi("avg_draw_time_ms"),
    },
    "issueCounters": {
        "created": count(CREATED),
        "resolved": count(RESOLVED),
        "reopened": count(REOPENED),
        "resolutionRate": lambda rs: (100 * n(rs, RESOLVED) / n(rs, CREATED)) if n(rs, CREATED) else None,
    },
}


def groups(records, key) -> dict[Any, list[EventRecord]]:
    out: dict[Any, list[EventRecord]] = defaultdict(list)
    for r in records:
        out[key(r)].append(r)
    return out


def quantile(values: list[int], level: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(level * len(ordered)))]


def duration_stats(rs: list[EventRecord]) -> dict[str, Any]:
    durations = [r.duration for r in rs]
    return {
        "totalDuration": sum(durations),
        "minDuration": min(durations),
        "p50Duration": quantile(durations, 0.5),
        "p90Duration": quantile(durations, 0.9),
        "maxDuration": max(durations),
    }


def job_ids(r: EventRecord) -> dict[str, Any]:
    return {"jobId": r.job_id, "taskId": r.task_id, "projectId": r.project_id}


def expected_lists(rs: list[EventRecord], grid: Grid, names: dict[int, str | None]) -> dict[str, list[dict]]:
    """Expected records of the list measures, from the events in range and in context."""
    out: dict[str, list[dict]] = {}
    users = groups([r for r in rs if r.user_id], lambda r: r.user_id)
    out["activeUsers"] = [
        {
            "userId": u,
            "userName": names.get(u),
            "events": len(e),
            "workingTime": wt(e),
            "firstActivity": iso(grid.floor(min(r.timestamp.timestamp() for r in e))),
            "lastActivity": iso(grid.floor(max(r.timestamp.timestamp() for r in e))),
        }
        for u, e in users.items()
    ]
    wt_events = [r for r in rs if WT(r)]
    by_job = groups([r for r in wt_events if r.job_id], lambda r: (r.job_id, r.task_id, r.project_id))
    out["itemAnnotationDuration"] = [
        {"jobId": j, "taskId": t, "projectId": p, "itemId": j, "duration": wt(e)}
        for (j, t, p), e in by_job.items()
    ]
    out["assignmentStatsItemTotalTime"] = [
        {"jobId": j, "taskId": t, "projectId": p, "itemId": j, "totalTime": wt(e)}
        for (j, t, p), e in by_job.items()
    ]
    out["assignmentStatsItemActiveTimeStats"] = [
        {
            "jobId": j,
            "itemId": j,
            "taskId": t,
            "projectId": p,
            "events": len(e),
            "avgDuration": wt(e) / len(e),
            **duration_stats(e),
        }
        for (j, t, p), e in by_job.items()
    ]
    by_user_wt = groups(wt_events, lambda r: r.user_id)
    out["avgItemAnnotationTimePerAnnotator"] = [
        {
            "userId": u,
            "userName": names.get(u) if u else None,
            "avgTime": (wt(e) / len({r.job_id for r in e if r.job_id})) if any(r.job_id for r in e) else None,
            "totalTime": wt(e),
            "jobs": len({r.job_id for r in e if r.job_id}),
        }
        for u, e in by_user_wt.items()
        if wt(e) > 0
    ]
    out["userStatsActivityTime"] = [
        {
            "userId": u,
            "userName": names.get(u) if u else None,
            "activityStatus": "active",
            "activityDuration": wt(e),
        }
        for u, e in by_user_wt.items()
        if wt(e) > 0
    ]
    for name in ("assignmentStatsActiveTime", "assignmentStatsStudioActiveTime"):
        out[name] = [
            {"jobId": j, "userId": u, "activeTime": wt(e)}
            for (j, u), e in groups(
                [r for r in wt_events if r.job_id], lambda r: (r.job_id, r.user_id)
            ).items()
            if wt(e) > 0
        ]
    out["userStatsTaskActivityTime"] = [
        {"userId": u, "taskId": t, "projectId": p, "duration": wt(e)}
        for (u, t, p), e in groups(wt_events, lambda r: (r.user_id, r.task_id, r.project_id)).items()
        if wt(e) > 0
    ]
    opens = groups(
        [r for r in rs if LOAD(r) and r.job_id], lambda r: (r.job_id, r.task_id, r.project_id, r.user_id)
    )
    out["assignmentStartTime"] = [
        {
            "jobId": j,
            "taskId": t,
            "projectId": p,
            "userId": u,
            "opens": len(e),
            "startTime": iso(grid.floor(min(r.timestamp.timestamp() for r in e))),
            "lastOpenTime": iso(grid.floor(max(r.timestamp.timestamp() for r in e))),
        }
        for (j, t, p, u), e in opens.items()
    ]
    completions = groups([r for r in rs if STATE["completed"](r)], lambda r: r.user_id)
    out["jobsCompletedPerUser"] = [
        {"userId": u, "userName": names.get(u) if u else None, "jobsCompleted": len(e)}
        for u, e in completions.items()
    ]
    changes = groups([r for r in rs if r.job_id and any(p(r) for p in STATE.values())], lambda r: r.job_id)
    out["assignmentStatsCompletedStatus"] = []
    for j, e in changes.items():
        last = max(e, key=lambda r: r.timestamp)
        out["assignmentStatsCompletedStatus"].append(
            {
                "jobId": j,
                "itemId": j,
                "taskId": last.task_id,
                "projectId": last.project_id,
                "state": last.obj_val,
                "stateTime": iso(grid.floor(last.timestamp.timestamp())),
                "stateUserId": last.user_id,
                **{
                    f: n(e, STATE[s])
                    for s, f in (
                        ("new", "new"),
                        ("in progress", "inProgress"),
                        ("rejected", "rejected"),
                        ("completed", "completed"),
                    )
                },
            }
        )
    out["assignmentStatsAnnotationActionTimeStats"] = []
    for action, pred in ACTIONS.items():
        for (j, t, p), e in groups(
            [r for r in rs if pred(r) and r.job_id], lambda r: (r.job_id, r.task_id, r.project_id)
        ).items():
            units = sum(1 if r.count is None else r.count for r in e)
            out["assignmentStatsAnnotationActionTimeStats"].append(
                {
                    "jobId": j,
                    "itemId": j,
                    "taskId": t,
                    "projectId": p,
                    "action": action,
                    "events": len(e),
                    "actions": units,
                    "avgDuration": sum(r.duration for r in e) / units,
                    **duration_stats(e),
                }
            )
    exceptions = groups(
        [r for r in rs if r.scope == "send:exception"],
        lambda r: (r.source, (r.payload or {}).get("status_code")),
    )
    out["exceptionsByStatusCode"] = [
        {"source": s, "statusCode": code, "exceptions": len(e)} for (s, code), e in exceptions.items()
    ]
    return out


def issue_creations(all_records, org_ids, end: float) -> dict[int, datetime]:
    out: dict[int, datetime] = {}
    for r in all_records:
        in_orgs = org_ids is None or r.org_id in org_ids
        if CREATED(r) and r.obj_id is not None and r.timestamp.timestamp() < end and in_orgs:
            out[r.obj_id] = min(out.get(r.obj_id, r.timestamp), r.timestamp)
    return out


def ms_between(a: datetime, b: datetime) -> int:
    return round((b - a).total_seconds() * 1000)


def expected_resolve_time(all_records, rs, grid: Grid, org_ids) -> list[dict]:
    created = issue_creations(all_records, org_ids, grid.end)
    out = []
    for bucket, events in zip(grid.starts, grid.buckets(rs), strict=True):
        times = [
            ms_between(created[r.obj_id], r.timestamp)
            for r in events
            if RESOLVED(r) and r.obj_id in created and created[r.obj_id] <= r.timestamp
        ]
        out.append(
            {
                "time": iso(bucket),
                "resolved": n(events, RESOLVED),
                "measured": len(times),
                "totalResolveTime": sum(times),
                "avgResolveTime": sum(times) / len(times) if times else None,
                "maxResolveTime": max(times) if times else None,
            }
        )
    return out


def expected_corrections(all_records, rs, grid: Grid, org_ids) -> list[dict]:
    def in_orgs(r):
        return org_ids is None or r.org_id in org_ids

    window = in_range(all_records, grid.start, grid.end)
    out = []
    for issue, e in groups(
        [r for r in rs if CREATED(r) and r.obj_id is not None], lambda r: r.obj_id
    ).items():
        first = min(e, key=lambda r: r.timestamp)
        saves = [
            r.timestamp
            for r in window
            if is_scope("save:job")(r)
            and in_orgs(r)
            and r.job_id == first.job_id
            and r.job_id
            and r.timestamp > first.timestamp
        ]
        resolves = [
            r.timestamp
            for r in window
            if RESOLVED(r) and in_orgs(r) and r.obj_id == issue and r.timestamp >= first.timestamp
        ]
        corrected, resolved = min(saves, default=None), min(resolves, default=None)
        out.append(
            {
                "issueId": issue,
                "jobId": first.job_id,
                "taskId": first.task_id,
                "projectId": first.project_id,
                "raisedBy": first.user_id,
                "createdAt": iso(grid.floor(first.timestamp.timestamp())),
                "correctedAt": iso(grid.floor(corrected.timestamp())) if corrected else None,
                "correctionTime": ms_between(first.timestamp, corrected) if corrected else None,
                "resolvedAt": iso(grid.floor(resolved.timestamp())) if resolved else None,
                "resolveTime": ms_between(first.timestamp, resolved) if resolved else None,
            }
        )
    return out


def histogram(rs: list[EventRecord], grid: Grid, edges=(60_000, 300_000, 900_000, 3_600_000)) -> list[dict]:
    per_job = groups([r for r in rs if WT(r) and r.job_id], lambda r: r.job_id)
    lows = (0, *edges)
    counts = defaultdict(int)
    for e in per_job.values():
        total = wt(e)
        slot = sum(1 for edge in edges if total >= edge)
        counts[(grid.floor(max(r.timestamp.timestamp() for r in e)), slot)] += 1
    return [
        {
            "time": iso(b),
            "bucket": f"{low}-{edges[s]}" if s < len(edges) else f"{low}+",
            "minDuration": low,
            "maxDuration": edges[s] if s < len(edges) else None,
            "count": counts[(b, s)],
        }
        for b in grid.starts
        for s, low in enumerate(lows)
    ]


def canonical(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: repr(sorted(r.items(), key=lambda kv: kv[0])))


ALL_MEASURES = [
    {"measureType": name, "pageSize": 0}
    for name in MEASURES
    if name not in ("userStatsActivityTimeByField", "userStatsActivityTimeByRole", "issuePerAnnotator")
] + [
    {
        "measureType": "userStatsActivityTimeByField",
        "pageSize": 0,
        "params": {"groupByFields": ["taskId", "itemId", "userId"]},
    },
]


def check_entry(entry: dict, all_records, ctx: dict, start: float, end: float, org_ids) -> None:
    """One entry of the answer against the raw events."""
    name, granularity = entry["measureType"], entry["timeGranularity"]
    grid = Grid(start, end, granularity)
    assert (entry["startTime"], entry["endTime"]) == (iso(grid.start), iso(grid.end)), name
    rs = in_range(keep(all_records, ctx), grid.start, grid.end)
    got = entry["response"]
    assert entry["totalCount"] == len(got) and entry["hasNext"] is False
    assert all(
        list(r) == list(MEASURES[name].record_fields({"groupByFields": ["taskId", "itemId", "userId"]}))
        for r in got
    ), name
    where = f"{name} by {granularity}"
    if name in TIMELINES:
        expected = [
            {"time": iso(b), **{f: fn(bucket) for f, fn in TIMELINES[name].items()}}
            for b, bucket in zip(grid.starts, grid.buckets(rs), strict=True)
        ]
        assert got == expected, where
    elif name in SINGLES:
        assert got == [{f: fn(rs) for f, fn in SINGLES[name].items()}], where
    elif name == "countItemInAnnotationTimeBucket":
        assert got == histogram(rs, grid), where
    elif name == "issueResolveTime":
        assert got == expected_resolve_time(all_records, rs, grid, org_ids), where
    elif name == "issueCorrectionTime":
        assert canonical(got) == canonical(expected_corrections(all_records, rs, grid, org_ids)), where
    elif name == "userStatsActivityTimeByField":
        expected = [
            {"taskId": t, "itemId": j, "userId": u, "activityStatus": "active", "duration": wt(e)}
            for (t, j, u), e in groups(
                [r for r in rs if WT(r)], lambda r: (r.task_id, r.job_id, r.user_id)
            ).items()
            if wt(e) > 0
        ]
        assert canonical(got) == canonical(expected), where
    else:
        expected = expected_lists(rs, grid, {})[name]
        assert canonical(got) == canonical(expected), where


CONTEXTS = [
    ({}, None),
    ({"orgId": [1]}, (1,)),
    ({"projectId": [100, 201], "userId": [12, 13]}, None),
    ({"assignmentId": [10000, 10001, 20111], "taskId": []}, None),
    ({"datasetId": [1000, 2011]}, None),  # Dataloop's name for tasks
]


@pytest.mark.parametrize(
    ("ctx", "org_ids"), CONTEXTS, ids=["all", "org", "projects+users", "jobs", "datasets"]
)
def test_every_measure_equals_the_raw_events(root, seeded, ctx, org_ids):
    """Every measure by minute (raw events), hour and day (rollups) over an unaligned range: each
    grid is widened to its own whole buckets, and every record matches the raw events."""
    start, end = T0 + 10 * 60 + 17.5, T0 + DAY - 5 * 60
    body = {
        "startTime": start * 1000,
        "endTime": iso(end) if ctx else end * 1000,
        "context": ctx,
        "measures": [{**measure, "timeGranularity": ["minute", "hour", "day"]} for measure in ALL_MEASURES],
    }
    status, entries = post(root, body)
    assert status == 200, entries
    assert [(e["measureType"], e["timeGranularity"]) for e in entries] == [
        (m["measureType"], g) for m in ALL_MEASURES for g in ("minute", "hour", "day")
    ]
    for entry in entries:
        check_entry(entry, seeded, ctx, start, end, org_ids)


def test_seconds_weeks_and_months(root, seeded):
    """Second buckets (raw events) and calendar buckets: weeks from Monday, months; every bucket
    of the widened range present, in order."""
    cases = [
        (T0 + 3 * HOUR + 7, T0 + 3 * HOUR + 1500, ["second"]),
        (T0 - 20 * DAY, T0 + 2 * DAY, ["week", "month"]),
    ]
    measures = [
        "annotationTimeline",
        "itemStatusTimeline",
        "issueResolveTime",
        "countItemInAnnotationTimeBucket",
        "activeUsers",
        "userStatsTotalActivityTime",
        "assignmentStartTime",
    ]
    for start, end, granularities in cases:
        body = {
            "startTime": iso(start),
            "endTime": end * 1000,
            "measures": [
                {"measureType": name, "pageSize": 0, "timeGranularity": granularities} for name in measures
            ],
        }
        status, entries = post(root, body)
        assert status == 200, entries
        for entry in entries:
            check_entry(entry, seeded, {}, start, end, None)
    weeks = Grid(T0 - 20 * DAY, T0 + 2 * DAY, "week").starts
    assert [datetime.fromtimestamp(w, UTC).weekday() for w in weeks] == [0] * len(weeks) == [0, 0, 0, 0]
    months = [
        e for e in entries if e["timeGranularity"] == "month" and e["measureType"] == "annotationTimeline"
    ]
    assert [r["time"] for r in months[0]["response"]] == ["2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"]
    assert months[0]["response"][0]["objectsDrawn"] == 0  # zero-filled: no event in October


def test_minute_buckets_add_up_to_the_hour_buckets(root, seeded):
    """Raw events (minute) and rollup_1h (hour) are two paths to the same sums."""
    body = {
        "startTime": T0 * 1000,
        "endTime": (T0 + DAY) * 1000,
        "measures": [
            {"measureType": "annotationTimeline", "pageSize": 0, "timeGranularity": ["minute", "hour"]}
        ],
    }
    status, (minutes, hours) = post(root, body)
    assert status == 200
    by_minute = pd.DataFrame(minutes["response"])
    by_hour = pd.DataFrame(hours["response"])
    by_minute["time"] = pd.to_datetime(by_minute["time"]).dt.floor("h")
    rolled = by_minute.groupby("time").sum().reset_index()
    by_hour["time"] = pd.to_datetime(by_hour["time"])
    pd.testing.assert_frame_equal(rolled, by_hour, check_dtype=False)
    assert len(by_minute) == 1440 and len(by_hour) == 24


# --- the reference payloads ------------------------------------------------------------------------


def test_reference_active_users_example(root, seeded, django_user_model):
    """`{"startTime": project.created_at, "endTime": None, "context": {"projectId": [id]},
    "measures": [{"measureType": "activeUsers"}]}`: the project's active users, default hour."""
    # user 12 of the generated events has an account (a name to show); the others do not
    named = django_user_model.objects.create_user("annotator-12", "a@example.com", None, id=12)
    created_at = "2026-11-02T08:13:27.532Z"
    payload = {
        "startTime": created_at,
        "endTime": None,
        "context": {"projectId": [100]},
        "measures": [{"measureType": "activeUsers"}],
    }
    status, samples = post(root, payload)
    assert status == 200, samples
    (entry,) = samples
    assert entry["measureType"] == "activeUsers" and entry["timeGranularity"] == "hour"
    assert entry["page"] == 0 and entry["hasNext"] is False
    df = pd.DataFrame(entry["response"])
    start = datetime.fromisoformat(created_at.replace("Z", "+00:00")).timestamp()
    grid = Grid(start, datetime.now(UTC).timestamp(), "hour")
    rs = in_range(keep(seeded, {"projectId": [100]}), grid.start, grid.end)
    names = {named.pk: named.username}
    expected = expected_lists(rs, grid, names)["activeUsers"]
    assert sorted(df["userId"]) == sorted(e["userId"] for e in expected)
    assert list(df.columns) == [
        "userId",
        "userName",
        "events",
        "workingTime",
        "firstActivity",
        "lastActivity",
    ]
    assert canonical(entry["response"]) == canonical(expected)
    assert list(df["lastActivity"]) == sorted(df["lastActivity"], reverse=True)  # default: latest first
    # KPI active_users over the same range and scope: the number of records
    kpi_body = root.get(
        "/api/analytics/kpis/values",
        {"start_timestamp": grid.start, "end_timestamp": grid.end, "kpis": "active_users", "project_id": 100},
    ).json()
    assert kpi_body["kpis"][0]["aggregate"] == len(df)


# The tutorial's own call; pandas 3 deprecates from_dict on a list of records (it still works).
@pytest.mark.filterwarnings("ignore:Passing a list to DataFrame.from_dict")
def test_reference_two_granularity_example(root, seeded):
    """The tutorial's countItemInAnnotationTimeBucket query, hour and day, read into two DataFrames
    without paging (the entries hold every record). Its `datasetId` is a task here."""
    created_at = "2026-11-02T00:00:00.000Z"
    ctx = {"projectId": [100], "datasetId": [1000]}
    payload = {
        "startTime": created_at,
        "endTime": None,
        "context": ctx,
        "measures": [
            {
                "measureType": "countItemInAnnotationTimeBucket",
                "sortDirection": "descending",
                "timeGranularity": ["hour", "day"],
            }
        ],
    }
    status, samples = post(root, payload)
    assert status == 200, samples
    assert [s["timeGranularity"] for s in samples] == ["hour", "day"]
    assert all(not s["hasNext"] and s["totalCount"] == len(s["response"]) for s in samples)
    assert len(samples[0]["response"]) > 1000  # more than a page used to hold: nothing cut
    hour_df = day_df = None
    if samples[0]["response"]:
        hour_df = pd.DataFrame.from_dict(data=samples[0]["response"])
    if samples[1]["response"]:
        day_df = pd.DataFrame.from_dict(data=samples[1]["response"])
    assert hour_df is not None and day_df is not None
    assert list(hour_df.columns) == ["time", "bucket", "minDuration", "maxDuration", "count"]

    start = datetime.fromisoformat(created_at.replace("Z", "+00:00")).timestamp()
    now = datetime.now(UTC).timestamp()
    for df, granularity in ((hour_df, "hour"), (day_df, "day")):
        grid = Grid(start, now, granularity)
        assert len(df) == 5 * len(grid.starts)  # every bucket x every bin: zero-filled
        assert list(df["time"]) == sorted(df["time"], reverse=True)  # sortDirection descending
        rs = in_range(keep(seeded, ctx), grid.start, grid.end)
        expected = pd.DataFrame(histogram(rs, grid))
        pd.testing.assert_frame_equal(
            df.sort_values(["time", "minDuration"]).reset_index(drop=True),
            expected.sort_values(["time", "minDuration"]).reset_index(drop=True),
        )
    # each job counted once, at the time of its last work: both tables hold the same histogram
    assert (
        hour_df.groupby("bucket")["count"].sum().to_dict()
        == day_df.groupby("bucket")["count"].sum().to_dict()
    )
    jobs_worked = len({r.job_id for r in keep(seeded, ctx) if WT(r) and r.job_id})
    assert hour_df["count"].sum() == jobs_worked


# --- agreement with the KPI endpoints ----------------------------------------------------------------


def test_numbers_equal_the_kpi_endpoints(root, seeded):
    body = {
        "startTime": T0 * 1000,
        "endTime": (T0 + 2 * DAY) * 1000,
        "context": {"orgId": [1]},
        "measures": [
            {"measureType": "objectsPerWorkingHour"},
            {"measureType": "exceptionsOverTime", "timeGranularity": "day"},
            {"measureType": "issueCounters"},
            {"measureType": "labelingCounters"},
            {"measureType": "itemAnnotationDuration", "pageSize": 0},
            {"measureType": "activeUsers", "pageSize": 0},
            {"measureType": "userStatsTotalActivityTime"},
            {"measureType": "jobsCompletedPerUser", "pageSize": 0},
        ],
    }
    status, entries = post(root, body)
    assert status == 200, entries
    by_name = {e["measureType"]: e["response"] for e in entries}

    def kpis(bucket: str, *names: str) -> dict[str, dict]:
        response = root.get(
            "/api/analytics/kpis/values",
            {
                "start_timestamp": T0,
                "end_timestamp": T0 + 2 * DAY,
                "bucket": bucket,
                "org_id": 1,
                "kpis": list(names),
            },
        )
        assert response.status_code == 200
        return {row["kpi"]: row for row in response.json()["kpis"]}

    hourly = kpis("1h", "objects_per_working_hour", "working_hours", "objects_drawn")
    assert [r["objectsPerWorkingHour"] for r in by_name["objectsPerWorkingHour"]] == hourly[
        "objects_per_working_hour"
    ]["values"]
    assert [r["objectsDrawn"] for r in by_name["objectsPerWorkingHour"]] == hourly["objects_drawn"]["values"]
    daily = kpis("1d", "exceptions", "exceptions_per_1k_events")
    assert [r["total"] for r in by_name["exceptionsOverTime"]] == daily["exceptions"]["values"]
    assert [r["perThousandEvents"] for r in by_name["exceptionsOverTime"]] == daily[
        "exceptions_per_1k_events"
    ]["values"]
    whole = kpis(
        "1d",
        "issue_resolution_rate",
        "issues_created",
        "avg_draw_time_ms",
        "working_time_per_job_ms",
        "active_users",
        "working_hours",
        "jobs_completed",
    )
    assert by_name["issueCounters"][0]["resolutionRate"] == whole["issue_resolution_rate"]["aggregate"]
    assert by_name["issueCounters"][0]["created"] == whole["issues_created"]["aggregate"]
    assert by_name["labelingCounters"][0]["avgDrawTime"] == whole["avg_draw_time_ms"]["aggregate"]
    assert len(by_name["activeUsers"]) == whole["active_users"]["aggregate"]
    total = by_name["userStatsTotalActivityTime"][0]["activityDuration"]
    assert total / 3_600_000 == whole["working_hours"]["aggregate"]
    assert (
        sum(r["jobsCompleted"] for r in by_name["jobsCompletedPerUser"])
        == whole["jobs_completed"]["aggregate"]
    )
    # working time per job: all working time (some has no job) over the jobs listed
    jobs = by_name["itemAnnotationDuration"]
    assert total / len(jobs) == whole["working_time_per_job_ms"]["aggregate"]
    job_less = wt([r for r in in_range(keep(seeded, {"orgId": [1]}), T0, T0 + 2 * DAY) if r.job_id is None])
    assert sum(j["duration"] for j in jobs) == total - job_less > 0


# --- paging and sorting ---------------------------------------------------------------------------


def test_pages_cover_every_record_once_in_a_stable_order(root, seeded):
    base = {"startTime": T0 * 1000, "endTime": (T0 + 2 * DAY) * 1000}
    status, (everything,) = post(
        root, {**base, "measures": [{"measureType": "assignmentStatsActiveTime", "pageSize": 0}]}
    )
    assert status == 200
    records = everything["response"]
    times = [r["activeTime"] for r in records]
    assert times == sorted(times, reverse=True) and len(records) > 10
    paged, page = [], 0
    while True:
        status, (entry,) = post(
            root,
            {**base, "measures": [{"measureType": "assignmentStatsActiveTime", "page": page, "pageSize": 7}]},
        )
        assert status == 200 and entry["page"] == page and entry["pageSize"] == 7
        assert entry["totalCount"] == len(records)
        paged += entry["response"]
        if not entry["hasNext"]:
            break
        assert len(entry["response"]) == 7
        page += 1
    assert paged == records
    assert page == (len(records) - 1) // 7
    status, (beyond,) = post(
        root,
        {**base, "measures": [{"measureType": "assignmentStatsActiveTime", "page": page + 1, "pageSize": 7}]},
    )
    assert beyond["response"] == [] and beyond["hasNext"] is False
    status, (ascending,) = post(
        root,
        {
            **base,
            "measures": [
                {"measureType": "assignmentStatsActiveTime", "pageSize": 0, "sortDirection": "ascending"}
            ],
        },
    )
    values = [r["activeTime"] for r in ascending["response"]]
    assert values == sorted(values)
    assert canonical(ascending["response"]) == canonical(records)


def test_nulls_sort_last_in_both_directions(root, clickhouse):
    """avgTime is null for a user whose working time has no job."""
    moment = START + timedelta(hours=1)
    insert_events(
        clickhouse,
        [
            EventRecord("send:working_time", moment, duration=5000, user_id=1, org_id=1),
            EventRecord("send:working_time", moment, duration=7000, user_id=2, org_id=1, job_id=5, task_id=6),
            EventRecord("send:working_time", moment, duration=9000, user_id=3, org_id=1, job_id=7, task_id=6),
        ],
    )
    for direction, order in (("descending", [3, 2, 1]), ("ascending", [2, 3, 1])):
        status, (entry,) = post(
            root,
            {
                "startTime": T0 * 1000,
                "endTime": (T0 + DAY) * 1000,
                "measures": [
                    {"measureType": "avgItemAnnotationTimePerAnnotator", "sortDirection": direction}
                ],
            },
        )
        assert status == 200
        assert [r["userId"] for r in entry["response"]] == order
        assert entry["response"][-1]["avgTime"] is None and entry["response"][-1]["totalTime"] == 5000


def test_an_empty_scope_gives_zero_filled_timelines_and_empty_lists(root, clickhouse):
    status, entries = post(
        root,
        {
            "startTime": T0 * 1000,
            "endTime": (T0 + DAY) * 1000,
            "measures": [
                {"measureType": "issueTimeline", "timeGranularity": "hour"},
                {"measureType": "activeUsers"},
                {"measureType": "userStatsStudioTime", "pageSize": 0},
                {"measureType": "objectsPerWorkingHour", "timeGranularity": "day"},
            ],
        },
    )
    assert status == 200
    timeline, users, studio, per_hour = entries
    assert len(timeline["response"]) == 24
    assert all(
        r == {"time": r["time"], "created": 0, "resolved": 0, "reopened": 0} for r in timeline["response"]
    )
    assert users["response"] == [] and users["hasNext"] is False
    assert studio["response"] == [{"activityDuration": 0}]
    assert per_hour["response"] == [
        {"time": iso(T0), "objectsDrawn": 0, "workingTime": 0, "objectsPerWorkingHour": None}
    ]


def test_reads_are_shared_between_measures(root, seeded, monkeypatch):
    """Measures of the same shape are answered by one query over the union of their metrics."""
    from analytics.query import fetch

    calls = []
    original = fetch.Fetcher._query

    def spy(self, name, params):
        calls.append(name)
        return original(self, name, params)

    monkeypatch.setattr(fetch.Fetcher, "_query", spy)
    names = (
        "annotationTimeline",
        "itemStatusTimeline",
        "issueTimeline",
        "exceptionsOverTime",
        "executionOverTime",
        "userStatsTotalActivityTime",
        "labelingCounters",
        "issueCounters",
        "userStatsActivityTime",
        "activeUsers",
    )
    measures = [{"measureType": name} for name in names] + [
        {"measureType": "itemAnnotationDuration", "timeGranularity": "hour"},
        {"measureType": "countItemInAnnotationTimeBucket", "timeGranularity": "day"},
        {"measureType": "assignmentStatsItemTotalTime", "timeGranularity": ["hour", "day"]},
    ]
    status, _ = post(root, {"startTime": T0 * 1000, "endTime": (T0 + DAY) * 1000, "measures": measures})
    assert status == 200
    # timelines by hour: 1; whole-range totals: 1; per user: 1; per job, whatever the granularity
    # (a whole-range read depends on the range only, here one whole day by hour and by day): 1
    assert calls == ["sums_rollup"] * 4
