"""Parsing and validation of a query body. Every problem is a 400 in the analytics envelope
(`analytics.errors`) whose `field` is the path of the value at fault (`startTime`,
`context.datasetId`, `measures[1].timeGranularity`, ...). Nothing here touches the database or the
caller's rights: `scope` checks those afterwards (400s come before 403s, as in the KPI API)."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from analytics.access import MAX_IDS_PER_FILTER
from analytics.buckets import MAX_TIMESTAMP
from analytics.errors import AnalyticsError
from analytics.query.timegrid import DEFAULT_GRANULARITY, GRANULARITIES, TimeGrid, bucket_count, make_grid

MAX_MEASURES = 50
# Without a pageSize an entry holds every record (0): Dataloop's tutorials read `response` once and
# never page, so a default page would silently cut e.g. 30 days of hourly histogram bins.
DEFAULT_PAGE_SIZE = 0
MAX_PAGE_SIZE = 10_000
SORT_DIRECTIONS = ("ascending", "descending")

# Context dimensions: request name -> Scope filter. Dataloop's names for CVAT's objects: a dataset
# (the data annotated, split into items) is a task (its data, split into jobs); an assignment is a job.
DIMENSIONS: dict[str, str] = {
    "orgId": "org_id",
    "projectId": "project_id",
    "taskId": "task_id",
    "datasetId": "task_id",
    "jobId": "job_id",
    "assignmentId": "job_id",
    "userId": "user_id",
}
# Dataloop dimensions our events have no column for. Rejected (never ignored: ignoring a filter
# would widen the scope the caller asked for), with the reason.
UNSUPPORTED_DIMENSIONS: dict[str, str] = {
    "accountId": "there are no accounts above organizations; use orgId",
    "itemId": "events are recorded per job, not per item (frame); use jobId",
    "serviceId": "there are no FaaS services",
    "podId": "there are no FaaS services",
    "modelId": "models are not recorded in events",
    "snapshotId": "models are not recorded in events",
    "pipelineId": "there are no pipelines",
    "triggerId": "there are no pipelines",
    "pipelineExecutionId": "there are no pipelines",
    "nodeId": "there are no pipelines",
    "ontologyId": "labels are not recorded in events",
}

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _error(message: str, field_path: str | None, code: str = "invalid_parameter") -> AnalyticsError:
    return AnalyticsError(message, code=code, field=field_path)


def parse_time(raw: Any, name: str) -> float:
    """Epoch milliseconds (a number or a string of digits) or an ISO-8601 string -> epoch seconds."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _error(f"{name} must be epoch milliseconds or an ISO-8601 time, got {raw!r}.", name)
    if isinstance(raw, str):
        text = raw.strip()
        if _NUMBER.match(text):
            value = float(text) / 1000
        else:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                raise _error(
                    f"{name} must be epoch milliseconds or an ISO-8601 time, got {raw!r}.", name
                ) from None
            value = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    else:
        if not math.isfinite(raw):
            raise _error(f"{name} must be a finite number of epoch milliseconds.", name)
        value = raw / 1000
    if not 0 <= value <= MAX_TIMESTAMP:
        raise _error(f"{name} must be between 1970 and 2106.", name)
    return value


def _ids(raw: Any, name: str) -> tuple[int, ...]:
    path = f"context.{name}"
    if not isinstance(raw, list):
        raise _error(f"{path} must be a list of ids, got {type(raw).__name__}.", path, "context_not_list")
    if len(raw) > MAX_IDS_PER_FILTER:
        raise _error(f"At most {MAX_IDS_PER_FILTER} ids in {path}.", path)
    ids = []
    for value in raw:
        text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else None
        if text is None or not text.isdigit() or not 0 < int(text) < 2**64:
            raise _error(f"{path} must hold positive integer ids, got {value!r}.", path)
        ids.append(int(text))
    return tuple(ids)


@dataclass(frozen=True)
class Context:
    """Filters by Scope field name (`project_ids` ...); assignmentId is merged into job ids,
    datasetId into task ids."""

    org_ids: tuple[int, ...] = ()
    project_ids: tuple[int, ...] = ()
    task_ids: tuple[int, ...] = ()
    job_ids: tuple[int, ...] = ()
    user_ids: tuple[int, ...] = ()
    # which request key named each filter, for messages (`job_ids` -> `assignmentId`)
    names: dict[str, str] = field(default_factory=dict, compare=False)


def parse_context(raw: Any) -> Context:
    if raw is None:
        return Context()
    if not isinstance(raw, dict):
        raise _error("context must be an object of dimension -> list of ids.", "context")
    filters: dict[str, tuple[int, ...]] = {}
    names: dict[str, str] = {}
    for key, value in raw.items():
        if key in UNSUPPORTED_DIMENSIONS:
            raise _error(
                f"context.{key} is not supported: {UNSUPPORTED_DIMENSIONS[key]}.",
                f"context.{key}",
                "unsupported_dimension",
            )
        if key not in DIMENSIONS:
            raise _error(
                f"context.{key} is not a dimension; use {', '.join(DIMENSIONS)}.",
                f"context.{key}",
                "unknown_dimension",
            )
        ids = _ids(value, key)
        column = DIMENSIONS[key]
        if column in names:  # jobId and assignmentId, taskId and datasetId: one dimension, two names
            raise _error(
                f"context.{key} and context.{names[column]} are the same dimension; give one of them.",
                f"context.{key}",
                "duplicate_dimension",
            )
        names[column] = key
        # An empty list means "no filter" (Dataloop's SDK sends `"taskId": []` for unused ones).
        if ids:
            filters[f"{column.removesuffix('_id')}_ids"] = tuple(sorted(set(ids)))
    return Context(**filters, names=names)


