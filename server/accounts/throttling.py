"""Password guessing is throttled by django-axes, before any password is hashed.

- `AxesStandaloneBackend` comes first in AUTHENTICATION_BACKENDS: a username or client address
  with AUTH_FAILURE_LIMIT recent failures is refused there, so ModelBackend (the hasher's CPU) never
  runs for it. Failures are counted per username and per address independently, in the cache.
- Every password entry point goes through Django's `authenticate()` with the Django request: the
  built-in login page, `POST /api/auth/login` and HTTP Basic (`ThrottledBasicAuthentication`).
- A refused attempt answers 429 with `Retry-After`, as JSON.
- `SignInGateMiddleware`, first in the stack, asks axes the same question for requests that carry
  a password (HTTP Basic, or a POST to a sign-in path) before anything else runs: a locked-out
  guess then costs a cache read instead of a full request (session, transaction, DRF), so a flood
  of guesses cannot queue the other requests behind it. It also checks an HTTP Basic password right
  there, outside the request's database transaction: hashing (a third of a second of CPU) must not
  hold the database's write lock, which every API request takes (ATOMIC_REQUESTS).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse, JsonResponse
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
    """DRF's Basic authentication, checked by axes on the Django request; 429 once locked out. Uses
    the answer SignInGateMiddleware already got for these credentials."""

    def authenticate_credentials(self, userid: str, password: str, request: Any = None) -> Any:
        django_request = getattr(request, "_request", request)
        checked = getattr(django_request, BASIC_CHECKED, None)
        try:
            if checked is None or checked[0] != (userid, password):
                return super().authenticate_credentials(userid, password, django_request)
            user = checked[1]
            if user is None:
                raise exceptions.AuthenticationFailed("Invalid username/password.")
            if not user.is_active:
                raise exceptions.AuthenticationFailed("User inactive or deleted.")
            return user, None
        except exceptions.AuthenticationFailed:
            if getattr(django_request, "axes_locked_out", False):
                raise exceptions.Throttled(wait=retry_after_seconds(), detail=LOCKED_OUT) from None
            raise


SIGN_IN_PATHS = frozenset({"/api/auth/login", "/api/auth/login/", "/analytics/login/", "/admin/login/"})


BASIC_CHECKED = "basic_credentials_checked"


def basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    """(username, password) of an HTTP Basic header, None without a well-formed one (DRF answers
    a malformed header itself, without hashing anything)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        username, colon, password = (
            base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (username, password) if colon else None


class SignInGateMiddleware:
    """Refuses a password attempt from a locked-out address or for a locked-out username at once,
    and checks HTTP Basic passwords before the request's transaction begins."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.AXES_ENABLED:
            return self.get_response(request)
        basic = basic_credentials(request)
        if basic is not None:
            credentials = {settings.AXES_USERNAME_FORM_FIELD: basic[0]}
            if not AxesProxyHandler.is_allowed(request, credentials):
                return lockout_response(request)
            user = authenticate(request, username=basic[0], password=basic[1])
            if user is None and getattr(request, "axes_locked_out", False):
                return lockout_response(request)  # this very guess reached the limit
            setattr(request, BASIC_CHECKED, (basic, user))
            return self.get_response(request)
        # A sign-in form or API login: the username is in the body, read later; the address now.
        signing_in = request.method == "POST" and request.path_info in SIGN_IN_PATHS
        if signing_in and not AxesProxyHandler.is_allowed(request, None):
            return lockout_response(request)
        return self.get_response(request)
