"""The few reads Dataloop's SDK (dtlpy) makes to find a project and a dataset by name, in the shape
it parses: `dl.projects.get(project_name=)` is `GET /projects/<name>/name`,
`project.datasets.get(dataset_name=)` is `POST /datasets/query`, `datasets.get(dataset_id=)` is
`GET /datasets/<id>`. A Dataloop dataset (the data of a project, split into items) is a task here
(its data, split into jobs), as the query API's `datasetId` is a `taskId`. Ids are strings and
times ISO-8601 with milliseconds, as Dataloop writes them. Rows are the caller's visible ones
(annotation.scoping): outside them is a 404, as on every domain route."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.urls import re_path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import ID_MAX, DomainViewMixin
from accounts.visibility import may_see_account_details
from annotation.models import Project, Task
from annotation.scoping import scoped

MAX_PAGE_SIZE = 1000
# The dataset fields a query may filter on (equality, or `$in` a list), and how to read them.
FILTER_FIELDS = {"name": "name", "id": "pk"}


def dataloop_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _person(user: Any, viewer: Any) -> str | None:
    # Dataloop names people by e-mail; by their username when they have none or when the address
    # is private to the caller (accounts.visibility, as on /api/users).
    if user is None:
        return None
    return (user.email if may_see_account_details(viewer, user) else "") or user.username


def _id(value: int | None) -> str | None:
    return None if value is None else str(value)


def project_json(project: Project, viewer: Any) -> dict[str, Any]:
    return {
        "id": str(project.pk),
        "name": project.name,
        "org": _id(project.organization_id),
        "creator": _person(project.owner, viewer),
        "createdAt": dataloop_time(project.created_date),
        "updatedAt": dataloop_time(project.updated_date),
        "archived": False,
        "isBlocked": False,
    }


def dataset_json(task: Task, viewer: Any) -> dict[str, Any]:
    return {
        "id": str(task.pk),
        "name": task.name,
        "projects": [str(task.project_id)] if task.project_id is not None else [],
        "org": _id(task.organization_id),
        "creator": _person(task.owner, viewer),
        "createdAt": dataloop_time(task.created_date),
        "updatedAt": dataloop_time(task.updated_date),
        "itemsCount": task.jobs_count,
        "readonly": False,
    }


def _tasks(request: Request) -> QuerySet:
    queryset = Task.objects.select_related("owner").annotate(jobs_count=Count("jobs"))
    return scoped(request, Task, queryset).order_by("id")


def _ids(raw: Any, where: str) -> list[int]:
    values = raw if isinstance(raw, list) else [raw]
    ids = []
    for value in values:
        text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
        if not text.isdigit() or not 0 < int(text) <= ID_MAX:
            raise exceptions.ValidationError({where: [f"Expected ids (digit strings), got {value!r}."]})
        ids.append(int(text))
    return ids


def _condition(queryset: QuerySet, condition: Any, where: str) -> QuerySet:
    if not isinstance(condition, dict) or len(condition) != 1:
        raise exceptions.ValidationError({where: ["Expected one {field: value} condition."]})
    ((name, value),) = condition.items()
    if name not in FILTER_FIELDS:
        raise exceptions.ValidationError(
            {f"{where}.{name}": [f"Datasets can be filtered by {', '.join(FILTER_FIELDS)} only."]}
        )
    column = FILTER_FIELDS[name]
    if isinstance(value, dict):
        if set(value) != {"$in"} or not isinstance(value["$in"], list):
            raise exceptions.ValidationError({f"{where}.{name}": ["The only operator supported is $in."]})
        values = value["$in"]
    else:
        values = [value]
    if column == "pk":
        return queryset.filter(pk__in=_ids(values, f"{where}.{name}"))
    if not all(isinstance(v, str) for v in values):
        raise exceptions.ValidationError({f"{where}.{name}": ["Expected a string."]})
    return queryset.filter(**{f"{column}__in": values})


def _page_number(raw: Any, name: str, low: int, high: int, default: int) -> int:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise exceptions.ValidationError({name: [f"Expected an integer from {low} to {high}."]})
    return raw


class ProjectsByNameView(DomainViewMixin, APIView):
    """`GET /projects/<name>/name`: the visible projects with exactly that name (404 if none)."""

    @extend_schema(
        summary="Projects by name (Dataloop's SDK)",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="Dataloop-shaped projects")},
    )
    def get(self, request: Request, name: str) -> Response:
        projects = scoped(request, Project, Project.objects.select_related("owner")).filter(name=name)
        found = [project_json(p, request.user) for p in projects.order_by("id")]
        if not found:
            raise exceptions.NotFound(f"No project named {name!r}.")
        return Response(found)


class DatasetsQueryView(DomainViewMixin, APIView):
    """`POST /datasets/query`: tasks as Dataloop datasets, filtered as dtlpy's `Filters` send it:
    `{"filter": {"$and": [{"name": ...}]}, "context": {"projects": [...]}, "page", "pageSize"}`."""

    parser_classes = [JSONParser]

    @extend_schema(
        summary="Datasets (tasks) query (Dataloop's SDK)",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="{items, totalItemsCount, ...}")},
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        allowed = {"filter", "page", "pageSize", "resource", "context"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise exceptions.ValidationError({unknown[0]: [f"Use {', '.join(sorted(allowed))}."]})
        if body.get("resource", "datasets") != "datasets":
            raise exceptions.ValidationError({"resource": ["Only datasets can be queried here."]})
        raw_filter = body.get("filter") or {}
        conditions = raw_filter.get("$and", []) if isinstance(raw_filter, dict) else None
        if not isinstance(conditions, list) or set(raw_filter) - {"$and"}:
            raise exceptions.ValidationError({"filter": ['Expected {"$and": [{field: value}, ...]}.']})
        queryset = _tasks(request)
        for index, condition in enumerate(conditions):
            queryset = _condition(queryset, condition, f"filter.$and[{index}]")
        context = body.get("context") or {}
        if not isinstance(context, dict) or set(context) - {"projects"}:
            raise exceptions.ValidationError({"context": ['Expected {"projects": [ids]}.']})
        if context.get("projects"):
            queryset = queryset.filter(project_id__in=_ids(context["projects"], "context.projects"))
        page = _page_number(body.get("page"), "page", 0, 1_000_000, 0)
        size = _page_number(body.get("pageSize"), "pageSize", 1, MAX_PAGE_SIZE, MAX_PAGE_SIZE)
        total = queryset.count()
        items = [dataset_json(task, request.user) for task in queryset[page * size : (page + 1) * size]]
        return Response(
            {
                "items": items,
                "totalItemsCount": total,
                "totalPagesCount": -(-total // size),
                "hasNextPage": (page + 1) * size < total,
            }
        )


class DatasetView(DomainViewMixin, APIView):
    """`GET /datasets/<id>`: one task as a Dataloop dataset."""

    @extend_schema(
        summary="A dataset (task) by id (Dataloop's SDK)",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="A Dataloop-shaped dataset")},
    )
    def get(self, request: Request, pk: str) -> Response:
        task = _tasks(request).filter(pk=int(pk)).first() if 0 < int(pk) <= ID_MAX else None
        if task is None:
            raise exceptions.NotFound()
        return Response(dataset_json(task, request.user))


urlpatterns = [
    # A project name may hold a "/" (dtlpy does not escape it): everything before the last /name.
    re_path(r"^projects/(?P<name>.+)/name/?$", ProjectsByNameView.as_view(), name="dataloop-projects"),
    re_path(r"^datasets/query/?$", DatasetsQueryView.as_view(), name="dataloop-datasets-query"),
    re_path(r"^datasets/(?P<pk>\d+)/?$", DatasetView.as_view(), name="dataloop-dataset"),
]
