"""Analytics endpoints: thin views that parse parameters, check access (analytics.access), call one
selector/service and shape the answer. See docs/analytics-api.md."""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import orjson
from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from analytics import registry
from analytics.access import request_scope, user_access
from analytics.buckets import BUCKET_SECONDS, MAX_TIMESTAMP, bucket_count, choose_bucket, make_grid
from analytics.errors import AnalyticsAPIView, AnalyticsError
from analytics.selectors import freshness, user_raw_events
from analytics.times import parse_instant
from analytics.user_summary import parse_period, user_summary
from analytics.values import kpi_values, metric_values, range_warnings
from config.fields import ascii_int

DEFAULT_RANGE_SECONDS = 7 * 86_400

_ID_FILTERS = [
    OpenApiParameter(
        name,
        OpenApiTypes.INT,
        many=True,
        required=False,
        description=f"Only rows with this {name} (repeatable).",
    )
    for name in ("org_id", "project_id", "task_id", "job_id", "user_id")
]
_ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description='`{"error": {"code", "message", "field"}}`'),
    401: OpenApiResponse(OpenApiTypes.OBJECT, description="Not signed in"),
    403: OpenApiResponse(
        OpenApiTypes.OBJECT, description="An organization or user outside the caller's rights"
    ),
}
_RANGE_PARAMS = [
    OpenApiParameter(
        "start_timestamp",
        OpenApiTypes.STR,
        required=False,
        description="Epoch seconds or ISO-8601; default end_timestamp - 7 days. "
        "Snapped down to a bucket start.",
    ),
    OpenApiParameter(
        "end_timestamp",
        OpenApiTypes.STR,
        required=False,
        description="Epoch seconds or ISO-8601 (exclusive); default now. Snapped up to a bucket end.",
    ),
    OpenApiParameter(
        "bucket",
        OpenApiTypes.STR,
        required=False,
        enum=["auto", *BUCKET_SECONDS],
        description="Bucket size; `auto` (default) picks the smallest with at most 400 buckets.",
    ),
]


# --- parameters ----------------------------------------------------------------------------------


def names_param(request: Request, param: str, known: dict[str, Any], code: str) -> list[str]:
    names = [name for name in request.query_params.getlist(param) if name != ""]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise AnalyticsError(
            f"Unknown {param[:-1]} {unknown[0]!r}; see the configs endpoint.", code=code, field=param
        )
    return list(dict.fromkeys(names)) or list(known)


def timestamp_param(request: Request, name: str, default: float) -> float:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = parse_instant(raw, per_second=1)
    except ValueError:
        raise AnalyticsError(
            f"{name} must be epoch seconds or an ISO-8601 time, got {raw!r}.", field=name
        ) from None
    if not 0 <= value <= MAX_TIMESTAMP:
        raise AnalyticsError(f"{name} must be between 1970 and 2106.", field=name)
    return value


def grid_params(request: Request) -> tuple[Any, list[dict[str, Any]]]:
    now = time.time()
    end = timestamp_param(request, "end_timestamp", now)
    start = timestamp_param(request, "start_timestamp", end - DEFAULT_RANGE_SECONDS)
    if start >= end:
        raise AnalyticsError("start_timestamp must be before end_timestamp.", field="start_timestamp")
    bucket = request.query_params.get("bucket") or "auto"
    if bucket == "auto":
        bucket = choose_bucket(start, end)
    elif bucket not in BUCKET_SECONDS:
        raise AnalyticsError(
            f"bucket must be one of auto, {', '.join(BUCKET_SECONDS)}; got {bucket!r}.", field="bucket"
        )
    count = bucket_count(start, end, bucket)
    limit = settings.ANALYTICS_MAX_BUCKETS
    if count > limit:
        raise AnalyticsError(
            f"The range has {count} buckets of {bucket}; at most {limit} are allowed. Use a larger bucket "
            "or a shorter range.",
            code="too_many_buckets",
            field="bucket",
        )
    grid = make_grid(start, end, bucket)
    return grid, range_warnings(start, end, grid, now)


def _bucket_name(step: int) -> str:
    return next(name for name, seconds in BUCKET_SECONDS.items() if seconds == step)


def _series_response(
    grid: Any, key: str, rows: list[dict[str, Any]], warnings: list[dict[str, Any]]
) -> Response:
    return Response(
        {
            "start_timestamps": grid.starts,
            "bucket": _bucket_name(grid.step),
            "bucket_seconds": grid.step,
            "start_timestamp": grid.start,
            "end_timestamp": grid.end,
            key: rows,
            "warnings": warnings,
        }
    )


