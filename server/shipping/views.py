"""Health of the pipeline (instance admins), the liveness probe (anyone: status and reason words
only), and the Prometheus metrics (a scraper's token, or an instance admin)."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rest_framework import authentication
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shipping.health import pipeline_health, pipeline_state
from shipping.metrics import build_registry

SCRAPER = "metrics-token"


class InstanceAdmin(BasePermission):
    """Instance-wide details (every organization's pipeline) are for superusers and staff."""

    message = "Only instance administrators may see the pipeline's health."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        admin = user.is_superuser or user.is_staff
        return bool(user and user.is_authenticated and user.is_active and admin)


class HealthView(APIView):
    permission_classes = [InstanceAdmin]

    @extend_schema(
        summary="Pipeline health: status, reasons, spool depth, oldest unshipped event, quarantine",
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="ok, or degraded (rows quarantined)"),
            503: OpenApiResponse(OpenApiTypes.OBJECT, description="stuck: shipping fails or lags"),
            401: OpenApiResponse(OpenApiTypes.OBJECT, description="Not signed in"),
            403: OpenApiResponse(OpenApiTypes.OBJECT, description="Not an instance administrator"),
        },
    )
    def get(self, request: Request) -> Response:
        health = pipeline_health()
        return Response(health, status=503 if health["status"] == "stuck" else 200)


class LivenessView(APIView):
    """For container health checks: no authentication, so nothing but the status and reason words
    (no figures, no error text, nothing about any organization)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Liveness probe: 503 while shipping is stuck",
        responses={200: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> JsonResponse:
        state = pipeline_state()
        return JsonResponse(
            {"status": state.status, "reasons": list(state.reasons)},
            status=503 if state.status == "stuck" else 200,
        )


class ScrapeTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <METRICS_TOKEN>`: a Prometheus scraper, no user. Any other header is
    left to the API's own authenticators (an instance admin's API token also works)."""

    def authenticate(self, request: Any) -> tuple[Any, str] | None:
        token = settings.METRICS_TOKEN
        parts = authentication.get_authorization_header(request).split()
        if not token or len(parts) != 2 or parts[0].lower() != b"bearer":
            return None
        if not hmac.compare_digest(parts[1], token.encode()):
            return None
        return AnonymousUser(), SCRAPER


class ScraperOrInstanceAdmin(InstanceAdmin):
    message = "Send METRICS_TOKEN as a bearer token, or sign in as an instance administrator."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.auth == SCRAPER or super().has_permission(request, view)


_registry = build_registry()


class MetricsView(APIView):
    authentication_classes = [ScrapeTokenAuthentication, *APIView.authentication_classes]
    permission_classes = [ScraperOrInstanceAdmin]

    @extend_schema(
        summary="Prometheus metrics of the pipeline (text exposition format)",
        responses={
            (200, "text/plain"): OpenApiTypes.STR,
            401: OpenApiResponse(OpenApiTypes.OBJECT, description="No METRICS_TOKEN and not signed in"),
            403: OpenApiResponse(OpenApiTypes.OBJECT, description="Not an instance administrator"),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
