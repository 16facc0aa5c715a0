"""DRF exception handler: one JSON error shape, and a `send:exception` server event for every API
error except "not authenticated" (as CVAT records them)."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from events.emit import emit, now
from events.record import EventRecord

log = logging.getLogger("api")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        # An unexpected error: answer JSON, not Django's HTML page, and record the stack.
        log.exception("unhandled API error", exc_info=exc)
        response = Response(
            {"detail": "Internal server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR
        )
    # Not recorded: anonymous requests, and refused password guesses (one event per guess would
    # let an attacker fill the spool; the wrong passwords before the lockout are recorded).
    if not isinstance(exc, exceptions.NotAuthenticated | exceptions.Throttled):
        record_exception(exc, context, response.status_code)
    return response


def record_exception(exc: Exception, context: dict[str, Any], status_code: int) -> None:
    request = context.get("request")
    view = context.get("view")
    message = str(exc) if not isinstance(exc, Http404) else "Not found."
    payload: dict[str, Any] = {
        "message": message,
        "status_code": status_code,
        "basename": getattr(view, "basename", None) or type(view).__name__ if view else None,
        "action": getattr(view, "action", None),
    }
    if request is not None:
        payload["request"] = {
            "url": request.build_absolute_uri(),
            "method": request.method,
            "content_type": request.content_type,
            "query_params": dict(request.query_params.lists()) if hasattr(request, "query_params") else {},
        }
    if status_code >= 500:
        payload["stack"] = "".join(traceback.format_exception(exc))
    org = getattr(request, "organization", None) if request is not None else None
    # Not on commit: the request's transaction is being rolled back, the error still happened.
    emit(
        EventRecord(
            scope="send:exception",
            timestamp=now(),
            source="server",
            count=1,
            org_id=getattr(org, "pk", None),
            org_slug=getattr(org, "slug", None),
            payload=payload,
        ),
        on_commit=False,
    )