@dataclass(frozen=True)
class MeasureRequest:
    index: int
    measure_type: str
    params: dict[str, Any]
    page: int
    page_size: int  # 0: every record on one page
    sort_direction: str | None  # None: the measure's default
    granularities: tuple[str, ...]

    def path(self, key: str) -> str:
        return f"measures[{self.index}].{key}"


@dataclass(frozen=True)
class QueryRequest:
    start: float  # epoch seconds, as requested (not snapped)
    end: float
    context: Context
    measures: tuple[MeasureRequest, ...]

    def grid(self, granularity: str) -> TimeGrid:
        return make_grid(self.start, self.end, granularity)


def _int(raw: Any, path: str, low: int, high: int, default: int) -> int:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise _error(f"{path} must be an integer from {low} to {high}, got {raw!r}.", path)
    return raw


def _granularities(raw: Any, path: str) -> tuple[str, ...]:
    if raw is None:
        return (DEFAULT_GRANULARITY,)
    values = raw if isinstance(raw, list) else [raw]
    if not values:
        raise _error(f"{path} must name at least one granularity.", path, "bad_granularity")
    for value in values:
        if value not in GRANULARITIES:
            raise _error(
                f"{path} must be one of {', '.join(GRANULARITIES)} (or a list of them), got {value!r}.",
                path,
                "bad_granularity",
            )
    if len(set(values)) != len(values):
        raise _error(f"{path} names a granularity twice.", path, "bad_granularity")
    return tuple(values)


def parse_measure(raw: Any, index: int, known: Any, start: float, end: float) -> MeasureRequest:
    """`known(measure_type, path)` returns the measure definition or raises (unknown / not
    supported); the definition checks its own params and says whether it reports time buckets."""
    path = f"measures[{index}]"
    if not isinstance(raw, dict):
        raise _error(f"{path} must be an object with a measureType.", path)
    allowed = {"measureType", "params", "page", "pageSize", "sortDirection", "timeGranularity"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise _error(
            f"{path}.{unknown[0]} is not a measure field; use {', '.join(sorted(allowed))}.",
            f"{path}.{unknown[0]}",
        )
    measure_type = raw.get("measureType")
    if not isinstance(measure_type, str) or not measure_type:
        raise _error(f"{path}.measureType is required.", f"{path}.measureType", "unknown_measure")
    definition = known(measure_type, f"{path}.measureType")
    params = raw.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise _error(f"{path}.params must be an object.", f"{path}.params")
    definition.check_params(params, f"{path}.params")
    direction = raw.get("sortDirection")
    if direction is not None and direction not in SORT_DIRECTIONS:
        raise _error(
            f"{path}.sortDirection must be ascending or descending, got {direction!r}.",
            f"{path}.sortDirection",
        )
    page = _int(raw.get("page"), f"{path}.page", 0, 1_000_000, 0)
    page_size = _int(raw.get("pageSize"), f"{path}.pageSize", 0, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)
    if page_size == 0 and page != 0:
        raise _error(
            f"{path}.page must be 0 when pageSize is 0 or missing (every record on one page); "
            "give a pageSize to page.",
            f"{path}.page",
        )
    granularities = _granularities(raw.get("timeGranularity"), f"{path}.timeGranularity")
    limit = settings.ANALYTICS_MAX_BUCKETS
    for granularity in granularities:
        # Series are zero-filled per bucket, and second/minute read raw events: both are bounded.
        if definition.bucketed(params) or granularity in ("second", "minute"):
            count = bucket_count(start, end, granularity)
            if count > limit:
                raise _error(
                    f"The range has {count} buckets of one {granularity}; at most {limit} are allowed. "
                    "Use a coarser timeGranularity or a shorter range.",
                    f"{path}.timeGranularity",
                    "too_many_buckets",
                )
    return MeasureRequest(index, measure_type, params, page, page_size, direction, granularities)


def parse_request(body: Any, known: Any, now: float | None = None) -> QueryRequest:
    if not isinstance(body, dict):
        raise _error("The body must be a JSON object with startTime and measures.", None)
    allowed = {"startTime", "endTime", "context", "measures"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _error(f"{unknown[0]} is not a query field; use {', '.join(sorted(allowed))}.", unknown[0])
    if body.get("startTime") is None:
        raise _error(
            "startTime is required (epoch milliseconds or ISO-8601).", "startTime", "missing_start_time"
        )
    start = parse_time(body["startTime"], "startTime")
    if body.get("endTime") is None:
        end = time.time() if now is None else now
    else:
        end = parse_time(body["endTime"], "endTime")
    if start >= end:
        raise _error("startTime must be before endTime.", "startTime")
    context = parse_context(body.get("context"))
    raw_measures = body.get("measures")
    if not isinstance(raw_measures, list) or not raw_measures:
        raise _error("measures must be a non-empty list of {measureType, ...}.", "measures")
    if len(raw_measures) > MAX_MEASURES:
        raise _error(f"At most {MAX_MEASURES} measures per query.", "measures")
    measures = tuple(parse_measure(m, i, known, start, end) for i, m in enumerate(raw_measures))
    return QueryRequest(start, end, context, measures)
