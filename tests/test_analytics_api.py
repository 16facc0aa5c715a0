"""KPI and metric endpoints: every number equals the same number computed from the raw events,
aggregates are computed on range totals, series are zero-filled, warnings and errors as documented."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from analytics.registry import ALL_METRICS, KPIS, MS_PER_HOUR
from events.record import EventRecord
from test_analytics_support import Filter, bucket_records, in_range, insert_events, random_events, totals

START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
T0 = int(START.timestamp())
HOUR, DAY = 3600, 86_400


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", None)


@pytest.fixture
def client(api, superuser):
    api.force_authenticate(superuser)
    return api


@pytest.fixture
def seeded(clickhouse):
    records = random_events(random.Random(11), 6000, START, timedelta(days=2))
    insert_events(clickhouse, records)
    return records


def get(client, path: str, **params):
    response = client.get(path, params)
    return response.status_code, response.json()


def expected_kpi(records, kpi_key: str):
    kpi = KPIS[kpi_key]
    return kpi.compute(totals(records, kpi.metrics))


FILTERS = [
    ({}, Filter()),
    ({"org_id": [1]}, Filter(org_ids=(1,))),
    ({"org_id": [1, 2], "user_id": [12, 13]}, Filter(org_ids=(1, 2), user_ids=(12, 13))),
    ({"project_id": [100, 201]}, Filter(project_ids=(100, 201))),
    (
        {"task_id": [1000], "job_id": [10000, 10001, 10011]},
        Filter(task_ids=(1000,), job_ids=(10000, 10001, 10011)),
    ),
]


@pytest.mark.parametrize(
    ("params", "oracle_filter"), FILTERS, ids=lambda v: str(v) if isinstance(v, dict) else ""
)
def test_every_kpi_value_and_aggregate_equals_the_raw_events(client, seeded, params, oracle_filter):
    end = T0 + 2 * DAY
    status, body = get(
        client,
        "/api/analytics/kpis/values",
        start_timestamp=T0,
        end_timestamp=end,
        bucket="1h",
        kpis=list(KPIS),
        **params,
    )
    assert status == 200, body
    assert body["start_timestamps"] == list(range(T0, end, HOUR))
    assert body["bucket_seconds"] == HOUR
    kept = [r for r in seeded if oracle_filter.keep(r)]
    buckets = bucket_records(kept, T0, HOUR, 48)
    assert [row["kpi"] for row in body["kpis"]] == list(KPIS)
    for row in body["kpis"]:
        assert row["values"] == [expected_kpi(bucket, row["kpi"]) for bucket in buckets], row["kpi"]
        assert row["aggregate"] == expected_kpi(kept, row["kpi"]), row["kpi"]


@pytest.mark.parametrize(("params", "oracle_filter"), FILTERS[:3], ids=["all", "org", "org+users"])
def test_every_metric_value_and_aggregate_equals_the_raw_events(client, seeded, params, oracle_filter):
    end = T0 + 2 * DAY
    status, body = get(
        client, "/api/analytics/metrics/values", start_timestamp=T0, end_timestamp=end, bucket="1d", **params
    )
    assert status == 200, body
    kept = [r for r in seeded if oracle_filter.keep(r)]
    buckets = bucket_records(kept, T0, DAY, 2)
    assert [row["name"] for row in body["metrics"]] == list(ALL_METRICS)
    for row in body["metrics"]:
        assert row["values"] == [totals(bucket, [row["name"]])[row["name"]] for bucket in buckets], row[
            "name"
        ]
        assert row["aggregate"] == totals(kept, [row["name"]])[row["name"]], row["name"]


def test_hand_computed_kpis_agree_with_the_registry(client, seeded):
    """The oracle above reuses the registry's formulas; pin three of them by hand."""
    status, body = get(
        client,
        "/api/analytics/kpis/values",
        start_timestamp=T0,
        end_timestamp=T0 + 2 * DAY,
        kpis=["objects_per_working_hour", "job_rejection_rate", "exceptions_per_1k_events"],
    )
    assert status == 200, body
    aggregates = {row["kpi"]: row["aggregate"] for row in body["kpis"]}
    drawn = sum(r.count or 1 for r in seeded if r.scope == "draw:object")
    working = sum(r.duration for r in seeded if r.scope == "send:working_time")
    completed = sum(
        1 for r in seeded if r.scope == "update:job" and (r.obj_name, r.obj_val) == ("state", "completed")
    )
    rejected = sum(
        1 for r in seeded if r.scope == "update:job" and (r.obj_name, r.obj_val) == ("state", "rejected")
    )
    exceptions = sum(1 for r in seeded if r.scope == "send:exception")
    assert aggregates["objects_per_working_hour"] == pytest.approx(drawn / (working / MS_PER_HOUR))
    assert aggregates["job_rejection_rate"] == pytest.approx(100 * rejected / (completed + rejected))
    assert aggregates["exceptions_per_1k_events"] == pytest.approx(1000 * exceptions / len(seeded))


