"""One error shape for the whole analytics API (KPIs, metrics, per-user summaries, query API):

    HTTP 4xx/5xx
    {"error": {"code": "too_many_buckets", "message": "...", "field": "bucket"}}

- `code`: stable, snake_case, for programs (`invalid_parameter`, `unknown_kpi`, `forbidden`, ...);
- `message`: one plain sentence for people;
- `field`: the query parameter (or path part) at fault, or null.

Views raise `AnalyticsError` (or any DRF exception); `AnalyticsAPIView` routes every exception
through `exception_handler`, which first calls the project-wide handler (so the failure is still
recorded as a `send:exception` server event) and then rewrites the body into the envelope.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework import exceptions, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import OrganizationContext


class AnalyticsError(exceptions.APIException):
    """A client error with the envelope's code, message and field."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_parameter"

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid_parameter",
        field: str | None = None,
        status_code: int = status.HTTP_400_BAD_REQUEST,
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.field = field
        self.message = message


def forbidden(message: str, field: str | None = None) -> AnalyticsError:
    return AnalyticsError(message, code="forbidden", field=field, status_code=status.HTTP_403_FORBIDDEN)


def not_found(message: str, field: str | None = None) -> AnalyticsError:
    return AnalyticsError(message, code="not_found", field=field, status_code=status.HTTP_404_NOT_FOUND)


def envelope(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


# DRF's default codes, renamed where ours read better.
_CODES = {
    "not_authenticated": "not_authenticated",
    "authentication_failed": "authentication_failed",
    "permission_denied": "forbidden",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "not_acceptable": "not_acceptable",
    "unsupported_media_type": "unsupported_media_type",
    "throttled": "throttled",
    "invalid": "invalid_parameter",
    "parse_error": "invalid_parameter",
}


def _first_message(detail: Any) -> tuple[str, str | None]:
    """(message, field) of the first error in a DRF detail (string, list or {field: [...]})."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            message, _ = _first_message(value)
            field = None if key in ("detail", "non_field_errors") else str(key)
            return message, field
        return "Invalid request.", None
    if isinstance(detail, list | tuple):
        return _first_message(detail[0]) if detail else ("Invalid request.", None)
    return str(detail), None


def to_envelope(exc: Exception, status_code: int) -> dict[str, Any]:
    if isinstance(exc, AnalyticsError):
        return envelope(exc.error_code, exc.message, exc.field)
    if isinstance(exc, exceptions.APIException):
        message, field = _first_message(exc.detail)
        code = _CODES.get(exc.default_code, str(exc.default_code))
        if isinstance(exc, exceptions.ValidationError):
            code = "invalid_parameter"
        return envelope(code, message, field)
    if status_code == status.HTTP_404_NOT_FOUND:
        return envelope("not_found", "Not found.")
    if status_code == status.HTTP_403_FORBIDDEN:
        return envelope("forbidden", "You do not have permission to perform this action.")
    return envelope("server_error", "Internal server error.")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    project_handler = import_string(settings.REST_FRAMEWORK["EXCEPTION_HANDLER"])
    response = project_handler(exc, context)
    if response is None:  # pragma: no cover - the project handler answers everything
        response = Response(status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    response.data = to_envelope(exc, response.status_code)
    return response


class AnalyticsAPIView(APIView):
    """Base of every analytics endpoint: signed-in users only, a valid organization context
    (X-Organization / ?org=, optional), errors in the analytics envelope."""

    permission_classes = [IsAuthenticated, OrganizationContext]
    # `org_id` filters the data here (repeatable); it does not name the organization context.
    org_id_is_filter = True

    def get_exception_handler(self):
        return exception_handler
