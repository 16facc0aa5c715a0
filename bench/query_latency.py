"""Query API latency: a 10-measure `POST /api/analytics/query` over 30 days of N events (default
10M), through Django's test client (auth, validation, access checks, SQL, records, JSON).

Seeds a fresh embedded engine with the KPI benchmark's workload (bench/kpi_latency.py's SEED_SQL:
one INSERT ... SELECT FROM numbers(), the materialized views fill the rollups), checks a few
numbers against the KPI endpoint, then times a 10-measure dashboard query for one organization's
owner and for a superuser (all organizations), the same with one raw-event measure swapped in,
and each measure alone; prints p50/p95.

Run: `.venv/bin/python bench/query_latency.py [--events 10000000] [--runs 30]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from _setup import configure
from kpi_latency import SEED_SQL, pct

DAY = 86_400
TARGET_P50_MS = 200

# What a team lead's notebook asks for in one request: activity, throughput, job states, issues,
# errors, per-user and per-job tables (the per-job one's first page of ~9 000 jobs: an explicit
# pageSize, as the figures of record were measured, since an entry without one holds every record).
# All of these are sums of registry metrics and read the rollups.
MEASURES = [
    {"measureType": "activeUsers"},
    {"measureType": "annotationTimeline"},
    {"measureType": "itemStatusTimeline", "timeGranularity": "day"},
    {"measureType": "userStatsActivityTime"},
    {"measureType": "itemAnnotationDuration", "sortDirection": "descending", "pageSize": 1000},
    {"measureType": "countItemInAnnotationTimeBucket", "timeGranularity": "day"},
    {"measureType": "issueTimeline", "timeGranularity": "day"},
    {"measureType": "labelingCounters", "pageSize": 0},
    {"measureType": "exceptionsOverTime", "timeGranularity": "day"},
    {"measureType": "objectsPerWorkingHour"},
]
# Measures that need single events (latest state, single durations, pairing, payload fields) read
# raw `events` over the whole range: timed alone, and one of them swapped into the query above.
RAW_MEASURES = [
    {"measureType": "assignmentStatsCompletedStatus", "pageSize": 100},
    {"measureType": "assignmentStatsItemActiveTimeStats", "pageSize": 100},
    {"measureType": "issueResolveTime", "timeGranularity": "day"},
    {"measureType": "exceptionsByStatusCode"},
]


def timed(fn: Callable[[], object], runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    data_dir = configure("query")

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from accounts.models import Membership, Organization, Role
    from analytics.query import fetch
    from store.client import get_client
    from store.migrations_runner import migrate

    call_command("migrate", verbosity=0)
    client = get_client()
    migrate(client)

    end_dt = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    end = int(end_dt.timestamp()) // DAY * DAY
    start = end - 30 * DAY

    print(f"data dir: {data_dir}; engine {client.server_version}; load {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    client.command(
        SEED_SQL,
        parameters={"start": start, "span": 30 * DAY, "n": args.events},
        settings={"max_insert_threads": 4},
    )
    seeded = time.perf_counter() - started
    client.command("OPTIMIZE TABLE rollup_5m FINAL")
    n_events = client.query("SELECT count() FROM events").result_rows[0][0]
    print(f"seeded {n_events:,} events over 30 days in {seeded:.1f} s (views included)")

    User = get_user_model()
    orgs = {i: Organization.objects.get_or_create(id=i, slug=f"org-{i}")[0] for i in (1, 2, 3)}
    manager = User.objects.get_or_create(username="manager")[0]
    Membership.objects.get_or_create(user=manager, organization=orgs[1], defaults={"role": Role.OWNER})
    root = User.objects.get_or_create(username="root", defaults={"is_superuser": True, "is_staff": True})[0]

    def api_as(user) -> APIClient:
        api = APIClient()
        api.force_authenticate(user)
        return api

    body = {"startTime": start * 1000, "endTime": end * 1000, "measures": MEASURES}

    def query(user, payload: dict) -> Callable[[], list]:
        api = api_as(user)

        def call() -> list:
            response = api.post("/api/analytics/query", payload, format="json")
            assert response.status_code == 200, response.content
            return response.json()

        return call

    # Same numbers as the KPI endpoint first.
    entries = query(manager, body)()
    kpis = (
        api_as(manager)
        .get(
            "/api/analytics/kpis/values",
            {
                "start_timestamp": start,
                "end_timestamp": end,
                "bucket": "1d",
                "kpis": ["objects_drawn", "exceptions", "active_users"],
            },
        )
        .json()["kpis"]
    )
    by_kpi = {row["kpi"]: row for row in kpis}
    by_measure = {entry["measureType"]: entry for entry in entries}
    assert (
        by_measure["labelingCounters"]["response"][0]["objectsDrawn"] == by_kpi["objects_drawn"]["aggregate"]
    )
    daily_exceptions = [r["total"] for r in by_measure["exceptionsOverTime"]["response"]]
    assert daily_exceptions == by_kpi["exceptions"]["values"]
    assert by_measure["activeUsers"]["totalCount"] == by_kpi["active_users"]["aggregate"]
    queries = []
    original = fetch.Fetcher._query

    def counting(self, name, params):
        queries.append(name)
        return original(self, name, params)

    fetch.Fetcher._query = counting
    query(manager, body)()
    fetch.Fetcher._query = original
    sizes = ", ".join(f"{e['measureType']} {e['totalCount']}" for e in entries)
    print(f"checked against /kpis/values; records per measure: {sizes}")
    print(f"ClickHouse queries per request: {len(queries)} ({', '.join(queries)})\n")

    with_raw = {**body, "measures": [*MEASURES[:-1], RAW_MEASURES[0]]}
    print(f"{'query (30 days, 10 measures)':<58} {'p50':>9} {'p95':>9}")
    results = {}
    for name, user, payload in (
        ("dashboard, org owner (1 organization)", manager, body),
        ("dashboard, superuser (3 organizations)", root, body),
        ("with 1 raw-event measure, org owner", manager, with_raw),
        ("with 1 raw-event measure, superuser", root, with_raw),
    ):
        samples = timed(query(user, payload), args.runs)
        results[name] = statistics.median(samples)
        print(f"{name:<58} {statistics.median(samples):>7.1f}ms {pct(samples, 0.95):>7.1f}ms")

    print(f"\n{'each measure alone (org owner)':<58} {'p50':>9} {'p95':>9}")
    for measure in [*MEASURES, *RAW_MEASURES]:
        samples = timed(query(manager, {**body, "measures": [measure]}), max(5, args.runs // 3), warmup=1)
        raw = " [raw events]" if measure in RAW_MEASURES else ""
        label = f"{measure['measureType']} ({measure.get('timeGranularity', 'hour')}){raw}"
        print(f"{label:<58} {statistics.median(samples):>7.1f}ms {pct(samples, 0.95):>7.1f}ms")
    dashboard = max(results[name] for name in results if name.startswith("dashboard"))
    verdict = "met" if dashboard < TARGET_P50_MS else "NOT met"
    load = os.getloadavg()[0]
    print(f"\ntarget p50 < {TARGET_P50_MS} ms (dashboard query): {verdict}; load average now {load:.2f}")


if __name__ == "__main__":
    main()