def _draws_and_work(bucket_start: datetime, objects: int, working_ms: int) -> list[EventRecord]:
    common = {"org_id": 1, "project_id": 100, "task_id": 1000, "job_id": 10000, "user_id": 11}
    return [
        EventRecord(
            "draw:object", bucket_start + timedelta(minutes=1), source="client", count=objects, **common
        ),
        EventRecord(
            "send:working_time", bucket_start + timedelta(minutes=2), duration=working_ms, count=1, **common
        ),
    ]


def test_the_aggregate_is_the_kpi_of_the_range_totals_not_the_mean_of_the_buckets(client, clickhouse):
    # Day 1: 100 objects in 1 h (100/h). Day 2: 10 objects in 0.5 h (20/h).
    insert_events(
        clickhouse,
        _draws_and_work(START, 100, MS_PER_HOUR)
        + _draws_and_work(START + timedelta(days=1), 10, MS_PER_HOUR // 2),
    )
    status, body = get(
        client,
        "/api/analytics/kpis/values",
        start_timestamp=T0,
        end_timestamp=T0 + 2 * DAY,
        bucket="1d",
        kpis=["objects_per_working_hour", "objects_drawn"],
    )
    assert status == 200, body
    per_hour, drawn = body["kpis"]
    assert per_hour["values"] == [100.0, 20.0]
    assert per_hour["aggregate"] == pytest.approx(110 / 1.5)  # 73.3, not the mean 60
    assert per_hour["aggregate"] != pytest.approx(sum(per_hour["values"]) / 2)
    assert drawn["values"] == [100, 10] and drawn["aggregate"] == 110  # an additive KPI: the sum


def test_series_are_zero_filled_and_a_zero_denominator_is_null_with_a_warning(client, clickhouse):
    insert_events(clickhouse, _draws_and_work(START + timedelta(hours=5), 7, 60_000))
    status, body = get(
        client,
        "/api/analytics/kpis/values",
        start_timestamp=T0,
        end_timestamp=T0 + DAY,
        bucket="1h",
        kpis=["objects_drawn", "objects_per_working_hour", "job_rejection_rate"],
    )
    assert status == 200
    drawn, per_hour, rejection = body["kpis"]
    assert len(body["start_timestamps"]) == 24
    assert drawn["values"] == [0] * 5 + [7] + [0] * 18
    assert per_hour["values"] == [None] * 5 + [420.0] + [None] * 18 and per_hour["aggregate"] == 420.0
    assert rejection["values"] == [None] * 24 and rejection["aggregate"] is None
    zero = {w["kpi"]: w for w in body["warnings"] if w["code"] == "zero_denominator"}
    assert zero.keys() == {"objects_per_working_hour", "job_rejection_rate"}
    assert (
        zero["objects_per_working_hour"]["buckets"] == 23
        and not zero["objects_per_working_hour"]["aggregate"]
    )
    assert zero["job_rejection_rate"]["aggregate"] is True


def test_a_range_is_snapped_to_whole_buckets_with_a_warning(client, clickhouse):
    status, body = get(
        client,
        "/api/analytics/metrics/values",
        start_timestamp=T0 + 1800,
        end_timestamp=T0 + 5 * HOUR + 1,
        bucket="1h",
        metrics=["events"],
    )
    assert status == 200
    assert body["start_timestamp"] == T0 and body["end_timestamp"] == T0 + 6 * HOUR
    assert body["start_timestamps"] == [T0 + i * HOUR for i in range(6)]
    assert [w["code"] for w in body["warnings"]] == ["range_snapped"]
    status, body = get(
        client,
        "/api/analytics/metrics/values",
        start_timestamp=T0,
        end_timestamp=T0 + 6 * HOUR,
        bucket="1h",
        metrics=["events"],
    )
    assert body["warnings"] == []


def test_weeks_start_on_monday_and_iso_times_are_accepted(client, clickhouse):
    status, body = get(
        client,
        "/api/analytics/metrics/values",
        start_timestamp="2026-11-04T12:00:00Z",
        end_timestamp="2026-11-20T00:00:00+00:00",
        bucket="1w",
        metrics=["events"],
    )
    assert status == 200, body
    mondays = [datetime.fromtimestamp(ts, UTC) for ts in body["start_timestamps"]]
    assert [m.date().isoformat() for m in mondays] == ["2026-11-02", "2026-11-09", "2026-11-16"]


def test_a_still_open_last_bucket_gives_a_warning(client, clickhouse):
    now = time.time()
    status, body = get(
        client,
        "/api/analytics/kpis/values",
        start_timestamp=now - 3 * HOUR,
        end_timestamp=now,
        bucket="1h",
        kpis=["events"],
    )
    assert status == 200
    codes = [w["code"] for w in body["warnings"]]
    assert "partial_last_bucket" in codes
    assert body["end_timestamp"] > now


@pytest.mark.parametrize(
    ("span", "bucket"), [(DAY, "5m"), (7 * DAY, "1h"), (30 * DAY, "1d"), (3 * 365 * DAY, "1w")]
)
def test_auto_picks_the_smallest_bucket_that_keeps_the_chart_readable(client, clickhouse, span, bucket):
    status, body = get(
        client, "/api/analytics/kpis/values", start_timestamp=T0 - span, end_timestamp=T0, kpis=["events"]
    )
    assert status == 200 and body["bucket"] == bucket


def test_too_many_buckets_is_a_400_in_the_envelope(client, clickhouse):
    with override_settings(ANALYTICS_MAX_BUCKETS=100):
        status, body = get(
            client, "/api/analytics/kpis/values", start_timestamp=T0, end_timestamp=T0 + DAY, bucket="5m"
        )
    assert status == 400
    assert body == {
        "error": {"code": "too_many_buckets", "field": "bucket", "message": body["error"]["message"]}
    }
    assert "288" in body["error"]["message"]


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"kpis": "nope"}, "unknown_kpi", "kpis"),
        ({"bucket": "2h"}, "invalid_parameter", "bucket"),
        ({"start_timestamp": "yesterday"}, "invalid_parameter", "start_timestamp"),
        ({"start_timestamp": T0 + 10, "end_timestamp": T0}, "invalid_parameter", "start_timestamp"),
        ({"end_timestamp": -5}, "invalid_parameter", "end_timestamp"),
        ({"org_id": "x"}, "invalid_parameter", "org_id"),
        ({"job_id": "0"}, "invalid_parameter", "job_id"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(client, clickhouse, params, code, field):
    status, body = get(client, "/api/analytics/kpis/values", **params)
    assert status == 400
    assert body["error"]["code"] == code and body["error"]["field"] == field and body["error"]["message"]


def test_unknown_metric_is_400(client, clickhouse):
    status, body = get(client, "/api/analytics/metrics/values", metrics="revenue")
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "unknown_metric", "metrics")


