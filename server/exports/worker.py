"""The export worker: claims queued jobs from the Django database and writes their files.

- Claiming is atomic: `SELECT ... FOR UPDATE SKIP LOCKED` where the database has it (Postgres),
  else a conditional `UPDATE ... WHERE status='queued'` that only one claimant can win (SQLite).
  Any number of workers (threads or processes) can share the queue.
- A running job's row gets a heartbeat every HEARTBEAT_SECONDS. A `started` job whose heartbeat
  is older than STALE_SECONDS belongs to a process that died (a restart, a crash): it is queued
  again and runs from the start (at most MAX_ATTEMPTS times, then it fails). Each claim has its
  own token, so a worker presumed dead cannot heartbeat, finish or overwrite the new attempt.
- Finished files expire after EXPORT_TTL_HOURS; the worker deletes them every CLEANUP_SECONDS.

Embedded mode runs one worker as a daemon thread of the server (`start_export_worker()`, when
EXPORT_WORKER_IN_PROCESS); the compose deployment runs `manage.py run_export_worker`.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from exports import service
from exports.models import ExportJob, ExportStatus
from exports.query import ExportSpec, write_export

log = logging.getLogger("exports.worker")

HEARTBEAT_SECONDS = settings.EXPORT_HEARTBEAT_SECONDS
STALE_SECONDS = settings.EXPORT_STALE_SECONDS
MAX_ATTEMPTS = settings.EXPORT_MAX_ATTEMPTS
CLEANUP_SECONDS = 300.0
PROGRESS_WRITE_SECONDS = 1.0


class LostClaim(Exception):
    """The job was taken from this worker (presumed dead and queued again)."""


def new_claim() -> str:
    return f"{os.getpid()}-{uuid.uuid4().hex[:16]}"


def claim_next(now: datetime | None = None) -> ExportJob | None:
    """Take the oldest queued job, atomically; None when the queue is empty."""
    now = now or timezone.now()
    claim = new_claim()
    changes = {
        "status": ExportStatus.STARTED,
        "claim": claim,
        "started_date": now,
        "heartbeat": now,
        "attempts": F("attempts") + 1,
        "progress": 0.0,
        "rows": 0,
        "error": "",
    }
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            job = (
                ExportJob.objects.select_for_update(skip_locked=True)
                .filter(status=ExportStatus.QUEUED)
                .order_by("created_date")
                .first()
            )
            if job is None:
                return None
            ExportJob.objects.filter(pk=job.pk).update(**changes)
        return ExportJob.objects.select_related("owner").get(pk=job.pk)
    for _ in range(20):
        candidate = (
            ExportJob.objects.filter(status=ExportStatus.QUEUED)
            .order_by("created_date")
            .values_list("pk", flat=True)
            .first()
        )
        if candidate is None:
            return None
        if ExportJob.objects.filter(pk=candidate, status=ExportStatus.QUEUED).update(**changes):
            return ExportJob.objects.select_related("owner").get(pk=candidate)
    return None  # lost every race: others are busy with the queue


def requeue_stale(now: datetime | None = None) -> int:
    """Put back jobs whose worker stopped heartbeating; fail those out of attempts."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=STALE_SECONDS)
    stale = ExportJob.objects.filter(status=ExportStatus.STARTED, heartbeat__lt=cutoff)
    failed = stale.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=ExportStatus.FAILED,
        claim="",
        error=f"The export was interrupted {MAX_ATTEMPTS} times (the worker running it stopped); giving up.",
        finished_date=now,
        expiry_date=now + service.ttl(),
    )
    requeued = stale.filter(attempts__lt=MAX_ATTEMPTS).update(
        status=ExportStatus.QUEUED, claim="", progress=0.0
    )
    if requeued or failed:
        log.warning("exports: %d interrupted jobs queued again, %d given up", requeued, failed)
    return requeued


