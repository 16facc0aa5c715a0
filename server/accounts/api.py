"""What every domain API view shares: authentication checks, organization context, pagination."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, pagination, permissions, routers

from accounts.permissions import OrganizationContext

# Object ids are 64-bit: a larger number cannot be an id (and would overflow the database driver).
ID_MAX = 2**63 - 1


class Pagination(pagination.PageNumberPagination):
    """`{count, next, previous, results}`; `?page=` and `?page_size=` (at most 1000)."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class DomainViewMixin:
    """Signed-in users only (401 otherwise), with a valid organization context."""

    permission_classes = [permissions.IsAuthenticated, OrganizationContext]
    pagination_class = Pagination
    lookup_value_regex = r"\d+"

    def get_object(self) -> Any:
        if int(self.kwargs[self.lookup_url_kwarg or self.lookup_field]) > ID_MAX:
            raise exceptions.NotFound()
        return super().get_object()  # type: ignore[misc]


def int_query_param(request: Any, name: str) -> int | None:
    """An optional integer filter from the query string; 400 naming it when malformed."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise exceptions.ValidationError({name: ["A valid integer is required."]}) from None
    if not 0 <= value <= ID_MAX:
        raise exceptions.ValidationError({name: [f"Must be between 0 and {ID_MAX}."]})
    return value


class Router(routers.SimpleRouter):
    """CVAT's URLs have no trailing slash (`/api/projects/1`); one is tolerated."""

    def __init__(self) -> None:
        super().__init__(trailing_slash=False)
        self.trailing_slash = "/?"
