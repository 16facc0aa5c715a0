"""The export worker and the CLI: atomic claims, restarts in the middle of an export, lost claims,
cleanup, the in-process worker thread and `manage.py export_events` (real chDB throughout)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from events.record import EventRecord
from exports import service, worker
from exports.models import ExportJob, ExportStatus
from exports.params import ExportRequest
from exports.query import CSV_HEADER, ExportSpec

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[1]


def insert(client, n: int, *, minutes: int = 1, **fields) -> None:
    records = [
        EventRecord(
            scope="change:frame",
            timestamp=T0 + timedelta(milliseconds=i * 60_000 * minutes // n),
            obj_id=i,
            org_id=1,
            **fields,
        )
        for i in range(n)
    ]
    client.raw_insert("events", None, b"\n".join(r.to_row() for r in records), fmt="JSONEachRow")


def queue_job(user, **spec_fields) -> ExportJob:
    spec = ExportSpec(since=T0 - timedelta(days=1), to=T0 + timedelta(days=1), **spec_fields)
    return service.enqueue(user, ExportRequest(spec=spec, filename="e.csv"), "job")


@pytest.fixture
def user(transactional_db, django_user_model):
    return django_user_model.objects.create_user("ann", "ann@example.com", "pw")


@pytest.fixture(autouse=True)
def export_dir(tmp_path, settings):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


def obj_ids(path: str) -> list[int]:
    return [int(row["obj_id"]) for row in csv.DictReader(io.StringIO(Path(path).read_text(), newline=""))]


@pytest.mark.relational
def test_claims_are_exclusive_and_in_creation_order(user, clickhouse):
    first, second = queue_job(user), queue_job(user)
    claimed = worker.claim_next()
    assert claimed.pk == first.pk and claimed.status == ExportStatus.STARTED and claimed.attempts == 1
    assert claimed.claim and claimed.heartbeat is not None
    assert worker.claim_next().pk == second.pk
    assert worker.claim_next() is None


def test_an_export_interrupted_by_a_restart_runs_again_and_finishes(user, clickhouse, monkeypatch):
    insert(clickhouse, 30, minutes=6)
    monkeypatch.setattr("exports.query.WINDOW_ROWS", 5)
    monkeypatch.setattr(worker, "PROGRESS_WRITE_SECONDS", 0)
    job = queue_job(user)

    # The process dies in the middle of the file: after the first windows are written.
    original = worker.Heartbeat.progress

    def dies_midway(self, done, total):
        original(self, done, total)
        if 0 < done < total:
            raise KeyboardInterrupt("server restarted")

    monkeypatch.setattr(worker.Heartbeat, "progress", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        worker.run_pending()
    job.refresh_from_db()
    assert job.status == ExportStatus.STARTED and 0 < job.progress < 1 and job.attempts == 1
    dead_claim = job.claim
    assert service.part_path(job, dead_claim).exists()  # a partial file is left behind
    monkeypatch.setattr(worker.Heartbeat, "progress", original)

    # While its heartbeat is fresh, the job is left alone (its worker may be alive).
    assert worker.run_pending() == 0
    # After the restart, once the heartbeat is stale, the next worker takes it over from the start.
    stale = timezone.now() - timedelta(seconds=worker.STALE_SECONDS + 1)
    ExportJob.objects.filter(pk=job.pk).update(heartbeat=stale)
    assert worker.run_pending() == 1
    job.refresh_from_db()
    assert job.status == ExportStatus.FINISHED and job.attempts == 2 and job.claim != dead_claim
    assert job.rows == 30 and job.progress == 1
    assert obj_ids(job.file_path) == list(range(30))
    # The dead attempt's partial file is swept by the cleanup.
    service.cleanup(stale_part_seconds=0)
    assert not service.part_path(job, dead_claim).exists() and Path(job.file_path).exists()


@pytest.mark.relational
def test_a_job_interrupted_too_often_fails(user, clickhouse):
    job = queue_job(user)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.STARTED,
        attempts=worker.MAX_ATTEMPTS,
        heartbeat=timezone.now() - timedelta(hours=1),
    )
    assert worker.run_pending() == 0
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and "interrupted" in job.error and job.expiry_date is not None


@pytest.mark.relational
def test_a_worker_that_lost_its_claim_cannot_finish_the_job(user, clickhouse):
    insert(clickhouse, 3)
    job = queue_job(user)
    zombie = worker.claim_next()
    # Presumed dead: requeued and taken over by another worker, which finishes.
    ExportJob.objects.filter(pk=job.pk).update(heartbeat=timezone.now() - timedelta(hours=1))
    assert worker.run_pending() == 1
    job.refresh_from_db()
    finished_file = job.file_path
    # The zombie wakes up and completes its own attempt: its result is discarded.
    assert worker.run_claimed(zombie) == "lost"
    job.refresh_from_db()
    assert job.status == ExportStatus.FINISHED and job.file_path == finished_file
    assert Path(finished_file).exists()
    assert sorted(p.name for p in Path(django_settings.EXPORT_DIR).iterdir()) == [Path(finished_file).name]


def test_cleanup_deletes_expired_files_and_stray_files(user, clickhouse, export_dir):
    insert(clickhouse, 2)
    job = queue_job(user)
    worker.run_pending()
    job.refresh_from_db()
    stray = export_dir / "gone-job.csv"
    stray.write_text("x")
    os.utime(stray, (time.time() - 48 * 3600,) * 2)
    assert service.cleanup() == 1 and not stray.exists() and Path(job.file_path).exists()

    ExportJob.objects.filter(pk=job.pk).update(expiry_date=timezone.now() - timedelta(minutes=1))
    assert service.cleanup() == 1
    job.refresh_from_db()
    assert job.file_path == "" and not any(export_dir.iterdir())
    # Rows are kept a while (the "expired" answer), then deleted.
    long_ago = timezone.now() - service.ROW_RETENTION - timedelta(days=1)
    ExportJob.objects.filter(pk=job.pk).update(expiry_date=long_ago)
    service.cleanup()
    assert not ExportJob.objects.filter(pk=job.pk).exists()


def test_in_process_worker_thread_runs_queued_jobs(user, clickhouse, settings):
    settings.EXPORT_WORKER_IN_PROCESS = False
    assert worker.start_export_worker() is None
    settings.EXPORT_WORKER_IN_PROCESS = True
    settings.EXPORT_WORKER_POLL_SECONDS = 0.05
    insert(clickhouse, 4)
    thread = worker.start_export_worker()
    try:
        assert thread is not None and thread.is_alive() and worker.start_export_worker() is thread
        job = queue_job(user)
        worker.wake()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status == ExportStatus.FINISHED:
                break
            time.sleep(0.05)
        assert job.status == ExportStatus.FINISHED and job.rows == 4
    finally:
        worker.stop_export_worker()
    assert not thread.is_alive()


# --- manage.py export_events ----------------------------------------------------------------------


def test_cli_writes_a_file_with_the_filters(transactional_db, clickhouse, tmp_path):
    insert(clickhouse, 5, project_id=3)
    insert(clickhouse, 2, project_id=4)
    out = tmp_path / "events.csv"
    call_command(
        "export_events",
        "--project-id",
        "3",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-02",
        "--output",
        str(out),
        "--no-progress",
    )
    assert out.read_bytes().startswith(CSV_HEADER) and obj_ids(str(out)) == list(range(5))

    call_command(
        "export_events",
        "--project-id",
        "3",
        "--from",
        "2026-03-01",
        "--format",
        "parquet",
        "--output",
        str(tmp_path / "e.parquet"),
        "--no-progress",
    )
    assert (tmp_path / "e.parquet").read_bytes()[:4] == b"PAR1"


def test_cli_writes_to_stdout_with_a_progress_bar_on_stderr(transactional_db, clickhouse, capsysbinary):
    insert(clickhouse, 3)
    call_command("export_events", "--from", "2026-03-01T00:00:00Z", "--format", "jsonl")
    captured = capsysbinary.readouterr()
    assert captured.out.count(b"\n") == 3 and b'"scope":"change:frame"' in captured.out
    assert b"3 rows written to stdout" in captured.err and b"rows" in captured.err

    call_command("export_events", "--from", "2026-03-01T00:00:00Z", "--format", "parquet", "--no-progress")
    captured = capsysbinary.readouterr()
    assert captured.out[:4] == b"PAR1" and captured.out[-4:] == b"PAR1"


def test_cli_rejects_bad_dates(transactional_db, clickhouse):
    with pytest.raises(CommandError, match="Cannot parse 'from'"):
        call_command("export_events", "--from", "someday", "--no-progress")
    with pytest.raises(CommandError, match="'from' must be before"):
        call_command("export_events", "--from", "2026-03-02", "--to", "2026-03-01", "--no-progress")


def test_cli_says_so_in_one_line_when_the_engine_is_held_by_the_server(clickhouse, tmp_path):
    # This test process holds the embedded engine, as a running server would.
    env = {
        **os.environ,
        "CLICKHOUSE_URL": django_settings.CLICKHOUSE_URL,
        "ANALYTICS_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CLICKHOUSE_MIGRATE_ON_START": "false",
        "SHIPPING_ENABLED": "false",
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "export_events",
            "--from",
            "2026-01-01",
            "--output",
            str(tmp_path / "x.csv"),
        ],
        cwd=REPO / "server",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "CommandError: The embedded ClickHouse (chDB)" in result.stderr
    assert "in use by another process" in result.stderr
    assert "Traceback" not in result.stderr