class Heartbeat:
    """Stamps the claimed row every HEARTBEAT_SECONDS (from its own thread, so a long ClickHouse
    query cannot starve it) and writes progress at most every PROGRESS_WRITE_SECONDS."""

    def __init__(self, job: ExportJob) -> None:
        self.job_id = job.pk
        self.claim = job.claim
        self.lost = False
        self._progress: float | None = None
        self._written_at = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"export-heartbeat-{job.pk}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self, **fields: object) -> None:
        mine = ExportJob.objects.filter(pk=self.job_id, status=ExportStatus.STARTED, claim=self.claim)
        updated = mine.update(heartbeat=timezone.now(), **fields)
        if not updated:
            self.lost = True

    def _run(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                self._beat()
        finally:
            connection.close()

    def progress(self, done: int, total: int) -> None:
        """The export's progress callback (runs in the exporting thread)."""
        if self.lost:
            raise LostClaim()
        self._progress = 1.0 if total == 0 else min(done / total, 1.0)
        moment = time.monotonic()
        if moment - self._written_at >= PROGRESS_WRITE_SECONDS or done >= total:
            self._written_at = moment
            self._beat(progress=self._progress, rows=done)
            if self.lost:
                raise LostClaim()


def run_claimed(job: ExportJob) -> str:
    """Write the file of a job this worker has claimed; returns the status it ends in."""
    spec = ExportSpec.from_json(job.filters, job.format)
    part = service.part_path(job, job.claim)
    final = service.final_path(job, job.claim)
    mine = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.STARTED, claim=job.claim)
    started = time.monotonic()
    try:
        with Heartbeat(job) as heartbeat:
            rows = write_export(spec, part, progress=heartbeat.progress)
            if heartbeat.lost:
                raise LostClaim()
        os.replace(part, final)
    except LostClaim:
        part.unlink(missing_ok=True)
        log.warning("export %s: claim lost (another worker took it over); result discarded", job.pk)
        return "lost"
    except Exception as exc:
        part.unlink(missing_ok=True)
        log.exception("export %s failed", job.pk)
        now = timezone.now()
        mine.update(
            status=ExportStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:4000],
            finished_date=now,
            expiry_date=now + service.ttl(),
        )
        return ExportStatus.FAILED
    now = timezone.now()
    if not mine.update(
        status=ExportStatus.FINISHED,
        file_path=str(final),
        rows=rows,
        progress=1.0,
        finished_date=now,
        expiry_date=now + service.ttl(),
        heartbeat=now,
    ):
        final.unlink(missing_ok=True)
        log.warning("export %s: claim lost before it finished; result discarded", job.pk)
        return "lost"
    log.info("export %s: %d rows (%s) in %.1fs", job.pk, rows, job.format, time.monotonic() - started)
    return ExportStatus.FINISHED


def run_pending(limit: int | None = None) -> int:
    """Requeue stale jobs, then run queued jobs in this thread until none is left (or `limit`);
    returns how many ran."""
    requeue_stale()
    done = 0
    while limit is None or done < limit:
        job = claim_next()
        if job is None:
            break
        run_claimed(job)
        done += 1
    return done


class ExportWorker(threading.Thread):
    def __init__(self, poll_seconds: float | None = None, cleanup_seconds: float = CLEANUP_SECONDS) -> None:
        super().__init__(name="export-worker", daemon=True)
        self.poll_seconds = poll_seconds if poll_seconds is not None else settings.EXPORT_WORKER_POLL_SECONDS
        self.cleanup_seconds = cleanup_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._last_cleanup = 0.0

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def run_once(self) -> int:
        close_old_connections()
        ran = run_pending(limit=1)
        if time.monotonic() - self._last_cleanup >= self.cleanup_seconds:
            self._last_cleanup = time.monotonic()
            service.cleanup()
        return ran

    def run(self) -> None:
        log.info("export worker started (poll %.2fs)", self.poll_seconds)
        try:
            while not self._stopping.is_set():
                try:
                    ran = self.run_once()
                except Exception:
                    log.exception("export worker iteration failed")
                    ran = 0
                if not ran:
                    self._wake.wait(self.poll_seconds)
                    self._wake.clear()
        finally:
            connection.close()
            log.info("export worker stopped")


_worker: ExportWorker | None = None
_worker_lock = threading.Lock()


def start_export_worker() -> ExportWorker | None:
    """Start the in-process worker thread (once) when EXPORT_WORKER_IN_PROCESS is on."""
    global _worker
    if not settings.EXPORT_WORKER_IN_PROCESS:
        return None
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = ExportWorker()
            _worker.start()
            atexit.register(stop_export_worker)
    return _worker


def stop_export_worker() -> None:
    global _worker
    with _worker_lock:
        if _worker is not None:
            _worker.stop()
            _worker = None


def wake() -> None:
    """A job was queued: let the in-process worker look now instead of at its next poll."""
    worker = _worker
    if worker is not None:
        worker.wake()
