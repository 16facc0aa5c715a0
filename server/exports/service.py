"""Export jobs as the API sees them: create, re-enqueue, check, describe, and expire."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exports.models import ExportJob, ExportStatus
from exports.params import ExportRequest
from exports.query import EXTENSIONS

log = logging.getLogger("exports")

# Rows of expired jobs are kept this long after expiry (their status and the "expired" answer
# stay available), then deleted.
ROW_RETENTION = timedelta(days=7)
EXPIRED_MESSAGE = "The exported file has expired, please retry exporting"


def ttl() -> timedelta:
    return timedelta(hours=settings.EXPORT_TTL_HOURS)


def export_dir() -> Path:
    directory = Path(settings.EXPORT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _wake_worker() -> None:
    from exports.worker import wake

    wake()


def enqueue(owner: Any, export: ExportRequest, flow: str, job_id: uuid.UUID | None = None) -> ExportJob:
    """A new queued job (with `job_id` when the client chose it, as CVAT's classic query_id)."""
    job = ExportJob.objects.create(
        id=job_id or uuid.uuid4(),
        owner=owner,
        flow=flow,
        filters=export.spec.to_json(),
        format=export.spec.format,
        filename=export.filename,
    )
    transaction.on_commit(_wake_worker)
    return job


def reenqueue(job: ExportJob, export: ExportRequest) -> ExportJob:
    """Run a finished-and-gone or failed job again, with the filters of the request at hand."""
    remove_file(job)
    job.filters = export.spec.to_json()
    job.format = export.spec.format
    job.filename = export.filename
    job.status = ExportStatus.QUEUED
    job.rows = 0
    job.progress = 0.0
    job.error = ""
    job.started_date = job.finished_date = job.expiry_date = job.heartbeat = None
    job.attempts = 0
    job.claim = ""
    job.created_date = timezone.now()
    job.save()
    transaction.on_commit(_wake_worker)
    return job


def remove_file(job: ExportJob) -> None:
    if job.file_path:
        Path(job.file_path).unlink(missing_ok=True)
        job.file_path = ""


def is_expired(job: ExportJob, now: datetime | None = None) -> bool:
    """A finished job whose file can no longer be downloaded."""
    now = now or timezone.now()
    if job.expiry_date is not None and job.expiry_date <= now:
        return True
    return not job.file_path or not Path(job.file_path).is_file()


def content_type(job: ExportJob) -> str:
    from exports.query import CONTENT_TYPES

    return CONTENT_TYPES[job.format]


def result_url(request: Any, job: ExportJob) -> str | None:
    if job.status != ExportStatus.FINISHED:
        return None
    return request.build_absolute_uri(f"/api/events/download?rq_id={quote(str(job.id))}")


def describe(request: Any, job: ExportJob) -> dict[str, Any]:
    """CVAT's `/api/requests/{rq_id}` shape for an events export."""
    filters = job.describe_filters()
    return {
        "status": job.status,
        "message": job.error if job.status == ExportStatus.FAILED else "",
        "id": str(job.id),
        "operation": {
            "type": "export:events",
            "target": "events",
            "project_id": filters["project_id"],
            "task_id": filters["task_id"],
            "job_id": filters["job_id"],
            "org_id": filters["org_id"],
            "format": job.format,
            "lightweight": None,
        },
        "progress": round(job.progress, 4),
        "created_date": job.created_date,
        "started_date": job.started_date,
        "finished_date": job.finished_date,
        "expiry_date": job.expiry_date,
        "owner": {"id": job.owner_id, "username": job.owner.get_username()},
        "result_url": result_url(request, job),
        "result_id": None,
        # Ours, beyond CVAT's shape:
        "flow": job.flow,
        "filters": job.filters,
        "rows": job.rows,
        "filename": job.filename,
    }


def final_path(job: ExportJob, claim: str) -> Path:
    return export_dir() / f"{job.id}.{claim}.{EXTENSIONS[job.format]}"


def part_path(job: ExportJob, claim: str) -> Path:
    return export_dir() / f"{job.id}.{claim}.part"


def cleanup(now: datetime | None = None, stale_part_seconds: float = 60.0) -> int:
    """Delete expired files (and forget them), then rows long expired, then stray files: parts of
    attempts that are over (a crashed process's) and files no job refers to. Returns the number
    of files deleted."""
    now = now or timezone.now()
    deleted = 0
    expired = ExportJob.objects.filter(expiry_date__lte=now).exclude(file_path="")
    for job in expired.iterator():
        if Path(job.file_path).is_file():
            deleted += 1
        Path(job.file_path).unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk, file_path=job.file_path).update(file_path="")
    ExportJob.objects.filter(expiry_date__lte=now - ROW_RETENTION).delete()

    directory = Path(settings.EXPORT_DIR)
    if not directory.is_dir():
        return deleted
    referenced = set(ExportJob.objects.exclude(file_path="").values_list("file_path", flat=True))
    # Files of attempts in progress: <id>.<claim>.part and <id>.<claim>.<ext>.native.part.
    running = tuple(
        f"{pk}.{claim}."
        for pk, claim in ExportJob.objects.filter(status=ExportStatus.STARTED).values_list("pk", "claim")
    )
    wall_clock = time.time()
    for path in directory.iterdir():
        if not path.is_file() or str(path) in referenced or path.name.startswith(running):
            continue
        age = wall_clock - path.stat().st_mtime
        limit = stale_part_seconds if path.name.endswith(".part") else ttl().total_seconds()
        if age > limit:
            path.unlink(missing_ok=True)
            deleted += 1
    if deleted:
        log.info("export cleanup: %d files deleted", deleted)
    return deleted
