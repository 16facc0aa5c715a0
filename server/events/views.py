"""`/api/events`: POST takes a batch of client events (CVAT's contract)."""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.views import APIView

from events import clock
from events.client_batch import PayloadTooLarge, parse_batch
from events.ingest import ingest
from exports.classic import classic_export, classic_export_schema
from exports.views import ExportContentNegotiation

REPLAY_HEADER = "Idempotent-Replayed"


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255:
        raise ValidationError({"Idempotency-Key": ["Must be 1 to 255 characters."]})
    return key


class RawBodyParser(BaseParser):
    """Hands the body over as bytes, read at most to the size limit: parse_batch parses it, with
    errors that name the event. (Django's CSRF check makes DRF parse bodies early, so the limit
    is enforced here, while reading, not later.)"""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> bytes:
        limit = settings.EVENTS_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") or "0" if request is not None else "0"
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"Request body is {declared} bytes; the limit is {limit}.")
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"Request body is larger than the limit of {limit} bytes.")
        return body


class ClientEventsView(APIView):
    parser_classes = [RawBodyParser]
    # GET is CVAT's classic export flow, where `?format=` names the file format, not a renderer.
    content_negotiation_class = ExportContentNegotiation

    @classic_export_schema
    def get(self, request: Request) -> HttpResponse:
        # CVAT's classic export flow lives on the same path: exports.classic.
        return classic_export(request)

    @extend_schema(
        summary="Send a batch of client events",
        description=(
            "CVAT's body: `{events: [...], previous_event: {...}|null, timestamp: <client send time>}`. "
            "Times are shifted by receive time minus `timestamp`; user and organization come from the "
            "request; working time is computed and stored as `send:working_time` events. With an "
            "`Idempotency-Key` header a retried batch is stored once and answered 200 with "
            f"`{REPLAY_HEADER}: true`."
        ),
        request=OpenApiTypes.OBJECT,
        parameters=[
            OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False),
        ],
        responses={
            201: OpenApiResponse(OpenApiTypes.OBJECT, description="Stored: the normalized events"),
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="A replay of an already stored batch"),
            400: OpenApiResponse(description="Invalid body; the message names the field"),
            413: OpenApiResponse(description="Body larger than EVENTS_MAX_BODY_BYTES"),
        },
    )
    def post(self, request: Request) -> HttpResponse:
        received_at = clock.now()
        body = request.data if isinstance(request.data, bytes) else b""
        batch = parse_batch(body, max_events=settings.EVENTS_MAX_PER_REQUEST)
        result = ingest(
            batch,
            user=request.user,
            # Already checked against the user's memberships by OrganizationContext.
            organization=getattr(request, "organization", None),
            received_at=received_at,
            idempotency_key=idempotency_key(request),
            member_verified=getattr(request, "organization_member_verified", False),
        )
        # CVAT's ClientEvents shape ({events, timestamp, previous_event}, payloads as JSON strings)
        # so that its SDK parses the answer, plus the working time computed from the batch.
        response = HttpResponse(
            orjson.dumps(result.response()),
            content_type="application/json",
            status=200 if result.replayed else 201,
        )
        if result.replayed:
            response[REPLAY_HEADER] = "true"
        return response
