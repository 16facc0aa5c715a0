"""Password guessing is throttled by django-axes, before any password is hashed.

- `AxesStandaloneBackend` comes first in AUTHENTICATION_BACKENDS: a username or client address
  with AUTH_FAILURE_LIMIT recent failures is refused there, so ModelBackend (the hasher's CPU) never
  runs for it. Failures are counted per username and per address independently, in the cache.
- Every password entry point goes through Django's `authenticate()` with the Django request: the
  built-in login page, `POST /api/auth/login` and HTTP Basic (`ThrottledBasicAuthentication`).
- A refused attempt answers 429 with `Retry-After`, as JSON.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from rest_framework import authentication, exceptions

LOCKED_OUT = "Too many failed sign-ins from this address or for this username; try again later."


def retry_after_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: AUTH_CLIENT_IP_HEADER (set by a trusted reverse proxy) or REMOTE_ADDR."""
    header = settings.AUTH_CLIENT_IP_HEADER
    if header:
        forwarded = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        address = forwarded.split(",")[0].strip()
        if address:
            return address
    return request.META.get("REMOTE_ADDR")


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> JsonResponse:
    """AXES_LOCKOUT_CALLABLE: what a locked-out sign-in (login page or API login) gets."""
    response = JsonResponse({"detail": LOCKED_OUT}, status=429)
    response["Retry-After"] = str(retry_after_seconds())
    return response


class ThrottledBasicAuthentication(authentication.BasicAuthentication):
    """DRF's Basic authentication, checked by axes on the Django request; 429 once locked out."""

    def authenticate_credentials(self, userid: str, password: str, request: Any = None) -> Any:
        django_request = getattr(request, "_request", request)
        try:
            return super().authenticate_credentials(userid, password, django_request)
        except exceptions.AuthenticationFailed:
            if getattr(django_request, "axes_locked_out", False):
                raise exceptions.Throttled(wait=retry_after_seconds(), detail=LOCKED_OUT) from None
            raise
