"""Read and write shapes of the annotation API (CVAT's where CVAT has them).

Parents are given by id (`project_id`, `task_id`, `job`, `issue`) and resolved among the rows the
request may reach (annotation.scoping), so an unreachable parent is a 400 naming the field, the same
answer as a parent that does not exist.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from rest_framework import serializers

from accounts.api import ID_MAX
from accounts.serializers import NO_SUCH_USER, UserBriefSerializer, UserRefField, visible_user
from accounts.visibility import is_superuser, role_in
from annotation import summaries
from annotation.models import (
    Comment,
    Issue,
    Job,
    JobStage,
    JobState,
    JobType,
    Label,
    LabelType,
    Project,
    Task,
)
from annotation.scoping import scoped

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
# Label colours are picked from this palette in turn when none is given.
PALETTE = (
    "#fa3253",
    "#33ddff",
    "#34d1b7",
    "#ff6037",
    "#b83df5",
    "#ffcc33",
    "#3d3df5",
    "#24b353",
    "#ff007c",
    "#83e070",
    "#fafa37",
    "#5986b3",
    "#8c78f0",
    "#ff6a4d",
    "#aaf0d1",
    "#f078f0",
)


def next_color(existing: int) -> str:
    return PALETTE[existing % len(PALETTE)]


def resolve_parent(serializer: serializers.Serializer, model: type, pk: Any, field: str) -> Any:
    """The row `pk` of `model` if the request may reach it, else a 400 naming `field`."""
    request = serializer.context["request"]
    obj = scoped(request, model).filter(pk=pk).select_related("organization").first()
    if obj is None:
        raise serializers.ValidationError(
            {field: [f"{model.__name__} {pk} does not exist or is not accessible."]}
        )
    return obj


def check_assignee(user: Any, org_id: int | None, field: str = "assignee") -> None:
    """In an organization, only its members (or superusers) can be assigned."""
    if user is None or org_id is None or is_superuser(user):
        return
    if role_in(user, org_id) is None:
        raise serializers.ValidationError(
            {field: [f"User {user.username!r} is not a member of the organization."]}
        )


class AssigneeMixin(serializers.Serializer):
    """`assignee` reads as a user object and writes as an id or username (or null);
    `assignee_id` is accepted as well on write, as CVAT's projects and tasks take it."""

    assignee = UserRefField(required=False, allow_null=True)
    assignee_id = serializers.IntegerField(
        required=False, allow_null=True, write_only=True, min_value=1, max_value=ID_MAX
    )

    def pop_assignee(self, attrs: dict[str, Any]) -> None:
        if "assignee_id" in attrs:
            pk = attrs.pop("assignee_id")
            if "assignee" in attrs and getattr(attrs["assignee"], "pk", None) != pk:
                raise serializers.ValidationError({"assignee_id": ["Contradicts `assignee`."]})
            user = None if pk is None else visible_user(self.context.get("request"), pk)
            if pk is not None and user is None:
                raise serializers.ValidationError({"assignee_id": [NO_SUCH_USER.format(value=pk)]})
            attrs["assignee"] = user


# --- labels ---------------------------------------------------------------------------------------


class InlineLabelSerializer(serializers.ModelSerializer):
    """A label given inside a project or task: `{"name", "color"?, "type"?}`."""

    type = serializers.ChoiceField(choices=LabelType.choices, default=LabelType.ANY)

    class Meta:
        model = Label
        fields = ["id", "name", "color", "type"]
        read_only_fields = ["id"]
        extra_kwargs = {"color": {"required": False}}

    def validate_color(self, value: str) -> str:
        if value and not COLOR_RE.match(value):
            raise serializers.ValidationError("Use the #rrggbb form.")
        return value


def validate_new_labels(labels: list[dict[str, Any]], existing_names: set[str]) -> None:
    names = set(existing_names)
    errors: list[dict[str, Any]] = []
    for item in labels:
        if item["name"] in names:
            errors.append({"name": [f"A label named {item['name']!r} already exists here."]})
        else:
            errors.append({})
        names.add(item["name"])
    if any(errors):
        raise serializers.ValidationError({"labels": errors})


def create_labels(
    labels: list[dict[str, Any]], *, project: Project | None = None, task: Task | None = None
) -> None:
    parent_filter = {"project": project} if project is not None else {"task": task}
    existing = Label.objects.filter(**parent_filter).count()
    for offset, item in enumerate(labels):
        # One save() per label, not bulk_create: each label is a tracked model (create:label event).
        Label.objects.create(
            name=item["name"],
            color=item.get("color") or next_color(existing + offset),
            type=item.get("type", LabelType.ANY),
            **parent_filter,
        )


class LabelSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(choices=LabelType.choices, default=LabelType.ANY)
    project_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=ID_MAX)
    task_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=ID_MAX)

    class Meta:
        model = Label
        fields = ["id", "name", "color", "type", "project_id", "task_id", "created_date", "updated_date"]
        read_only_fields = ["id", "created_date", "updated_date"]
        extra_kwargs = {"color": {"required": False}}
        validators: list = []

    validate_color = InlineLabelSerializer.validate_color

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            project_id, task_id = attrs.pop("project_id", None), attrs.pop("task_id", None)
            if (project_id is None) == (task_id is None):
                raise serializers.ValidationError(
                    {"project_id": ["Give exactly one of project_id and task_id."]}
                )
            if project_id is not None:
                attrs["project"] = resolve_parent(self, Project, project_id, "project_id")
            else:
                task = resolve_parent(self, Task, task_id, "task_id")
                if task.project_id is not None:
                    raise serializers.ValidationError(
                        {
                            "task_id": [
                                "This task is in a project: its labels are the project's (use project_id)."
                            ]
                        }
                    )
                attrs["task"] = task
            parent = {"project": attrs.get("project"), "task": attrs.get("task")}
        else:
            for name in ("project_id", "task_id"):
                if name in attrs and attrs.pop(name) != getattr(self.instance, name):
                    raise serializers.ValidationError(
                        {name: ["A label cannot move to another project or task."]}
                    )
            parent = {"project_id": self.instance.project_id, "task_id": self.instance.task_id}
        name = attrs.get("name")
        if name is not None:
            clash = Label.objects.filter(name=name, **parent)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError({"name": [f"A label named {name!r} already exists here."]})
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Label:
        if not validated_data.get("color"):
            parent = {"project": validated_data.get("project"), "task": validated_data.get("task")}
            validated_data["color"] = next_color(Label.objects.filter(**parent).count())
        return super().create(validated_data)


# --- projects and tasks ---------------------------------------------------------------------------


class ProjectSerializer(AssigneeMixin, serializers.ModelSerializer):
    owner = UserBriefSerializer(read_only=True)
    labels = InlineLabelSerializer(many=True, required=False)
    tasks = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "organization",
            "owner",
            "assignee",
            "assignee_id",
            "labels",
            "tasks",
            "created_date",
            "updated_date",
        ]
        read_only_fields = ["id", "organization", "owner", "created_date", "updated_date"]

    def get_tasks(self, instance: Project) -> dict[str, Any]:
        return summaries.project_tasks(instance, self.context)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        self.pop_assignee(attrs)
        if self.instance is not None:
            org_id = self.instance.organization_id
            existing = set(self.instance.labels.values_list("name", flat=True))
        else:
            org = self.context["request"].organization
            org_id = org.pk if org is not None else None
            existing = set()
        check_assignee(attrs.get("assignee"), org_id)
        validate_new_labels(attrs.get("labels", []), existing)
        return attrs

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> Project:
        labels = validated_data.pop("labels", [])
        project = Project.objects.create(**validated_data)
        create_labels(labels, project=project)
        return project

    @transaction.atomic
    def update(self, instance: Project, validated_data: dict[str, Any]) -> Project:
        # Labels given on update are added; change or delete existing ones through /api/labels.
        labels = validated_data.pop("labels", [])
        instance = super().update(instance, validated_data)
        create_labels(labels, project=instance)
        return instance


class TaskSerializer(AssigneeMixin, serializers.ModelSerializer):
    owner = UserBriefSerializer(read_only=True)
    project_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=ID_MAX)
    labels = InlineLabelSerializer(many=True, required=False)
    jobs = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "name",
            "project_id",
            "organization",
            "owner",
            "assignee",
            "assignee_id",
            "labels",
            "jobs",
            "created_date",
            "updated_date",
        ]
        read_only_fields = ["id", "organization", "owner", "created_date", "updated_date"]

    def get_jobs(self, instance: Task) -> dict[str, Any]:
        return summaries.task_jobs(instance, self.context)

    def to_representation(self, instance: Task) -> dict[str, Any]:
        data = super().to_representation(instance)
        # A task in a project uses the project's labels (as in CVAT).
        labels = instance.project.labels.all() if instance.project_id is not None else instance.labels.all()
        data["labels"] = InlineLabelSerializer(labels, many=True).data
        return data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        self.pop_assignee(attrs)
        labels = attrs.get("labels", [])
        if self.instance is None:
            project_id = attrs.pop("project_id", None)
            project = (
                resolve_parent(self, Project, project_id, "project_id") if project_id is not None else None
            )
            attrs["project"] = project
            if project is not None:
                org_id = project.organization_id
            else:
                org = self.context["request"].organization
                org_id = org.pk if org is not None else None
            existing: set[str] = set()
        else:
            if "project_id" in attrs and attrs.pop("project_id") != self.instance.project_id:
                raise serializers.ValidationError({"project_id": ["A task cannot move to another project."]})
            project = self.instance.project
            org_id = self.instance.organization_id
            existing = set(self.instance.labels.values_list("name", flat=True))
        if labels and project is not None:
            raise serializers.ValidationError(
                {"labels": ["A task in a project uses the project's labels; add labels to the project."]}
            )
        check_assignee(attrs.get("assignee"), org_id)
        validate_new_labels(labels, existing)
        return attrs

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> Task:
        labels = validated_data.pop("labels", [])
        task = Task.objects.create(**validated_data)
        create_labels(labels, task=task)
        return task

    @transaction.atomic
    def update(self, instance: Task, validated_data: dict[str, Any]) -> Task:
        labels = validated_data.pop("labels", [])
        instance = super().update(instance, validated_data)
        create_labels(labels, task=instance)
        return instance


