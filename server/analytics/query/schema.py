"""OpenAPI description of the query API (drf-spectacular). Documentation only: the body is parsed
by `analytics.query.request`, whose errors name the exact field."""

from __future__ import annotations

from rest_framework import serializers

from analytics.query.measures import MEASURES
from analytics.query.request import DEFAULT_PAGE_SIZE, DIMENSIONS, MAX_PAGE_SIZE, SORT_DIRECTIONS
from analytics.query.timegrid import GRANULARITIES


class QueryMeasureSerializer(serializers.Serializer):
    measureType = serializers.ChoiceField(choices=sorted(MEASURES))
    params = serializers.DictField(required=False, help_text="Measure parameters (see docs/query-api.md).")
    page = serializers.IntegerField(required=False, min_value=0, default=0)
    pageSize = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_PAGE_SIZE,
        default=DEFAULT_PAGE_SIZE,
        help_text="Records per page; 0 or missing: every record on one page.",
    )
    sortDirection = serializers.ChoiceField(choices=SORT_DIRECTIONS, required=False)
    timeGranularity = serializers.JSONField(
        required=False,
        help_text=f"One of {', '.join(GRANULARITIES)} (default hour), or a list of them: one entry each.",
    )


def _ids() -> serializers.ListField:
    return serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)


class QueryContextSerializer(serializers.Serializer):
    """Each dimension a list of ids (an empty list: no filter); assignmentId is jobId, datasetId is
    taskId. The fields are the request parser's DIMENSIONS (checked below)."""

    orgId = _ids()
    projectId = _ids()
    taskId = _ids()
    datasetId = _ids()
    jobId = _ids()
    assignmentId = _ids()
    userId = _ids()


class QueryRequestSerializer(serializers.Serializer):
    startTime = serializers.JSONField(help_text="Required. Epoch milliseconds or ISO-8601.")
    endTime = serializers.JSONField(required=False, allow_null=True, help_text="Default now.")
    context = QueryContextSerializer(required=False)
    measures = QueryMeasureSerializer(many=True)


class QueryEntrySerializer(serializers.Serializer):
    measureType = serializers.CharField()
    timeGranularity = serializers.ChoiceField(choices=GRANULARITIES)
    page = serializers.IntegerField()
    pageSize = serializers.IntegerField()
    hasNext = serializers.BooleanField()
    totalCount = serializers.IntegerField()
    startTime = serializers.CharField(help_text="Start of the range used (snapped to the granularity).")
    endTime = serializers.CharField(help_text="End (exclusive) of the range used.")
    response = serializers.ListField(child=serializers.DictField())


assert set(QueryContextSerializer().fields) == set(DIMENSIONS)
