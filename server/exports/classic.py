"""CVAT's classic (deprecated in CVAT, still used by its UI and scripts) export flow on `GET /api/events`:

    GET /api/events?<filters>[&filename=][&format=]     -> 202 {"query_id": "<uuid>"}  (export started)
    GET /api/events?...&query_id=<uuid>                  -> 202 while queued or running,
                                                            201 (empty body) when the file is ready
    GET /api/events?...&query_id=<uuid>&action=download  -> 200, the file as an attachment

- an `action` other than `download`: 400; a `query_id` that is not a UUID: 400;
- a failed export: 500 with its error, and the job is forgotten (asking again starts it anew);
- an unknown `query_id`, or one whose file has expired: the export (re)starts under that id, 202;
- unlike CVAT, a download does not delete the file: it can be downloaded again until it expires.

Every answer carries CVAT's `Deprecation` header. `ClientEventsView.get` delegates here.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import FileResponse, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from exports import service
from exports.models import ExportFlow, ExportJob, ExportStatus
from exports.params import organization_of, parse_export_request
from exports.query import CONTENT_TYPES

# CVAT's value: deprecated since 2025-03-17.
DEPRECATION = "@1742169600"

FILTER_PARAMETERS = [
    OpenApiParameter("org_id", OpenApiTypes.INT, description="Only events of this organization"),
    OpenApiParameter("project_id", OpenApiTypes.INT, description="Only events of this project"),
    OpenApiParameter("task_id", OpenApiTypes.INT, description="Only events of this task"),
    OpenApiParameter("job_id", OpenApiTypes.INT, description="Only events of this job"),
    OpenApiParameter("user_id", OpenApiTypes.INT, description="Only events of this user"),
    OpenApiParameter(
        "from",
        OpenApiTypes.DATETIME,
        description="ISO-8601; default: creation of the narrowest object named (job, task, project, org)",
    ),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="ISO-8601; default: now"),
    OpenApiParameter(
        "filename", OpenApiTypes.STR, description="Download name (default logs_<time>.<ext>, as CVAT)"
    ),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "jsonl", "parquet"], description="Default csv"),
]

# The downloaded file, one media type per `format`.
FILE_RESPONSES = {
    (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description=f"The file (format={name})")
    for name, media_type in CONTENT_TYPES.items()
}

classic_export_schema = extend_schema(
    summary="Export raw events (CVAT's classic flow)",
    description=__doc__,
    parameters=[
        *FILTER_PARAMETERS,
        OpenApiParameter("query_id", OpenApiTypes.UUID, description="The id answered by the first call"),
        OpenApiParameter("action", OpenApiTypes.STR, enum=["download"]),
    ],
    responses={
        **FILE_RESPONSES,
        201: OpenApiResponse(description="The file is ready"),
        202: OpenApiResponse(OpenApiTypes.OBJECT, description='{"query_id": "<uuid>"}: started or running'),
        400: OpenApiResponse(description="Invalid parameter"),
        403: OpenApiResponse(description="A filter conflicts with the permission filter"),
        500: OpenApiResponse(description="The export failed"),
    },
)


def parse_query_id(raw: str | None) -> uuid.UUID | None:
    if raw is None or raw == "":
        return None
    try:
        return uuid.UUID(raw)
    except (ValueError, AttributeError, TypeError):
        raise ValidationError(f"Invalid query_id {raw!r}: expected a UUID") from None


def download_response(job: ExportJob) -> FileResponse:
    response = FileResponse(
        open(job.file_path, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=job.filename,
        content_type=service.content_type(job),
    )
    return response


def _accepted(job: ExportJob) -> Response:
    return Response({"query_id": str(job.id)}, status=status.HTTP_202_ACCEPTED)


def _respond(request: Any) -> HttpResponseBase:
    params = request.query_params
    action = params.get("action")
    if action not in (None, "download"):
        raise ValidationError("Unexpected action specified for the request")
    query_id = parse_query_id(params.get("query_id"))
    organization = organization_of(request)

    if query_id is None:
        export = parse_export_request(request, organization)
        return _accepted(service.enqueue(request.user, export, ExportFlow.CLASSIC))

    job = ExportJob.objects.select_related("owner").filter(pk=query_id).first()
    if job is not None and job.owner_id != request.user.pk:
        raise NotFound("Unknown query_id")
    if job is None:
        export = parse_export_request(request, organization)
        return _accepted(service.enqueue(request.user, export, ExportFlow.CLASSIC, job_id=query_id))
    if job.is_active:
        return _accepted(job)
    if job.status == ExportStatus.FAILED:
        error = job.error or "unknown error"
        service.remove_file(job)
        job.delete()
        return Response({"detail": f"Export failed: {error}"}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    if service.is_expired(job):
        return _accepted(service.reenqueue(job, parse_export_request(request, organization)))
    if action == "download":
        return download_response(job)
    return Response(status=status.HTTP_201_CREATED)


def classic_export(request: Any) -> HttpResponseBase:
    """`GET /api/events`: see the module docstring."""
    response = _respond(request)
    response["Deprecation"] = DEPRECATION
    return response
