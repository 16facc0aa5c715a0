"""CVAT's job flow for event exports:

    POST /api/events/export?<filters>[&filename=][&format=]  -> 202 {"rq_id": "<uuid>"}
    GET  /api/requests/{rq_id}                                -> status, progress, dates, owner, result_url
    GET  /api/requests                                        -> your requests, paginated
    GET  /api/events/download?rq_id=<uuid>                    -> 200, the file (repeatable until it expires)

Only the owner of a request sees it and downloads its file. After the expiry (EXPORT_TTL_HOURS)
the download answers 404 "The exported file has expired, please retry exporting".
"""

from __future__ import annotations

import uuid

from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import Pagination
from accounts.permissions import OrganizationContext
from exports import service
from exports.classic import FILE_RESPONSES, FILTER_PARAMETERS, download_response
from exports.models import ExportFlow, ExportJob, ExportStatus
from exports.params import organization_of, parse_export_request


class _NoFormatOverride:
    URL_FORMAT_OVERRIDE = None


class ExportContentNegotiation(DefaultContentNegotiation):
    """`?format=` names the export file's format here, not a DRF renderer."""

    settings = _NoFormatOverride()


class ExportEventsView(APIView):
    permission_classes = [permissions.IsAuthenticated, OrganizationContext]
    content_negotiation_class = ExportContentNegotiation

    @extend_schema(
        summary="Start an export of raw events",
        description=__doc__,
        request=None,
        parameters=FILTER_PARAMETERS,
        responses={
            202: OpenApiResponse(OpenApiTypes.OBJECT, description='{"rq_id": "<uuid>"}'),
            400: OpenApiResponse(description="Invalid parameter"),
            403: OpenApiResponse(description="A filter conflicts with the permission filter"),
        },
    )
    def post(self, request: Request) -> Response:
        export = parse_export_request(request, organization_of(request))
        job = service.enqueue(request.user, export, ExportFlow.JOB)
        return Response({"rq_id": str(job.id)}, status=status.HTTP_202_ACCEPTED)


def _own_job(request: Request, raw_id: str) -> ExportJob:
    try:
        job_id = uuid.UUID(raw_id)
    except ValueError:
        raise NotFound("Unknown request id") from None
    job = ExportJob.objects.select_related("owner").filter(pk=job_id).first()
    if job is None or job.owner_id != request.user.pk:
        raise NotFound("Unknown request id")
    return job


class RequestListView(APIView):
    """`GET /api/requests`: your export requests, newest first, CVAT's paginated shape;
    `?status=` (queued, started, failed, finished) filters them."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Your export requests",
        operation_id="requests_list",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=[s.value for s in ExportStatus]),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="{count, next, previous, results}")},
    )
    def get(self, request: Request) -> Response:
        jobs = ExportJob.objects.select_related("owner").filter(owner=request.user)
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in ExportStatus.values:
                raise ValidationError({"status": [f"Use one of {', '.join(ExportStatus.values)}."]})
            jobs = jobs.filter(status=wanted)
        paginator = Pagination()
        page = paginator.paginate_queryset(jobs.order_by("-created_date"), request, view=self)
        return paginator.get_paginated_response([service.describe(request, job) for job in page])


class RequestView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Status of an export request",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT), 404: OpenApiResponse(description="Unknown")},
    )
    def get(self, request: Request, rq_id: str) -> Response:
        return Response(service.describe(request, _own_job(request, rq_id)))


class DownloadView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Download the file of a finished export",
        parameters=[OpenApiParameter("rq_id", OpenApiTypes.UUID, required=True)],
        responses={
            **FILE_RESPONSES,
            400: OpenApiResponse(description="Missing, invalid or unknown request id; export not finished"),
            403: OpenApiResponse(description="Not your export"),
            404: OpenApiResponse(description="The file has expired"),
        },
    )
    def get(self, request: Request) -> HttpResponseBase:
        raw = request.query_params.get("rq_id")
        if not raw:
            raise ValidationError("Missing request id in the query parameters")
        try:
            job_id = uuid.UUID(raw)
        except ValueError:
            raise ValidationError("Invalid export request id") from None
        job = ExportJob.objects.filter(pk=job_id).first()
        if job is None:
            raise ValidationError("Unknown export request id")
        if job.owner_id != request.user.pk:
            raise PermissionDenied("Only the user who started an export can download its file")
        if job.status == ExportStatus.FAILED:
            raise ValidationError(f"The export failed: {job.error or 'unknown error'}")
        if job.status != ExportStatus.FINISHED:
            raise ValidationError("The export process is not finished")
        if service.is_expired(job):
            raise NotFound(service.EXPIRED_MESSAGE)
        return download_response(job)