def test_signed_out_callers_get_401_in_the_envelope(api, clickhouse):
    for path in (
        "/api/analytics/kpis/configs",
        "/api/analytics/kpis/values",
        "/api/analytics/users/me/summary",
    ):
        response = api.get(path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


def test_configs_list_every_kpi_with_unit_formula_and_metrics(client):
    status, body = get(client, "/api/analytics/kpis/configs")
    assert status == 200
    assert [k["name"] for k in body["kpis"]] == list(KPIS)
    rate = next(k for k in body["kpis"] if k["name"] == "job_rejection_rate")
    assert rate["metadata"]["unit"] == "percentage" and rate["metrics"] == ["jobs_rejected", "jobs_completed"]
    assert "1 means 1%" in body["units"]["percentage"]
    status, body = get(client, "/api/analytics/kpis/configs", kpis=["working_hours", "active_users"])
    assert [k["name"] for k in body["kpis"]] == ["working_hours", "active_users"]
    status, body = get(client, "/api/analytics/metrics/configs")
    assert [m["name"] for m in body["metrics"]] == list(ALL_METRICS)


def test_status_is_empty_then_ok_then_lagging(client, clickhouse):
    status, body = get(client, "/api/analytics/kpis/status", kpis=["objects_drawn", "job_rejection_rate"])
    assert status == 200
    assert body["status"] == "empty" and body["data_lag_seconds"] is None
    assert [s["status"] for s in body["statuses"]] == ["empty", "empty"]

    now = datetime.now(UTC)
    insert_events(
        clickhouse, [EventRecord("draw:object", now - timedelta(seconds=30), source="client", org_id=1)]
    )
    status, body = get(client, "/api/analytics/kpis/status", kpis=["objects_drawn", "job_rejection_rate"])
    assert body["status"] == "ok" and 25 <= body["data_lag_seconds"] < 120
    assert [s["status"] for s in body["statuses"]] == ["ok", "empty"]
    assert body["statuses"][0]["kpi"]["name"] == "objects_drawn"

    clickhouse.command("TRUNCATE TABLE events")
    clickhouse.command("TRUNCATE TABLE rollup_5m")
    insert_events(
        clickhouse, [EventRecord("draw:object", now - timedelta(hours=2), source="client", org_id=1)]
    )
    status, body = get(client, "/api/analytics/kpis/status")
    assert body["status"] == "lagging" and body["data_lag_seconds"] > 7000
    assert [w["code"] for w in body["warnings"]] == ["lagging"]
    status, body = get(client, "/api/analytics/kpis/status", org_id=2)
    assert body["status"] == "empty"


def test_in_range_filters_on_half_open_intervals(seeded):
    """Guard for the oracle itself: [start, end) as the API."""
    assert len(in_range(seeded, T0, T0 + DAY)) + len(in_range(seeded, T0 + DAY, T0 + 2 * DAY)) == len(seeded)


def test_the_openapi_schema_documents_the_analytics_endpoints(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/analytics/kpis/configs",
        "/api/analytics/kpis/status",
        "/api/analytics/kpis/values",
        "/api/analytics/metrics/values",
        "/api/analytics/users/{user}/summary",
        "/api/analytics/users/{user}/raw",
    ):
        assert any(p.rstrip("/") == path for p in paths), path
