"""Shared by the analytics tests: random events shaped like the real ones, written straight into
`events` (the materialized views fill the rollups), and an oracle that computes every metric from
the raw events in plain Python, independently of ClickHouse. (No tests in this module.)"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from analytics.registry import ALL_METRICS, ALL_SCOPES, STATUS_FIELDS, DistinctMetric, Metric
from events.record import EventRecord
from shipping.sinks import INSERT_SETTINGS

CLIENT_SCOPES = [
    ("draw:object", 30),
    ("change:frame", 20),
    ("drag:object", 8),
    ("resize:object", 8),
    ("paste:object", 4),
    ("delete:object", 4),
    ("change:attribute", 3),
    ("change:label", 2),
    ("load:job", 2),
    ("save:job", 2),
    ("send:exception", 1),
    ("zoom:image", 3),
]
SERVER_SCOPES = [
    ("send:working_time", 20),
    ("update:job", 6),
    ("create:issue", 3),
    ("update:issue", 3),
    ("create:task", 1),
    ("send:exception", 1),
    ("create:shapes", 2),
    ("update:task", 1),
    ("call:function", 1),
]


@dataclass(frozen=True)
class World:
    """Which ids exist: organizations, each with projects -> tasks -> jobs, and users."""

    org_ids: tuple[int, ...] = (1, 2)
    users: tuple[int, ...] = (11, 12, 13, 14)
    projects_per_org: int = 2
    tasks_per_project: int = 2
    jobs_per_task: int = 2

    def jobs(self) -> list[tuple[int, int | None, int, int]]:
        """(org_id, project_id, task_id, job_id) for every job; org 0 / project None also occur."""
        out = []
        for o, org in enumerate(self.org_ids):
            for p in range(self.projects_per_org):
                project = 100 * (o + 1) + p
                for t in range(self.tasks_per_project):
                    task = 10 * project + t
                    for j in range(self.jobs_per_task):
                        out.append((org, project, task, 10 * task + j))
        # a standalone task (no project) in the first organization
        out.append((self.org_ids[0], None, 99_001, 990_011))
        return out


def random_events(
    rng: random.Random,
    n: int,
    start: datetime,
    span: timedelta,
    world: World | None = None,
    with_orgless: bool = True,
) -> list[EventRecord]:
    world = world or World()
    jobs = world.jobs()
    span_ms = int(span.total_seconds() * 1000)
    client_scopes, client_weights = zip(*CLIENT_SCOPES, strict=True)
    server_scopes, server_weights = zip(*SERVER_SCOPES, strict=True)
    records = []
    for _ in range(n):
        moment = start + timedelta(milliseconds=rng.randrange(span_ms))
        org, project, task, job = rng.choice(jobs)
        user: int | None = rng.choice(world.users)
        if rng.random() < 0.5:
            source, scope = "client", rng.choices(client_scopes, client_weights)[0]
        else:
            source, scope = "server", rng.choices(server_scopes, server_weights)[0]
        record = EventRecord(
            scope=scope,
            timestamp=moment,
            source=source,
            org_id=org,
            project_id=project,
            task_id=task,
            job_id=job,
            user_id=user,
            user_name=f"user{user}",
        )
        if scope in ("draw:object", "paste:object", "delete:object", "create:shapes"):
            record.count = rng.choice([None, 1, 1, 2, 5])
            record.duration = rng.randrange(0, 8000)
        elif scope == "change:frame":
            record.count = rng.choice([1, 3])
            record.duration = rng.randrange(0, 3000)
        elif scope == "send:working_time":
            record.duration = rng.randrange(1000, 300_000)
            record.count = 1
            record.payload = {"working_time": record.duration}
        elif scope == "update:job":
            record.obj_name, record.obj_val = rng.choice(
                [
                    ("state", "completed"),
                    ("state", "completed"),
                    ("state", "rejected"),
                    ("state", "in progress"),
                    ("stage", "validation"),
                    ("assignee", "12"),
                ]
            )
        elif scope == "update:issue":
            record.obj_name, record.obj_val = rng.choice(
                [("resolved", "true"), ("resolved", "false"), ("frame", "3")]
            )
        elif scope == "update:task":
            record.obj_name, record.obj_val = ("status", "annotation")
        elif scope in ("drag:object", "resize:object"):
            record.duration = rng.randrange(0, 2000)
        if with_orgless and rng.random() < 0.03:
            record.org_id = record.project_id = record.task_id = record.job_id = None
        if rng.random() < 0.02:
            record.user_id = record.user_name = None
        records.append(record)
    return records


def insert_events(client, records: Sequence[EventRecord], batch: int = 5000) -> None:
    rows = [record.to_row() for record in records]
    for offset in range(0, len(rows), batch):
        chunk = rows[offset : offset + batch]
        client.raw_insert(
            "events",
            None,
            b"\n".join(chunk),
            fmt="JSONEachRow",
            settings={**INSERT_SETTINGS, "insert_deduplication_token": uuid.uuid4().hex},
        )


# --- the oracle: metrics straight from EventRecords ---------------------------------------------


def rollup_keys(record: EventRecord) -> list[str]:
    keys = [record.scope]
    if record.scope.startswith("update:") and record.obj_name in STATUS_FIELDS:
        keys.append(f"{record.scope}:{record.obj_name}={record.obj_val or ''}")
    return keys


def _value(record: EventRecord, column: str) -> int:
    if column == "events":
        return 1
    if column == "units":
        return 1 if record.count is None else record.count
    if column == "duration_ms":
        return record.duration
    return record.duration if record.scope == "send:working_time" else 0


def _matches(metric: Metric | DistinctMetric, key: str, source: str) -> bool:
    if isinstance(metric, Metric) and metric.sources and source not in metric.sources:
        return False
    if metric.metric_keys == (ALL_SCOPES,):
        return "=" not in key
    return key in metric.metric_keys


@dataclass(frozen=True)
class Filter:
    org_ids: tuple[int, ...] | None = None  # None: every org and org-less events
    project_ids: tuple[int, ...] = ()
    task_ids: tuple[int, ...] = ()
    job_ids: tuple[int, ...] = ()
    user_ids: tuple[int, ...] = ()

    def keep(self, r: EventRecord) -> bool:
        checks = [
            (self.org_ids if self.org_ids is not None else None, r.org_id),
            (self.project_ids or None, r.project_id),
            (self.task_ids or None, r.task_id),
            (self.job_ids or None, r.job_id),
            (self.user_ids or None, r.user_id),
        ]
        return all(allowed is None or (value or 0) in allowed for allowed, value in checks)


def in_range(records: Iterable[EventRecord], start: float, end: float) -> list[EventRecord]:
    return [r for r in records if start <= r.timestamp.timestamp() < end]


def metric_total(records: Iterable[EventRecord], name: str) -> int:
    """One metric over some events, from its registry definition, without ClickHouse."""
    metric = ALL_METRICS[name]
    if isinstance(metric, DistinctMetric):
        ids = set()
        for r in records:
            value = getattr(r, metric.dimension)
            if value and any(_matches(metric, key, r.source) for key in rollup_keys(r)):
                ids.add(value)
        return len(ids)
    column = metric.column
    return sum(
        _value(r, column) for r in records for key in rollup_keys(r) if _matches(metric, key, r.source)
    )


def totals(records: Iterable[EventRecord], names: Iterable[str]) -> dict[str, int]:
    records = list(records)
    return {name: metric_total(records, name) for name in names}


def bucket_records(
    records: Iterable[EventRecord], start: int, step: int, count: int
) -> list[list[EventRecord]]:
    buckets: list[list[EventRecord]] = [[] for _ in range(count)]
    for r in records:
        i = (int(r.timestamp.timestamp()) - start) // step
        if 0 <= i < count:
            buckets[i].append(r)
    return buckets


def ts(moment: datetime) -> int:
    return int(moment.replace(tzinfo=moment.tzinfo or UTC).timestamp())
