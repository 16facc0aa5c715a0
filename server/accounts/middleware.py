"""Organization context: `X-Organization: <slug>` header, `?org=<slug>` or `?org_id=<id>` (CVAT's three).

The middleware only resolves the slug or id (one indexed query, and only when one was sent) and sets
on the Django request (`?org_id=` once the view is known: the analytics APIs, whose views say
`org_id_is_filter`, take it as a data filter instead):

- `request.organization`: the Organization, or None (no context, or an unknown slug);
- `request.organization_slug`: the slug that was asked for, or None;
- `request.organization_source`: "X-Organization", "org" or "org_id" (the name errors refer to), or None;
- `request.organization_error`: why the context is unusable (unknown slug, header and parameter
  disagree), or None.

Whether the user may use that organization is decided after DRF authentication, by
`accounts.permissions.OrganizationContext` (token and basic auth happen inside DRF, after every
middleware has run). DRF's Request proxies unknown attributes to the Django request, so views read
the same attributes from either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from accounts.api import ID_MAX
from accounts.models import Organization

ORG_HEADER = "X-Organization"
ORG_QUERY_PARAM = "org"
ORG_ID_QUERY_PARAM = "org_id"


class OrganizationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        resolve_organization(request)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any) -> None:
        # The analytics APIs take org_id as a data filter (repeatable, and it may name an
        # organization that is gone); everywhere else it names the context, as in CVAT.
        view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
        if not getattr(view_class, "org_id_is_filter", False):
            resolve_org_id(request)


def resolve_organization(request: HttpRequest) -> None:
    header = (request.headers.get(ORG_HEADER) or "").strip()
    param = (request.GET.get(ORG_QUERY_PARAM) or "").strip()
    slug = header or param or None
    organization = None
    error = None
    if header and param and header != param:
        error = (
            "conflict",
            f"The {ORG_HEADER} header ({header!r}) and ?{ORG_QUERY_PARAM}={param!r} disagree.",
        )
    elif slug is not None:
        try:  # get(), not first(): slugs are unique, and an ORDER BY costs ~25% of this lookup
            organization = Organization.objects.get(slug=slug)
        except Organization.DoesNotExist:
            error = ("not_found", f"Organization {slug!r} does not exist.")
    request.organization = organization  # type: ignore[attr-defined]
    request.organization_slug = slug  # type: ignore[attr-defined]
    request.organization_given = repr(slug)  # type: ignore[attr-defined]
    request.organization_source = (ORG_HEADER if header else ORG_QUERY_PARAM) if slug else None  # type: ignore[attr-defined]
    request.organization_error = error  # type: ignore[attr-defined]


def resolve_org_id(request: HttpRequest) -> None:
    """CVAT's third way to name the context, `?org_id=<id>`: alone, or agreeing with the slug."""
    raw = (request.GET.get(ORG_ID_QUERY_PARAM) or "").strip()
    if not raw or request.organization_error is not None:  # type: ignore[attr-defined]
        return
    organization = request.organization  # type: ignore[attr-defined]
    source = request.organization_source  # type: ignore[attr-defined]
    if not raw.isdigit() or int(raw) > ID_MAX:
        error = ("invalid", f"?{ORG_ID_QUERY_PARAM}={raw!r} is not an organization id.")
    elif organization is not None:
        if organization.pk == int(raw):
            return
        error = ("conflict", f"?{ORG_ID_QUERY_PARAM}={raw} and {source} {organization.slug!r} disagree.")
    else:
        organization = Organization.objects.filter(pk=int(raw)).first()
        if organization is not None:
            request.organization = organization  # type: ignore[attr-defined]
            request.organization_slug = organization.slug  # type: ignore[attr-defined]
            request.organization_source = ORG_ID_QUERY_PARAM  # type: ignore[attr-defined]
            request.organization_given = raw  # type: ignore[attr-defined]
            return
        error = ("not_found", f"Organization {raw} does not exist.")
    request.organization_source = ORG_ID_QUERY_PARAM  # type: ignore[attr-defined]
    request.organization_given = raw  # type: ignore[attr-defined]
    request.organization_error = error  # type: ignore[attr-defined]
