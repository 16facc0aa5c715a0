"""The per-user summary (`GET /api/analytics/users/{id|me}/summary`) and its period rules.

Every number comes from registry metrics and KPIs over the same rollups as the KPI API:

- activity numbers (events, working time, objects drawn, exceptions, active days, the daily series
  and the per-project breakdown) count the events *the user* caused (`user_id` on the event);
- job outcomes (jobs completed and rejected, rejection rate, jobs by status) are about *the jobs
  the user worked on*: the jobs with at least one event of the user in the period, and the state
  changes those jobs went through in the period, whoever made them. An annotator's jobs are
  rejected by a reviewer, so counting only the user's own state changes would give every
  annotator a rejection rate of 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from analytics.buckets import day_grid
from analytics.errors import AnalyticsError
from analytics.registry import JOB_STATE_KEYS, KPIS
from analytics.selectors import Scope, key_totals, metric_rows
from config.fields import ascii_int

MAX_DAYS = 90
DEFAULT_DAYS = 30

ACTIVITY_METRICS = (
    "events",
    "working_time_ms",
    "objects_drawn",
    "exceptions_client",
    "exceptions_server",
    "jobs_worked",
)
ADDITIVE_ACTIVITY = tuple(name for name in ACTIVITY_METRICS if name != "jobs_worked")
DAILY_METRICS = ("events", "working_time_ms", "objects_drawn")
PROJECT_METRICS = ("events", "working_time_ms", "objects_drawn")


@dataclass(frozen=True)
class Period:
    start: date  # first day, included
    end: date  # day after the last one (half-open)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def start_ts(self) -> int:
        return int(datetime.combine(self.start, time(), UTC).timestamp())

    @property
    def end_ts(self) -> int:
        return int(datetime.combine(self.end, time(), UTC).timestamp())

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.days,
            "timezone": "UTC",
            "end_is_exclusive": True,
        }


# Days the event store can hold (DateTime('UTC') runs from 1970 to 2106).
FIRST_DATE = date(1970, 1, 1)
LAST_DATE = date(2106, 1, 1)


def _date(params: Any, name: str) -> date | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise AnalyticsError(f"{name} must be a date like 2026-03-01, got {raw!r}.", field=name) from None
    if not FIRST_DATE <= value <= LAST_DATE:
        raise AnalyticsError(f"{name} must be between {FIRST_DATE} and {LAST_DATE}.", field=name)
    return value


def parse_period(params: Any, today: date) -> Period:
    """`days` (1..90, default 30: the last N days including today) or `start_date` and/or
    `end_date` (half-open: end_date is the first day NOT included; at most 90 days)."""
    start_date, end_date = _date(params, "start_date"), _date(params, "end_date")
    raw_days = params.get("days")
    tomorrow = today + timedelta(days=1)
    if raw_days not in (None, "") and (start_date or end_date):
        raise AnalyticsError("Give either days or start_date/end_date, not both.", field="days")
    if start_date or end_date:
        end = end_date or tomorrow
        start = start_date or end - timedelta(days=DEFAULT_DAYS)
        if start > today:
            raise AnalyticsError("start_date cannot be in the future.", field="start_date")
        if end > tomorrow:
            raise AnalyticsError(
                "end_date cannot be in the future (it is exclusive: use tomorrow's date to include today).",
                field="end_date",
            )
        if start >= end:
            raise AnalyticsError(
                "start_date must be before end_date (end_date is exclusive).", field="start_date"
            )
        if (end - start).days > MAX_DAYS:
            raise AnalyticsError(f"The range must not exceed {MAX_DAYS} days.", field="end_date")
        return Period(start, end)
    days = DEFAULT_DAYS
    if raw_days not in (None, ""):
        days = ascii_int(str(raw_days), maximum=MAX_DAYS) or 0
        if days < 1:
            raise AnalyticsError(f"days must be an integer from 1 to {MAX_DAYS}.", field="days")
    return Period(tomorrow - timedelta(days=days), tomorrow)


def user_summary(user_id: int, org_ids: tuple[int, ...] | None, period: Period) -> dict[str, Any]:
    scope = Scope(org_ids=org_ids, user_ids=(user_id,))
    start, end = period.start_ts, period.end_ts
    grid = day_grid(start, end)

    # The user's activity per (day, project, job): one query gives the daily series, the
    # per-project breakdown, the jobs touched and the jobs worked on.
    rows = metric_rows(scope, grid, ACTIVITY_METRICS, ("project_id", "job_id")).values
    daily = [dict.fromkeys(DAILY_METRICS, 0) for _ in range(grid.count)]
    projects: dict[int, dict[str, int]] = {}
    totals = dict.fromkeys(ACTIVITY_METRICS, 0)
    jobs_touched: set[int] = set()
    jobs_worked: set[int] = set()
    for (day, project_id, job_id), values in rows.items():
        for name in DAILY_METRICS:
            daily[day][name] += values[name]
        project = projects.setdefault(project_id, dict.fromkeys(PROJECT_METRICS, 0))
        for name in PROJECT_METRICS:
            project[name] += values[name]
        for name in ADDITIVE_ACTIVITY:
            totals[name] += values[name]
        if job_id:
            jobs_touched.add(job_id)
        if values["jobs_worked"]:
            jobs_worked.add(job_id)
    totals["jobs_worked"] = len(jobs_worked)

    # Job outcomes: state changes, by anyone, of the jobs the user had events on in the period.
    if jobs_touched:
        job_scope = Scope(org_ids=org_ids, job_ids=tuple(sorted(jobs_touched)))
        by_key = key_totals(job_scope, start, end, list(JOB_STATE_KEYS.values()))
    else:  # an empty job filter would mean "every job": do not query
        by_key = dict.fromkeys(JOB_STATE_KEYS.values(), 0)
    jobs_by_status = {state: by_key[key] for state, key in JOB_STATE_KEYS.items()}
    job_totals = {"jobs_completed": jobs_by_status["completed"], "jobs_rejected": jobs_by_status["rejected"]}

    by_project = [
        {
            "project_id": project_id or None,
            **values,
            "objects_per_working_hour": KPIS["objects_per_working_hour"].compute(values),
        }
        for project_id, values in sorted(projects.items(), key=lambda item: (item[0] == 0, item[0]))
    ]

    return {
        "user_id": user_id,
        "org_ids": list(org_ids) if org_ids is not None else None,
        "period": period.as_json(),
        "summary": {
            "events": totals["events"],
            "working_time_ms": totals["working_time_ms"],
            "working_hours": KPIS["working_hours"].compute(totals),
            "active_days": sum(1 for day in daily if day["events"] > 0),
            "objects_drawn": totals["objects_drawn"],
            "objects_per_working_hour": KPIS["objects_per_working_hour"].compute(totals),
            "jobs_worked": totals["jobs_worked"],
            "working_time_per_job_ms": KPIS["working_time_per_job_ms"].compute(totals),
            "jobs_touched": len(jobs_touched),
            "jobs_completed": job_totals["jobs_completed"],
            "jobs_rejected": job_totals["jobs_rejected"],
            "job_rejection_rate": KPIS["job_rejection_rate"].compute(job_totals),
            "exceptions": KPIS["exceptions"].compute(totals),
        },
        "daily": [
            {"date": (period.start + timedelta(days=i)).isoformat(), **daily[i]} for i in range(grid.count)
        ],
        "jobs_by_status": jobs_by_status,
        "by_project": by_project,
    }
