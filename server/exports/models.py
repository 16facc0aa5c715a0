"""Export jobs: one row per requested download of raw events, whichever API shape started it.

The row is the whole state of the job. Workers claim queued rows (`exports.worker`), stamp a
heartbeat while they stream the file, and a row left `started` with a stale heartbeat (its
process died) is put back in the queue, so an export interrupted by a restart runs again.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models


class ExportStatus(models.TextChoices):
    QUEUED = "queued"
    STARTED = "started"
    FAILED = "failed"
    FINISHED = "finished"


class ExportFormat(models.TextChoices):
    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


class ExportFlow(models.TextChoices):
    # `GET /api/events?...` (query_id) and `POST /api/events/export` (rq_id).
    CLASSIC = "classic"
    JOB = "job"


class ExportJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    flow = models.CharField(max_length=16, choices=ExportFlow.choices, default=ExportFlow.JOB)
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    # The effective filters after the permission filter: org_id, project_id, task_id, job_id,
    # user_id (int or null) and from / to (ISO-8601 UTC, always set).
    filters = models.JSONField(default=dict)
    format = models.CharField(max_length=16, choices=ExportFormat.choices, default=ExportFormat.CSV)
    # The name the file is downloaded as.
    filename = models.CharField(max_length=255)
    # Where the finished file is (empty until it is written, and again once it has expired).
    file_path = models.CharField(max_length=1024, blank=True, default="")
    rows = models.BigIntegerField(default=0)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True, default="")
    created_date = models.DateTimeField(auto_now_add=True)
    started_date = models.DateTimeField(null=True, blank=True)
    finished_date = models.DateTimeField(null=True, blank=True)
    expiry_date = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Who holds a started job: a token per claim, so a worker that lost its claim (it was
    # presumed dead and the job requeued) can neither heartbeat nor finish it.
    claim = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["created_date"]
        indexes = [
            models.Index(fields=["status", "created_date"], name="exportjob_status_created"),
            models.Index(fields=["expiry_date"], name="exportjob_expiry"),
        ]

    def __str__(self) -> str:
        return f"export {self.id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.STARTED)

    def describe_filters(self) -> dict[str, Any]:
        keys = ("org_id", "project_id", "task_id", "job_id", "user_id")
        return {key: self.filters.get(key) for key in keys}
