"""Per-user summary and raw events: every number from the raw events, zero-filled days, period rules,
null where a value cannot be computed, cursor pagination."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

import pytest

from analytics.registry import MS_PER_HOUR
from analytics.user_summary import parse_period
from events.record import EventRecord
from test_analytics_support import World, in_range, insert_events, random_events, totals

TODAY = datetime.now(UTC).date()
USER = 11


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


@pytest.fixture
def me(transactional_db, django_user_model):
    return django_user_model.objects.create_user("annotator", "a@example.com", None, id=USER)


@pytest.fixture
def client(api, me):
    api.force_authenticate(me)
    return api


@pytest.fixture
def seeded(clickhouse):
    start = midnight(TODAY - timedelta(days=20))
    records = random_events(random.Random(21), 4000, start, timedelta(days=18), World(users=(11, 12, 13)))
    insert_events(clickhouse, records)
    return records


def ratio(a, b, scale=1.0):
    return None if not b else scale * a / b


def test_every_summary_number_equals_the_raw_events(client, seeded):
    response = client.get("/api/analytics/users/me/summary", {"days": 30})
    assert response.status_code == 200, response.json()
    body = response.json()
    start = TODAY - timedelta(days=29)
    assert body["period"] == {
        "start": start.isoformat(),
        "end": (TODAY + timedelta(days=1)).isoformat(),
        "days": 30,
        "timezone": "UTC",
        "end_is_exclusive": True,
    }
    mine = [r for r in seeded if r.user_id == USER]
    t = totals(
        mine,
        [
            "events",
            "working_time_ms",
            "objects_drawn",
            "exceptions_client",
            "exceptions_server",
            "jobs_worked",
        ],
    )
    my_jobs = {r.job_id for r in mine if r.job_id}
    on_my_jobs = [
        r for r in seeded if r.job_id in my_jobs and r.scope == "update:job" and r.obj_name == "state"
    ]
    by_status = {
        state: sum(1 for r in on_my_jobs if r.obj_val == state)
        for state in ("new", "in progress", "rejected", "completed")
    }
    days_with_events = {r.timestamp.date() for r in mine}
    summary = body["summary"]
    assert summary == {
        "events": t["events"],
        "working_time_ms": t["working_time_ms"],
        "working_hours": t["working_time_ms"] / MS_PER_HOUR,
        "active_days": len(days_with_events),
        "objects_drawn": t["objects_drawn"],
        "objects_per_working_hour": ratio(t["objects_drawn"], t["working_time_ms"], MS_PER_HOUR),
        "jobs_worked": t["jobs_worked"],
        "working_time_per_job_ms": ratio(t["working_time_ms"], t["jobs_worked"]),
        "jobs_touched": len(my_jobs),
        "jobs_completed": by_status["completed"],
        "jobs_rejected": by_status["rejected"],
        "job_rejection_rate": ratio(
            by_status["rejected"], by_status["completed"] + by_status["rejected"], 100
        ),
        "exceptions": t["exceptions_client"] + t["exceptions_server"],
    }
    assert summary["jobs_rejected"] > 0 and summary["active_days"] == 18
    assert body["jobs_by_status"] == by_status

    # zero-filled: 30 days, days without events are present with zeros
    assert [d["date"] for d in body["daily"]] == [(start + timedelta(days=i)).isoformat() for i in range(30)]
    for entry in body["daily"]:
        day = date.fromisoformat(entry["date"])
        that_day = [r for r in mine if r.timestamp.date() == day]
        assert entry == {
            "date": entry["date"],
            **totals(that_day, ["events", "working_time_ms", "objects_drawn"]),
        }
    assert sum(1 for d in body["daily"] if d["events"] == 0) == 12

    projects = defaultdict(list)
    for r in mine:
        projects[r.project_id].append(r)
    expected = []
    for project in sorted(projects, key=lambda p: (p is None, p or 0)):
        t = totals(projects[project], ["events", "working_time_ms", "objects_drawn"])
        expected.append(
            {
                "project_id": project,
                **t,
                "objects_per_working_hour": ratio(t["objects_drawn"], t["working_time_ms"], MS_PER_HOUR),
            }
        )
    assert body["by_project"] == expected


def test_values_that_cannot_be_computed_are_null_not_zero(client, clickhouse):
    insert_events(
        clickhouse,
        [
            EventRecord(
                "draw:object", midnight(TODAY), source="client", count=3, user_id=USER, org_id=1, job_id=5
            )
        ],
    )
    body = client.get("/api/analytics/users/me/summary", {"days": 1}).json()
    summary = body["summary"]
    assert summary["objects_drawn"] == 3 and summary["working_time_ms"] == 0
    assert summary["objects_per_working_hour"] is None
    assert summary["job_rejection_rate"] is None and summary["working_time_per_job_ms"] is None
    assert body["daily"] == [
        {"date": TODAY.isoformat(), "events": 1, "working_time_ms": 0, "objects_drawn": 3}
    ]
    assert body["by_project"] == [
        {
            "project_id": None,
            "events": 1,
            "working_time_ms": 0,
            "objects_drawn": 3,
            "objects_per_working_hour": None,
        }
    ]


def test_start_and_end_dates_are_half_open(client, clickhouse):
    day = TODAY - timedelta(days=3)
    insert_events(
        clickhouse,
        [
            EventRecord("load:job", midnight(day) - timedelta(milliseconds=1), source="client", user_id=USER),
            EventRecord("load:job", midnight(day), source="client", user_id=USER),
            EventRecord(
                "load:job",
                midnight(day + timedelta(days=1)) - timedelta(milliseconds=1),
                source="client",
                user_id=USER,
            ),
            EventRecord("load:job", midnight(day + timedelta(days=1)), source="client", user_id=USER),
        ],
    )
    body = client.get(
        "/api/analytics/users/me/summary",
        {"start_date": day.isoformat(), "end_date": (day + timedelta(days=1)).isoformat()},
    ).json()
    assert body["summary"]["events"] == 2 and body["period"]["days"] == 1
    raw = client.get(
        "/api/analytics/users/me/raw",
        {"start_date": day.isoformat(), "end_date": (day + timedelta(days=1)).isoformat()},
    ).json()
    assert len(raw["results"]) == 2


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"days": 0}, "days", "days must be an integer from 1 to 90."),
        ({"days": 91}, "days", "days must be an integer from 1 to 90."),
        ({"days": "week"}, "days", "days must be an integer from 1 to 90."),
        ({"start_date": str(TODAY + timedelta(days=1))}, "start_date", "start_date cannot be in the future."),
        (
            {"start_date": str(TODAY - timedelta(days=5)), "end_date": str(TODAY + timedelta(days=2))},
            "end_date",
            "end_date cannot be in the future (it is exclusive: use tomorrow's date to include today).",
        ),
        (
            {"start_date": str(TODAY - timedelta(days=2)), "end_date": str(TODAY - timedelta(days=4))},
            "start_date",
            "start_date must be before end_date (end_date is exclusive).",
        ),
        (
            {"start_date": str(TODAY - timedelta(days=91)), "end_date": str(TODAY)},
            "end_date",
            "The range must not exceed 90 days.",
        ),
        (
            {"start_date": "2026-13-01"},
            "start_date",
            "start_date must be a date like 2026-03-01, got '2026-13-01'.",
        ),
        ({"days": 3, "end_date": str(TODAY)}, "days", "Give either days or start_date/end_date, not both."),
    ],
)
def test_bad_periods_are_400_with_a_plain_message(client, clickhouse, params, field, message):
    for endpoint in ("summary", "raw"):
        response = client.get(f"/api/analytics/users/me/{endpoint}", params)
        assert response.status_code == 400
        assert response.json() == {"error": {"code": "invalid_parameter", "message": message, "field": field}}


def test_the_longest_allowed_periods():
    tomorrow = TODAY + timedelta(days=1)
    assert parse_period({"days": "90"}, TODAY).days == 90
    assert (
        parse_period({"start_date": str(TODAY - timedelta(days=89)), "end_date": str(tomorrow)}, TODAY).days
        == 90
    )
    assert parse_period({"end_date": str(TODAY)}, TODAY).start == TODAY - timedelta(days=30)
    assert parse_period({}, TODAY).end == tomorrow


def test_raw_events_come_newest_first_and_the_cursor_walks_all_of_them_once(client, seeded):
    mine = sorted((r for r in seeded if r.user_id == USER), key=lambda r: r.timestamp, reverse=True)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 97, "days": 30, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/analytics/users/me/raw", params).json()
        pages += 1
        seen.extend(body["results"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == -(-len(mine) // 97)
    ids = [e["event_id"] for e in seen]
    assert len(ids) == len(set(ids)) == len(mine) and set(ids) == {str(r.event_id) for r in mine}
    timestamps = [e["timestamp"] for e in seen]
    assert timestamps == sorted(timestamps, reverse=True)
    first = seen[0]
    assert set(first) == {
        "event_id",
        "timestamp",
        "scope",
        "source",
        "obj_name",
        "obj_id",
        "obj_val",
        "count",
        "duration",
        "org_id",
        "org_slug",
        "project_id",
        "task_id",
        "job_id",
        "user_id",
        "user_name",
        "payload",
    }
    assert first["timestamp"].endswith("Z")
    wt = next(e for e in seen if e["scope"] == "send:working_time")
    assert wt["payload"] == {"working_time": wt["duration"]}  # payload comes back parsed


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "bogus"}, "cursor"),
    ],
)
def test_raw_limit_and_cursor_are_validated(client, clickhouse, params, field):
    response = client.get("/api/analytics/users/me/raw", params)
    assert response.status_code == 400 and response.json()["error"]["field"] == field


def test_raw_accepts_the_largest_page(client, clickhouse):
    assert client.get("/api/analytics/users/me/raw", {"limit": 1000}).status_code == 200


def test_in_range_helper_is_half_open():
    moment = midnight(TODAY)
    record = EventRecord("x", moment)
    assert in_range([record], moment.timestamp(), moment.timestamp() + 1) == [record]
    assert in_range([record], moment.timestamp() - 1, moment.timestamp()) == []