# --- KPIs and metrics ----------------------------------------------------------------------------


class KpiConfigsView(AnalyticsAPIView):
    @extend_schema(
        summary="KPI definitions",
        description=(
            "Name, display name, unit, description, formula and the metrics each KPI reads, in display order."
        ),
        parameters=[OpenApiParameter("kpis", OpenApiTypes.STR, many=True, required=False)],
        responses={200: OpenApiTypes.OBJECT, **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        names = names_param(request, "kpis", registry.KPIS, "unknown_kpi")
        return Response(
            {
                "kpis": [registry.kpi_config(registry.KPIS[name]) for name in names],
                "units": registry.UNITS,
                "warnings": [],
            }
        )


class MetricConfigsView(AnalyticsAPIView):
    @extend_schema(
        summary="Metric definitions",
        description=(
            "Every metric (additive ones first, then distinct counts) with its definition in terms of events."
        ),
        parameters=[OpenApiParameter("metrics", OpenApiTypes.STR, many=True, required=False)],
        responses={200: OpenApiTypes.OBJECT, **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        names = names_param(request, "metrics", registry.ALL_METRICS, "unknown_metric")
        return Response(
            {
                "metrics": [registry.metric_config(registry.ALL_METRICS[name]) for name in names],
                "units": registry.UNITS,
                "warnings": [],
            }
        )


class KpiStatusView(AnalyticsAPIView):
    @extend_schema(
        summary="Data status of KPIs",
        description=(
            "`ok`, `empty` (no data in scope) or `lagging` (the newest event in scope is older than "
            "ANALYTICS_LAG_WARNING_SECONDS), overall and per KPI, with the data lag in seconds."
        ),
        parameters=[OpenApiParameter("kpis", OpenApiTypes.STR, many=True, required=False), *_ID_FILTERS],
        responses={200: OpenApiTypes.OBJECT, **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        names = names_param(request, "kpis", registry.KPIS, "unknown_kpi")
        scope = request_scope(request)
        fresh = freshness(scope)
        now = time.time()
        limit = settings.ANALYTICS_LAG_WARNING_SECONDS
        lag = None if fresh.last_event is None else max(0.0, now - fresh.last_event.timestamp())
        overall = "empty" if lag is None else ("lagging" if lag > limit else "ok")
        statuses = []
        for name in names:
            kpi = registry.KPIS[name]
            lasts = [fresh.last_bucket_for(registry.ALL_METRICS[m]) for m in kpi.metrics]
            lasts = [ts for ts in lasts if ts is not None]
            statuses.append(
                {
                    "status": "empty" if not lasts else overall,
                    "last_bucket_timestamp": int(max(lasts).timestamp()) if lasts else None,
                    "kpi": registry.kpi_config(kpi),
                }
            )
        warnings = []
        if overall == "lagging":
            warnings.append(
                {
                    "code": "lagging",
                    "message": (
                        f"The newest event in scope is {lag:.0f} s old (more than {limit} s): "
                        "ingestion may be delayed, or nobody has worked since."
                    ),
                }
            )
        return Response(
            {
                "status": overall,
                "last_event_timestamp": fresh.last_event.timestamp() if fresh.last_event else None,
                "data_lag_seconds": lag,
                "lag_warning_seconds": limit,
                "statuses": statuses,
                "warnings": warnings,
            }
        )


class KpiValuesView(AnalyticsAPIView):
    @extend_schema(
        summary="KPI values per bucket and over the whole range",
        description=(
            "`values[i]` is the KPI over bucket `start_timestamps[i]`; `aggregate` is the KPI computed on "
            "the metric totals of the whole range (never a mean of `values`). A zero denominator gives "
            "null and a `zero_denominator` warning."
        ),
        parameters=[
            *_RANGE_PARAMS,
            OpenApiParameter("kpis", OpenApiTypes.STR, many=True, required=False),
            *_ID_FILTERS,
        ],
        responses={200: OpenApiTypes.OBJECT, **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        names = names_param(request, "kpis", registry.KPIS, "unknown_kpi")
        grid, warnings = grid_params(request)
        scope = request_scope(request)
        result = kpi_values(scope, grid, [registry.KPIS[name] for name in names])
        return _series_response(grid, "kpis", result.rows, warnings + result.warnings)


class MetricValuesView(AnalyticsAPIView):
    @extend_schema(
        summary="Metric values per bucket and over the whole range",
        description=(
            "Additive metrics: `aggregate` is the sum of `values`. Distinct counts (`additive: false`): "
            "`aggregate` is the distinct count over the whole range."
        ),
        parameters=[
            *_RANGE_PARAMS,
            OpenApiParameter("metrics", OpenApiTypes.STR, many=True, required=False),
            *_ID_FILTERS,
        ],
        responses={200: OpenApiTypes.OBJECT, **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        names = names_param(request, "metrics", registry.ALL_METRICS, "unknown_metric")
        grid, warnings = grid_params(request)
        scope = request_scope(request)
        result = metric_values(scope, grid, names)
        return _series_response(grid, "metrics", result.rows, warnings)


# --- per-user ------------------------------------------------------------------------------------

_PERIOD_PARAMS = [
    OpenApiParameter(
        "days",
        OpenApiTypes.INT,
        required=False,
        description="The last N days including today (1..90, default 30).",
    ),
    OpenApiParameter("start_date", OpenApiTypes.DATE, required=False, description="First day (included)."),
    OpenApiParameter(
        "end_date",
        OpenApiTypes.DATE,
        required=False,
        description="Day after the last one (excluded); at most 90 days after start_date.",
    ),
    OpenApiParameter(
        "org_id",
        OpenApiTypes.INT,
        many=True,
        required=False,
        description="Only these organizations' data (repeatable).",
    ),
]
_USER_PARAM = OpenApiParameter(
    "user", OpenApiTypes.STR, OpenApiParameter.PATH, description="A user id or `me`."
)


def today_utc() -> date:
    return datetime.now(UTC).date()


class UserSummaryView(AnalyticsAPIView):
    @extend_schema(
        summary="One user's activity summary",
        description=(
            "For the user themself, owners and maintainers of an organization the user belongs to "
            "(that organization's data only) and superusers."
        ),
        parameters=[_USER_PARAM, *_PERIOD_PARAMS],
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(OpenApiTypes.OBJECT), **_ERRORS},
    )
    def get(self, request: Request, user: str) -> Response:
        period = parse_period(request.query_params, today_utc())
        access = user_access(request, user)
        return Response(user_summary(access.user_id, access.org_ids, period))


MAX_RAW_LIMIT = 1000
DEFAULT_RAW_LIMIT = 100


def encode_cursor(row: dict[str, Any]) -> str:
    position = {"t": row["timestamp"].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3], "e": str(row["event_id"])}
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[datetime, str]:
    try:
        position = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        moment = datetime.strptime(position["t"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
        return moment, str(uuid.UUID(position["e"]))
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise AnalyticsError("cursor is not a cursor this API returned.", field="cursor") from None


def raw_event_json(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["event_id"] = str(row["event_id"])
    out["timestamp"] = row["timestamp"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    payload = row["payload"]
    if payload:
        try:
            out["payload"] = orjson.loads(payload)
        except orjson.JSONDecodeError:
            out["payload"] = payload
    return out


class UserRawEventsView(AnalyticsAPIView):
    @extend_schema(
        summary="One user's raw events, newest first",
        description=(
            "Same access rules and period parameters as the summary (default: the last 30 days). "
            "`next_cursor` continues the listing; null on the last page. Email, address and token "
            "columns are never returned."
        ),
        parameters=[
            _USER_PARAM,
            *_PERIOD_PARAMS,
            OpenApiParameter("limit", OpenApiTypes.INT, required=False, description="1..1000, default 100."),
            OpenApiParameter("cursor", OpenApiTypes.STR, required=False),
        ],
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(OpenApiTypes.OBJECT), **_ERRORS},
    )
    def get(self, request: Request, user: str) -> Response:
        raw_limit = request.query_params.get("limit") or str(DEFAULT_RAW_LIMIT)
        limit = ascii_int(raw_limit, maximum=MAX_RAW_LIMIT) or 0
        if limit < 1:
            raise AnalyticsError(f"limit must be an integer from 1 to {MAX_RAW_LIMIT}.", field="limit")
        cursor = request.query_params.get("cursor")
        after = decode_cursor(cursor) if cursor else None
        period = parse_period(request.query_params, today_utc())
        access = user_access(request, user)
        rows = user_raw_events(
            access.user_id, access.org_ids, period.start_ts, period.end_ts, limit + 1, after
        )
        page, more = rows[:limit], len(rows) > limit
        return Response(
            {
                "user_id": access.user_id,
                "org_ids": list(access.org_ids) if access.org_ids is not None else None,
                "period": period.as_json(),
                "results": [raw_event_json(row) for row in page],
                "next_cursor": encode_cursor(page[-1]) if more else None,
            }
        )
