"""Thin viewsets: rows come from annotation.scoping (404 outside the user's reach), rules from
annotation.permissions, shapes from annotation.serializers."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api import DomainViewMixin, int_query_param
from annotation import permissions as rules
from annotation import summaries
from annotation.annotations import ACTIONS, JobAnnotations
from annotation.models import Comment, Issue, Job, Label, Project, Task
from annotation.scoping import scoped
from annotation.serializers import (
    CommentSerializer,
    IssueSerializer,
    JobSerializer,
    LabelSerializer,
    ProjectSerializer,
    TaskSerializer,
)


class DomainViewSet(DomainViewMixin, viewsets.ModelViewSet):
    """A ModelViewSet whose rows are the request's reachable ones and whose changes are checked
    against annotation.permissions.RULES[`resource`]."""

    model: type = None  # type: ignore[assignment]
    resource = ""

    def base_queryset(self) -> QuerySet:
        return self.model.objects.all()

    def get_queryset(self) -> QuerySet:
        return scoped(self.request, self.model, self.base_queryset()).order_by("id")

    def check(self, action: str, *, org_id: int | None, author_id: int | None = None) -> None:
        rules.check(self.request.user, self.resource, action, org_id=org_id, author_id=author_id)

    def new_object_org_id(self, validated_data: dict[str, Any]) -> int | None:
        """The organization an object about to be created will belong to."""
        org = self.request.organization
        return org.pk if org is not None else None

    def perform_create(self, serializer: Any) -> None:
        self.check("create", org_id=self.new_object_org_id(serializer.validated_data))
        serializer.save(**self.creation_fields())

    def creation_fields(self) -> dict[str, Any]:
        return {}

    def check_object_permissions(self, request: Any, obj: Any) -> None:
        # Runs in get_object(), so a forbidden change is a 403 before its body is even validated.
        super().check_object_permissions(request, obj)
        action = {"update": "update", "partial_update": "update", "destroy": "delete"}.get(self.action)
        if action is not None:
            self.check(action, org_id=obj.organization_id, author_id=getattr(obj, "owner_id", None))


class ProjectViewSet(DomainViewSet):
    model = Project
    resource = "project"
    serializer_class = ProjectSerializer

    def base_queryset(self) -> QuerySet:
        projects = Project.objects.select_related("organization", "owner", "assignee").prefetch_related(
            "labels"
        )
        return summaries.with_project_counts(projects)

    def creation_fields(self) -> dict[str, Any]:
        return {"owner": self.request.user, "organization": self.request.organization}


class TaskViewSet(DomainViewSet):
    """`?project_id=` filters the list."""

    model = Task
    resource = "task"
    serializer_class = TaskSerializer

    def base_queryset(self) -> QuerySet:
        queryset = Task.objects.select_related(
            "organization", "owner", "assignee", "project"
        ).prefetch_related("labels", "project__labels")
        queryset = summaries.with_task_counts(queryset)
        if self.action == "list":
            project_id = int_query_param(self.request, "project_id")
            if project_id is not None:
                queryset = queryset.filter(project_id=project_id)
        return queryset

    def new_object_org_id(self, validated_data: dict[str, Any]) -> int | None:
        project = validated_data.get("project")
        return project.organization_id if project is not None else super().new_object_org_id(validated_data)

    def creation_fields(self) -> dict[str, Any]:
        # A task in a project takes the project's organization (Task.save); a standalone task the context's.
        return {"owner": self.request.user, "organization": self.request.organization}


class JobViewSet(DomainViewSet):
    """`?task_id=`, `?project_id=`, `?assignee=`, `?stage=`, `?state=` filter the list."""

    model = Job
    resource = "job"
    serializer_class = JobSerializer

    def base_queryset(self) -> QuerySet:
        queryset = summaries.with_job_counts(Job.objects.select_related("organization", "assignee"))
        if self.action == "list":
            for name in ("task_id", "project_id", "assignee"):
                value = int_query_param(self.request, name)
                if value is not None:
                    queryset = queryset.filter(**{name if name != "assignee" else "assignee_id": value})
            for name in ("stage", "state"):
                value = self.request.query_params.get(name)
                if value:
                    queryset = queryset.filter(**{name: value})
        return queryset

    def new_object_org_id(self, validated_data: dict[str, Any]) -> int | None:
        return validated_data["task"].organization_id

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT,
        parameters=[
            OpenApiParameter("action", str, enum=ACTIONS, description="PATCH only: what to do with the items")
        ],
    )
    @action(detail=True, methods=["get", "put", "patch", "delete"], url_path="annotations")
    def annotations(self, request: Any, pk: Any = None) -> Response:
        """CVAT's job annotations: GET all; PUT replaces all; PATCH `?action=create|update|delete`;
        DELETE removes all."""
        job = self.get_object()
        store = JobAnnotations(job)
        if request.method == "GET":
            self.check("view", org_id=job.organization_id)
            return Response(store.data())
        if request.method == "DELETE":
            self.check("delete", org_id=job.organization_id)
            store.delete_all()
            return Response(status=status.HTTP_204_NO_CONTENT)
        if request.method == "PUT":
            self.check("update", org_id=job.organization_id)
            return Response(store.put(request.data))
        patch_action = request.query_params.get("action")
        if patch_action not in ACTIONS:
            raise exceptions.ValidationError({"action": [f"Expected one of: {', '.join(ACTIONS)}."]})
        self.check(patch_action, org_id=job.organization_id)
        return Response(store.patch(request.data, patch_action))

    def check(self, action: str, *, org_id: int | None, author_id: int | None = None) -> None:
        resource = "annotations" if self.action == "annotations" else self.resource
        rules.check(self.request.user, resource, action, org_id=org_id, author_id=author_id)


class LabelViewSet(DomainViewSet):
    """`?project_id=`, `?task_id=` (a task in a project lists the project's labels), `?job_id=`."""

    model = Label
    resource = "label"
    serializer_class = LabelSerializer

    def base_queryset(self) -> QuerySet:
        queryset = Label.objects.all()
        if self.action != "list":
            return queryset
        project_id = int_query_param(self.request, "project_id")
        if project_id is not None:
            queryset = queryset.filter(project_id=project_id)
        task_id = int_query_param(self.request, "task_id")
        if task_id is not None:
            task = Task.objects.filter(pk=task_id).values("project_id").first()
            project_of_task = task["project_id"] if task else None
            queryset = queryset.filter(
                Q(task_id=task_id) | Q(project_id=project_of_task, project_id__isnull=False)
            )
        job_id = int_query_param(self.request, "job_id")
        if job_id is not None:
            job = Job.objects.filter(pk=job_id).values("task_id", "project_id").first() or {}
            if job.get("project_id") is not None:
                queryset = queryset.filter(project_id=job["project_id"])
            else:
                queryset = queryset.filter(task_id=job.get("task_id", 0))
        return queryset

    def new_object_org_id(self, validated_data: dict[str, Any]) -> int | None:
        parent = validated_data.get("project") or validated_data.get("task")
        return parent.organization_id


class IssueViewSet(DomainViewSet):
    """`?job_id=`, `?task_id=`, `?project_id=`, `?resolved=true|false` filter the list."""

    model = Issue
    resource = "issue"
    serializer_class = IssueSerializer

    def base_queryset(self) -> QuerySet:
        queryset = Issue.objects.select_related("owner", "assignee").annotate(
            comments_count=Count("comments")
        )
        if self.action == "list":
            for name in ("job_id", "task_id", "project_id"):
                value = int_query_param(self.request, name)
                if value is not None:
                    queryset = queryset.filter(**{name: value})
            resolved = self.request.query_params.get("resolved")
            if resolved in ("true", "false"):
                queryset = queryset.filter(resolved=resolved == "true")
        return queryset

    def new_object_org_id(self, validated_data: dict[str, Any]) -> int | None:
        return validated_data["job"].organization_id

    def creation_fields(self) -> dict[str, Any]:
        return {"owner": self.request.user}


class CommentViewSet(DomainViewSet):
    """`?issue_id=`, `?job_id=` filter the list."""

    model = Comment
    resource = "comment"
    serializer_class = CommentSerializer

    def base_queryset(self) -> QuerySet:
        queryset = Comment.objects.select_related("owner")
        if self.action == "list":
            for name in ("issue_id", "job_id"):
                value = int_query_param(self.request, name)
                if value is not None:
                    queryset = queryset.filter(**{name: value})
        return queryset

    def new_object_org_id(self, validated_data: dict[str, Any]) -> int | None:
        return validated_data["issue"].organization_id

    def creation_fields(self) -> dict[str, Any]:
        return {"owner": self.request.user}
