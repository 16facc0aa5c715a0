"""Organization context: `X-Organization: <slug>` header, `?org=<slug>` or `?org_id=<id>` (CVAT's three).

The middleware only resolves the slug (one indexed query, and only when a slug was sent) and sets
on the Django request:

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


def resolve_organization(request: HttpRequest) -> None:
    header = (request.headers.get(ORG_HEADER) or "").strip()
    param = (request.GET.get(ORG_QUERY_PARAM) or "").strip()
    org_id = (request.GET.get(ORG_ID_QUERY_PARAM) or "").strip()
    slug = header or param or None
    source = (ORG_HEADER if header else ORG_QUERY_PARAM) if slug else None
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
    if org_id and error is None:
        # CVAT's third way to name the context: ?org_id=<id>, alone or agreeing with the slug.
        source = source or ORG_ID_QUERY_PARAM
        if not org_id.isdigit() or int(org_id) > ID_MAX:
            error = ("invalid", f"?{ORG_ID_QUERY_PARAM}={org_id!r} is not an organization id.")
        elif organization is not None:
            if organization.pk != int(org_id):
                error = ("conflict", f"?{ORG_ID_QUERY_PARAM}={org_id} and {source} {slug!r} disagree.")
        else:
            organization = Organization.objects.filter(pk=int(org_id)).first()
            slug = organization.slug if organization is not None else None
            if organization is None:
                error = ("not_found", f"Organization {org_id} does not exist.")
    request.organization = organization  # type: ignore[attr-defined]
    request.organization_slug = slug  # type: ignore[attr-defined]
    request.organization_source = source  # type: ignore[attr-defined]
    request.organization_error = error  # type: ignore[attr-defined]
