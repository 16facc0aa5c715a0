"""CVAT's summary fields of the read models: `tasks` of a project, `jobs` of a task, `issues` and
`labels` of a job. CVAT's SDK requires them (its ProjectRead, TaskRead and JobRead cannot be built
without them); each is a count and the list URL that holds the items.

The counts are annotated on list querysets (one query for the page) and counted on demand for a
single object that was not read through one (the answer to a create).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from annotation.models import Job, JobStage, JobState, Project, Task

TASK_COUNT = "summary_task_count"
JOB_COUNT = "summary_job_count"
COMPLETED_JOB_COUNT = "summary_completed_job_count"
VALIDATION_JOB_COUNT = "summary_validation_job_count"
ISSUE_COUNT = "summary_issue_count"


def with_project_counts(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(**{TASK_COUNT: Count("tasks", distinct=True)})


def with_task_counts(queryset: QuerySet) -> QuerySet:
    # As CVAT: a job is completed when accepted (acceptance stage, completed state).
    completed = Q(jobs__stage=JobStage.ACCEPTANCE, jobs__state=JobState.COMPLETED)
    return queryset.annotate(
        **{
            JOB_COUNT: Count("jobs", distinct=True),
            COMPLETED_JOB_COUNT: Count("jobs", filter=completed, distinct=True),
            VALIDATION_JOB_COUNT: Count("jobs", filter=Q(jobs__stage=JobStage.VALIDATION), distinct=True),
        }
    )


def with_job_counts(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(**{ISSUE_COUNT: Count("issues", distinct=True)})


def _url(context: dict[str, Any], path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


def _count(instance: Any, name: str, fallback: Any) -> int:
    value = getattr(instance, name, None)
    return int(value) if value is not None else fallback()


def project_tasks(project: Project, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "count": _count(project, TASK_COUNT, project.tasks.count),
        "url": _url(context, f"/api/tasks?project_id={project.pk}"),
    }


def task_jobs(task: Task, context: dict[str, Any]) -> dict[str, Any]:
    jobs = Job.objects.filter(task_id=task.pk)
    return {
        "count": _count(task, JOB_COUNT, jobs.count),
        "completed": _count(
            task,
            COMPLETED_JOB_COUNT,
            lambda: jobs.filter(stage=JobStage.ACCEPTANCE, state=JobState.COMPLETED).count(),
        ),
        "validation": _count(
            task, VALIDATION_JOB_COUNT, lambda: jobs.filter(stage=JobStage.VALIDATION).count()
        ),
        "url": _url(context, f"/api/jobs?task_id={task.pk}"),
    }


def job_issues(job: Job, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "count": _count(job, ISSUE_COUNT, job.issues.count),
        "url": _url(context, f"/api/issues?job_id={job.pk}"),
    }


def job_labels(job: Job, context: dict[str, Any]) -> dict[str, Any]:
    return {"url": _url(context, f"/api/labels?job_id={job.pk}")}
