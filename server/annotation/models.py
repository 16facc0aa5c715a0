"""The annotation domain, shaped after CVAT: projects, tasks, jobs, labels, issues, comments and
the annotations of a job (tags, shapes, tracks).

Ancestor ids are copied onto descendants when they are created (a job stores its task's project
and organization, a comment its issue's job, task, project and organization). Objects never move:
a task stays in its project, a job in its task, an issue in its job. So the copies never go stale,
visibility is one `organization` filter on every table, and `analytics_ids()` reads its own row
(plus `organization` for the slug: the one hop views select_related).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from accounts.models import Organization
from events.clock import ClockDateTimeField


class TimestampedModel(models.Model):
    created_date = ClockDateTimeField(auto_now_add=True)
    updated_date = ClockDateTimeField(auto_now=True)

    class Meta:
        abstract = True


def _org_slug(instance: Any) -> str | None:
    return instance.organization.slug if instance.organization_id is not None else None


class Project(TimestampedModel):
    name = models.CharField(max_length=256)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="projects"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def analytics_ids(self) -> dict[str, Any]:
        return {
            "org_id": self.organization_id,
            "org_slug": _org_slug(self),
            "project_id": self.pk,
            "task_id": None,
            "job_id": None,
        }

    def analytics_name(self) -> str | None:
        return self.name


class Task(TimestampedModel):
    name = models.CharField(max_length=256)
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    # The project's organization for a task in a project; the creation context for a standalone one.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and self.project is not None:
            self.organization_id = self.project.organization_id
        super().save(*args, **kwargs)

    def analytics_ids(self) -> dict[str, Any]:
        return {
            "org_id": self.organization_id,
            "org_slug": _org_slug(self),
            "project_id": self.project_id,
            "task_id": self.pk,
            "job_id": None,
        }

    def analytics_name(self) -> str | None:
        return self.name


class LabelType(models.TextChoices):
    ANY = "any"
    RECTANGLE = "rectangle"
    POLYGON = "polygon"
    POLYLINE = "polyline"
    POINTS = "points"
    ELLIPSE = "ellipse"
    CUBOID = "cuboid"
    MASK = "mask"
    SKELETON = "skeleton"
    TAG = "tag"


class Label(TimestampedModel):
    """A label of a project, or of a standalone task (exactly one of the two)."""

    name = models.CharField(max_length=64)
    color = models.CharField(max_length=8, blank=True, default="")
    type = models.CharField(max_length=16, choices=LabelType.choices, default=LabelType.ANY)
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="labels"
    )
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.CASCADE, related_name="labels")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(project__isnull=False, task__isnull=True)
                | models.Q(project__isnull=True, task__isnull=False),
                name="label_of_project_xor_task",
            ),
            models.UniqueConstraint(fields=["project", "name"], name="unique_label_name_per_project"),
            models.UniqueConstraint(fields=["task", "name"], name="unique_label_name_per_task"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            parent = self.project if self.project_id is not None else self.task
            self.organization_id = parent.organization_id if parent is not None else None
        super().save(*args, **kwargs)

    def analytics_ids(self) -> dict[str, Any]:
        return {
            "org_id": self.organization_id,
            "org_slug": _org_slug(self),
            "project_id": self.project_id,
            "task_id": self.task_id,
            "job_id": None,
        }

    def analytics_name(self) -> str | None:
        return self.name


class JobStage(models.TextChoices):
    ANNOTATION = "annotation"
    VALIDATION = "validation"
    ACCEPTANCE = "acceptance"


class JobState(models.TextChoices):
    NEW = "new"
    IN_PROGRESS = "in progress"
    REJECTED = "rejected"
    COMPLETED = "completed"


class JobType(models.TextChoices):
    ANNOTATION = "annotation"
    GROUND_TRUTH = "ground_truth"


class Job(TimestampedModel):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="jobs")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stage = models.CharField(max_length=32, choices=JobStage.choices, default=JobStage.ANNOTATION)
    state = models.CharField(max_length=32, choices=JobState.choices, default=JobState.NEW)
    type = models.CharField(max_length=32, choices=JobType.choices, default=JobType.ANNOTATION)
    # Bumped (by a queryset update, so without model signals) on every change of the annotations.
    annotations_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Job #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            self.project_id = self.task.project_id
            self.organization_id = self.task.organization_id
        super().save(*args, **kwargs)

    def analytics_ids(self) -> dict[str, Any]:
        return {
            "org_id": self.organization_id,
            "org_slug": _org_slug(self),
            "project_id": self.project_id,
            "task_id": self.task_id,
            "job_id": self.pk,
        }

    def analytics_name(self) -> str | None:
        return f"Job #{self.pk}" if self.pk is not None else None


class JobScopedIds:
    """analytics_ids of a model that stores its job's ids on its own row (Issue, Comment)."""

    organization_id: int | None
    project_id: int | None
    task_id: int
    job_id: int

    def analytics_ids(self) -> dict[str, Any]:
        return {
            "org_id": self.organization_id,
            "org_slug": _org_slug(self),
            "project_id": self.project_id,
            "task_id": self.task_id,
            "job_id": self.job_id,
        }


class Issue(JobScopedIds, TimestampedModel):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="issues")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    frame = models.PositiveIntegerField()
    position = models.JSONField(default=list)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Issue #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            self.task_id = self.job.task_id
            self.project_id = self.job.project_id
            self.organization_id = self.job.organization_id
        super().save(*args, **kwargs)

    def analytics_name(self) -> str | None:
        return None


class Comment(JobScopedIds, TimestampedModel):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="comments")
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.TextField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Comment #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            self.job_id = self.issue.job_id
            self.task_id = self.issue.task_id
            self.project_id = self.issue.project_id
            self.organization_id = self.issue.organization_id
        super().save(*args, **kwargs)

    def analytics_name(self) -> str | None:
        return self.message


# --- annotations of a job ------------------------------------------------------------------------


class ShapeType(models.TextChoices):
    RECTANGLE = "rectangle"
    POLYGON = "polygon"
    POLYLINE = "polyline"
    POINTS = "points"
    ELLIPSE = "ellipse"
    CUBOID = "cuboid"
    MASK = "mask"
    SKELETON = "skeleton"


class AnnotationSource(models.TextChoices):
    MANUAL = "manual"
    SEMI_AUTO = "semi-auto"
    AUTO = "auto"
    FILE = "file"
    CONSENSUS = "consensus"


class Annotation(TimestampedModel):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")
    frame = models.PositiveIntegerField()
    group = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(
        max_length=16, choices=AnnotationSource.choices, default=AnnotationSource.MANUAL
    )
    # CVAT's attribute values: [{"spec_id": int, "value": str}, ...]
    attributes = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True
        ordering = ["id"]


class LabeledTag(Annotation):
    class Meta(Annotation.Meta):
        pass


class LabeledShape(Annotation):
    type = models.CharField(max_length=16, choices=ShapeType.choices)
    points = models.JSONField(default=list)
    occluded = models.BooleanField(default=False)
    outside = models.BooleanField(default=False)
    z_order = models.IntegerField(default=0)
    rotation = models.FloatField(default=0.0)

    class Meta(Annotation.Meta):
        pass


class LabeledTrack(Annotation):
    # [{"type", "frame", "points", "outside", "occluded", "z_order", "rotation", "attributes"}, ...]
    shapes = models.JSONField(default=list)

    class Meta(Annotation.Meta):
        pass
