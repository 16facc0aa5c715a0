"""The query's `context` -> a checked `Scope`, with the rules of `analytics.access`:

- `orgId` outside the caller's organizations (or disagreeing with the X-Organization context):
  403 / 400 exactly as `org_id` on the KPI API; without `orgId` the scope is every organization
  of the caller (all data for superusers);
- `userId` naming somebody else: only owners and maintainers of every organization in scope
  (403 otherwise), as `user_id` on the KPI API;
- `projectId`, `taskId`, `jobId`/`assignmentId` naming an object of an organization outside that
  scope (or of no organization, for anybody but a superuser): 403, never an empty answer. Ids the
  domain does not know (deleted objects) are not an error: the organization filter still applies.

The KPI API's own function does the first two: the context is handed to it as the query string
it reads, so there is one implementation of the rules.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.http import QueryDict

from analytics.access import request_scope
from analytics.errors import AnalyticsError, forbidden
from analytics.query.request import Context
from analytics.selectors import Scope

_OBJECTS = (("project_ids", "project", "Project"), ("task_ids", "task", "Task"), ("job_ids", "job", "Job"))


def _field(context: Context, column: str) -> str:
    return f"context.{context.names.get(column, column)}"


def context_scope(request: Any, context: Context) -> Scope:
    params = QueryDict(mutable=True)
    for name in ("org_ids", "project_ids", "task_ids", "job_ids", "user_ids"):
        params.setlist(name.removesuffix("s"), [str(i) for i in getattr(context, name)])
    shim = SimpleNamespace(
        user=request.user, organization=getattr(request, "organization", None), query_params=params
    )
    try:
        scope = request_scope(shim)
    except AnalyticsError as exc:
        if exc.field in ("org_id", "user_id"):
            exc.field = _field(context, exc.field)
        raise
    _check_objects(scope, context)
    return scope


def _check_objects(scope: Scope, context: Context) -> None:
    if scope.org_ids is None:  # superuser without an organization filter: everything is in scope
        return
    from annotation import models

    allowed = set(scope.org_ids)
    for name, column, model_name in _OBJECTS:
        ids = getattr(scope, name)
        if not ids:
            continue
        model = getattr(models, model_name)
        found = model.objects.filter(pk__in=ids).values_list("pk", "organization_id").order_by("pk")
        for pk, org_id in found:
            if org_id not in allowed:
                where = "no organization" if org_id is None else f"organization {org_id}"
                raise forbidden(
                    f"{model_name} {pk} belongs to {where}, outside the organizations this query may "
                    "read (yours, narrowed by orgId or the organization context).",
                    field=_field(context, f"{column}_id"),
                )
