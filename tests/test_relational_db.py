"""What depends on the relational database itself: the Django migrations, keyed client batches
posted concurrently, and export job claims from two workers at once. Marked `relational`: they
run in every suite on the configured database (SQLite by default) and again on PostgreSQL, the
compose stack's database (tests/test_on_postgresql.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from conftest import create_project_tree, rows
from exports import service, worker
from exports.models import ExportJob, ExportStatus
from exports.params import ExportRequest
from exports.query import ExportSpec

pytestmark = pytest.mark.relational


def in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """`work(i)` in `count` threads started together, each on its own database connection."""
    start = threading.Barrier(count)

    def run(i: int) -> Any:
        try:
            start.wait(timeout=30)
            return work(i)
        finally:
            connections.close_all()  # this thread's connection: the test database can be dropped

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_the_migrations_match_the_models_and_reverse_and_reapply(transactional_db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
    # The apps whose tables only this project owns, down to nothing and back up.
    for app in ("exports", "events"):
        call_command("migrate", app, "zero", verbosity=0)
        assert f"{app}_" not in " ".join(connection.introspection.table_names())
    call_command("migrate", verbosity=0)
    tables = connection.introspection.table_names()
    assert "exports_exportjob" in tables
    plan = StringIO()
    call_command("migrate", "--plan", stdout=plan)
    assert "No planned migration operations." in plan.getvalue()


def test_a_keyed_batch_posted_concurrently_is_stored_once(org_api, ship, clickhouse):
    job_id = create_project_tree(org_api, tasks=1, jobs_per_task=1)["jobs"][0]["id"]
    now = datetime.now(UTC)
    stamp = (now - timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    body = {
        "events": [
            {"scope": "load:job", "timestamp": stamp, "job_id": job_id},
            {"scope": "draw:object", "timestamp": stamp, "job_id": job_id, "count": 3},
        ],
        "timestamp": now.isoformat().replace("+00:00", "Z"),
    }

    def post(_: int) -> tuple[int, bytes]:
        client = APIClient()
        client.force_authenticate(org_api.user)
        response = client.post(
            "/api/events", body, format="json", HTTP_X_ORGANIZATION="acme", HTTP_IDEMPOTENCY_KEY="same-key"
        )
        return response.status_code, response.content

    answers = in_threads(6, post)
    assert sorted(status for status, _ in answers).count(201) >= 1, answers
    assert all(status in (200, 201) for status, _ in answers), answers
    # Every retry answers the first answer (the same JSON; PostgreSQL's jsonb does not keep key order).
    assert (
        len({orjson.dumps(orjson.loads(content), option=orjson.OPT_SORT_KEYS) for _, content in answers}) == 1
    )
    ship()
    stored = rows(
        clickhouse,
        "SELECT count() AS n, uniqExact(event_id) AS ids FROM events"
        " WHERE scope IN ('load:job', 'draw:object')",
    )
    assert stored == [{"n": 2, "ids": 2}]


def queue(user, count: int) -> list[ExportJob]:
    since = datetime(2026, 3, 1, tzinfo=UTC)
    spec = ExportSpec(since=since, to=since + timedelta(days=1))
    return [service.enqueue(user, ExportRequest(spec=spec, filename="e.csv"), "job") for _ in range(count)]


def test_two_workers_claim_every_job_exactly_once(transactional_db, django_user_model):
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    jobs = queue(user, 40)

    def drain(_: int) -> list[str]:
        claimed = []
        while (job := worker.claim_next()) is not None:
            claimed.append(str(job.pk))
        return claimed

    first, second = in_threads(2, drain)
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(str(job.pk) for job in jobs)
    assert set(ExportJob.objects.values_list("status", flat=True)) == {ExportStatus.STARTED}
    assert set(ExportJob.objects.values_list("attempts", flat=True)) == {1}


def test_a_locked_job_is_skipped_not_waited_for(transactional_db, django_user_model):
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip(f"{connection.vendor} has no SELECT ... FOR UPDATE SKIP LOCKED (claims use updates)")
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    first, second = queue(user, 2)
    locked, release = threading.Event(), threading.Event()

    def hold_the_first_job() -> None:
        try:
            with transaction.atomic():
                ExportJob.objects.select_for_update().get(pk=first.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_first_job)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        claimed = worker.claim_next()  # another worker, while the first job's row is locked
        assert claimed is not None and claimed.pk == second.pk
    finally:
        release.set()
        holder.join()
    assert worker.claim_next().pk == first.pk
