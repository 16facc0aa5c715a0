"""JSON 404s under /api/: an API client never gets Django's HTML page for a route that does not exist."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found

API_PREFIX = "/api/"


def _json_not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": f"No API route matches {request.path!r}."}, status=404)


@csrf_exempt
def unknown_api_route(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """The last URL pattern under api/: any method on a path no other pattern matched. A GET
    whose path with a slash appended is a real route (`/api/schema`) is redirected there, as
    Django's APPEND_SLASH would have done without this catch-all."""
    if request.method in ("GET", "HEAD") and not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not unknown_api_route:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))
    return _json_not_found(request)


def handler404(request: HttpRequest, exception: Exception | None = None) -> Any:
    """Django's 404 handler (an Http404 raised outside DRF): JSON under /api/, HTML elsewhere."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