# --- jobs -----------------------------------------------------------------------------------------


class JobSerializer(serializers.ModelSerializer):
    task_id = serializers.IntegerField(min_value=1, max_value=ID_MAX)
    assignee = UserRefField(required=False, allow_null=True)
    stage = serializers.ChoiceField(choices=JobStage.choices, required=False)
    state = serializers.ChoiceField(choices=JobState.choices, required=False)
    type = serializers.ChoiceField(choices=JobType.choices, required=False)
    issues = serializers.SerializerMethodField()
    labels = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "task_id",
            "project_id",
            "organization",
            "assignee",
            "stage",
            "state",
            "type",
            "issues",
            "labels",
            "created_date",
            "updated_date",
        ]
        read_only_fields = ["id", "project_id", "organization", "created_date", "updated_date"]

    def get_issues(self, instance: Job) -> dict[str, Any]:
        return summaries.job_issues(instance, self.context)

    def get_labels(self, instance: Job) -> dict[str, Any]:
        return summaries.job_labels(instance, self.context)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            attrs["task"] = resolve_parent(self, Task, attrs.pop("task_id"), "task_id")
            org_id = attrs["task"].organization_id
        else:
            for name in ("task_id", "type"):
                if name in attrs and attrs.pop(name) != getattr(self.instance, name):
                    raise serializers.ValidationError({name: ["Cannot be changed after the job is created."]})
            org_id = self.instance.organization_id
            # As CVAT: moving a job to another stage without saying its state starts it anew.
            if "stage" in attrs and attrs["stage"] != self.instance.stage and "state" not in attrs:
                attrs["state"] = JobState.NEW
        check_assignee(attrs.get("assignee"), org_id)
        return attrs


# --- issues and comments --------------------------------------------------------------------------


def validate_position(value: Any) -> list[float]:
    if not isinstance(value, list) or not value or len(value) % 2:
        raise serializers.ValidationError("Expected a non-empty list of x, y coordinates (an even count).")
    for item in value:
        if (
            isinstance(item, bool)
            or not isinstance(item, int | float)
            or item != item
            or abs(item) == float("inf")
        ):
            raise serializers.ValidationError("Every coordinate must be a finite number.")
    return [float(item) for item in value]


class IssueSerializer(serializers.ModelSerializer):
    job = serializers.IntegerField(source="job_id", min_value=1, max_value=ID_MAX)
    owner = UserBriefSerializer(read_only=True)
    assignee = UserRefField(required=False, allow_null=True)
    position = serializers.JSONField()
    message = serializers.CharField(write_only=True, required=False, allow_blank=False, max_length=4096)
    comments = serializers.SerializerMethodField()

    class Meta:
        model = Issue
        fields = [
            "id",
            "job",
            "frame",
            "position",
            "owner",
            "assignee",
            "resolved",
            "message",
            "comments",
            "created_date",
            "updated_date",
        ]
        read_only_fields = ["id", "owner", "created_date", "updated_date"]

    def get_comments(self, instance: Issue) -> dict[str, int]:
        count = getattr(instance, "comments_count", None)
        if count is None:
            count = instance.comments.count()
        return {"count": count}

    def validate_position(self, value: Any) -> list[float]:
        return validate_position(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            attrs["job"] = resolve_parent(self, Job, attrs.pop("job_id"), "job")
            org_id = attrs["job"].organization_id
        else:
            if "job_id" in attrs and attrs.pop("job_id") != self.instance.job_id:
                raise serializers.ValidationError({"job": ["An issue cannot move to another job."]})
            if "message" in attrs:
                raise serializers.ValidationError({"message": ["Add a comment to change the discussion."]})
            org_id = self.instance.organization_id
        check_assignee(attrs.get("assignee"), org_id)
        return attrs

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> Issue:
        message = validated_data.pop("message", None)
        issue = Issue.objects.create(**validated_data)
        if message:
            Comment.objects.create(issue=issue, owner=validated_data.get("owner"), message=message)
        return issue


class CommentSerializer(serializers.ModelSerializer):
    issue = serializers.IntegerField(source="issue_id", min_value=1, max_value=ID_MAX)
    owner = UserBriefSerializer(read_only=True)
    message = serializers.CharField(max_length=4096)

    class Meta:
        model = Comment
        fields = ["id", "issue", "owner", "message", "created_date", "updated_date"]
        read_only_fields = ["id", "owner", "created_date", "updated_date"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            attrs["issue"] = resolve_parent(self, Issue, attrs.pop("issue_id"), "issue")
        elif "issue_id" in attrs and attrs.pop("issue_id") != self.instance.issue_id:
            raise serializers.ValidationError({"issue": ["A comment cannot move to another issue."]})
        return attrs
