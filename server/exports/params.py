"""Query parameters of both export flows -> an ExportSpec, with CVAT's validation and defaults.

- org_id, project_id, task_id, job_id, user_id: integers (400 naming the parameter otherwise);
- the permission filter (exports.permissions) forces and checks them;
- `from` / `to`: ISO-8601 (a time without a zone is UTC); 400 "Cannot parse 'from' datetime
  parameter: ..." when unparsable, 400 outside the event store's range (1970..2106), 400 when
  `from` is after `to`;
- `from` defaults to the creation date of the narrowest object named that exists (job, task,
  project; with only an organization, the earliest of it and its projects and tasks), else the
  Unix epoch; `to` defaults to now;
- `format`: csv (default), jsonl or parquet; `filename`: the download name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dateutil.parser import isoparse
from django.db.models import Min
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from accounts.api import int_query_param
from accounts.models import Organization
from annotation.models import Job, Project, Task
from config.fields import STORE_RANGE_TEXT, in_store_range
from exports.permissions import apply_permission_filter
from exports.query import EXTENSIONS, FILTER_COLUMNS, FORMATS, ExportSpec

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f"\\/]')


@dataclass(frozen=True)
class ExportRequest:
    spec: ExportSpec
    filename: str


def organization_of(request: Any) -> Any:
    """The organization context (X-Organization / ?org=), checked: unknown -> 404, conflicting
    header and parameter -> 400, not a member -> 403."""
    from accounts.middleware import resolve_organization
    from accounts.permissions import check_organization_context

    if not hasattr(request, "organization_source"):
        resolve_organization(request._request if hasattr(request, "_request") else request)
    check_organization_context(request)
    return getattr(request, "organization", None)


def reject_cloud_storage(params: Any) -> None:
    if params.get("location") == "cloud_storage" or params.get("cloud_storage_id"):
        raise ValidationError("This endpoint does not support exporting events to cloud storage")


def parse_format(params: Any) -> str:
    value = (params.get("format") or "csv").strip().lower()
    if value not in FORMATS:
        raise ValidationError(f"Unsupported format {value!r}: use one of {', '.join(FORMATS)}")
    return value


def parse_datetime(params: Any, name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = isoparse(raw)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        seconds = value.timestamp()
    except (ValueError, OverflowError) as exc:
        raise ValidationError(f"Cannot parse '{name}' datetime parameter: {exc}") from None
    # Outside the event store's time range the export query itself would fail.
    if not in_store_range(seconds):
        raise ValidationError(f"'{name}' must be between {STORE_RANGE_TEXT}")
    return value.astimezone(UTC)


def default_from(filters: dict[str, int | None]) -> datetime:
    """CVAT's default: the creation date of the first of job, task, project that exists; else of
    the organization (or its earliest project or task); else the epoch."""
    for model, key in ((Job, "job_id"), (Task, "task_id"), (Project, "project_id")):
        if filters.get(key) is not None:
            created = model.objects.filter(pk=filters[key]).values_list("created_date", flat=True).first()
            if created is not None:
                return created
    org_id = filters.get("org_id")
    if org_id is not None:
        candidates = [
            Organization.objects.filter(pk=org_id).values_list("created_date", flat=True).first(),
            Project.objects.filter(organization_id=org_id).aggregate(first=Min("created_date"))["first"],
            Task.objects.filter(organization_id=org_id).aggregate(first=Min("created_date"))["first"],
        ]
        present = [moment for moment in candidates if moment is not None]
        if present:
            return min(present)
    return EPOCH


def default_filename(format: str, moment: datetime | None = None) -> str:
    moment = moment or timezone.now()
    # CVAT's name: logs_<time>.csv (other formats keep the name with their own extension).
    return f"logs_{moment.astimezone(UTC):%Y_%m_%d_%H_%M_%S}.{EXTENSIONS[format]}"


def clean_filename(raw: str | None, format: str) -> str:
    name = _UNSAFE_FILENAME.sub("_", (raw or "").strip())[:200].strip(". ")
    return name or default_filename(format)


def parse_export_request(request: Any, organization: Any) -> ExportRequest:
    params = request.query_params
    reject_cloud_storage(params)
    given = {name: int_query_param(request, name) for name in FILTER_COLUMNS}
    filters = apply_permission_filter(request.user, organization, given)
    format = parse_format(params)
    since = parse_datetime(params, "from")
    to = parse_datetime(params, "to")
    if to is None:
        to = timezone.now()
    if since is None:
        since = default_from(filters)
    if since > to:
        raise ValidationError("'from' must be before than 'to'")
    spec = ExportSpec(since=since, to=to, format=format, filters=filters)
    return ExportRequest(spec=spec, filename=clean_filename(params.get("filename"), format))
