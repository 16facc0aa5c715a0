"""Health of the pipeline: spool depth, age of the oldest unshipped event, last shipping error."""

from __future__ import annotations

import time

from django.http import JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsInstanceAdmin
from shipping.service import get_flusher, get_spool

# An unshipped event older than this means shipping is stuck.
STALE_AFTER_SECONDS = 300


def pipeline_health() -> dict:
    stats = get_spool().stats()
    flusher = get_flusher()
    now = time.time()
    oldest_age = None if stats.oldest_created_at is None else round(now - stats.oldest_created_at, 3)
    healthy = oldest_age is None or oldest_age < STALE_AFTER_SECONDS
    return {
        "status": "ok" if healthy else "degraded",
        "sink": flusher.sink.name,
        "spool": {
            "depth": stats.depth,
            "oldest_unshipped_age_seconds": oldest_age,
            "batches_in_flight": stats.batches_in_flight,
            "failing_batches": stats.failing_batches,
        },
        "shipping": {
            "running": flusher.is_running,
            "shipped_rows": flusher.state.shipped_rows,
            "failed_attempts": flusher.state.failed_attempts,
            "last_success_at": flusher.state.last_success_at,
            "last_error": flusher.state.last_error or stats.last_batch_error,
            "last_error_at": flusher.state.last_error_at,
        },
    }


class HealthView(APIView):
    # Instance-wide details: admins only (everybody may read the status at /healthz).
    permission_classes = [IsAuthenticated, IsInstanceAdmin]

    @extend_schema(summary="Pipeline health: spool depth, oldest unshipped event, last shipping error")
    def get(self, request: Request) -> Response:
        health = pipeline_health()
        return Response(health, status=200 if health["status"] == "ok" else 503)


class LivenessView(APIView):
    """For container health checks: no details, no authentication."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(summary="Liveness probe")
    def get(self, request: Request) -> JsonResponse:
        return JsonResponse({"status": pipeline_health()["status"]})
