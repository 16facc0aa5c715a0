"""The rows of each model a request may reach: visibility (accounts.visibility) narrowed to the
organization context when there is one. Every list, detail and parent lookup goes through here."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet

from accounts.visibility import visible_filter
from annotation.models import Comment, Issue, Job, Label, Project, Task

# Who owns a row that belongs to no organization: the owner of its project or standalone task.
OWNER_FIELDS: dict[type[Model], tuple[str, ...]] = {
    Project: ("owner",),
    Task: ("owner", "project__owner"),
    Label: ("project__owner", "task__owner"),
    Job: ("task__owner", "project__owner"),
    Issue: ("task__owner", "project__owner"),
    Comment: ("task__owner", "project__owner"),
}


def visible_rows(
    user: Any,
    model: type[Model],
    organization: Any = None,
    queryset: QuerySet | None = None,
    *,
    member_verified: bool = False,
) -> QuerySet:
    """Rows of `model` (Project, Task, Label, Job, Issue, Comment) that `user` may see, limited to
    `organization` (an Organization or its id) when given. Every one of these models has its own
    `organization` column, so no join is needed for the organization part. `member_verified`:
    this request already checked that `user` is a member of `organization`."""
    queryset = model._default_manager.all() if queryset is None else queryset
    return queryset.filter(
        visible_filter(
            user,
            owner_fields=OWNER_FIELDS[model],
            organization=organization,
            member_verified=member_verified,
        )
    )


def scoped(request: Any, model: type[Model], queryset: QuerySet | None = None) -> QuerySet:
    """visible_rows() for the request's user and organization context."""
    return visible_rows(
        request.user,
        model,
        getattr(request, "organization", None),
        queryset,
        member_verified=getattr(request, "organization_member_verified", False),
    )
