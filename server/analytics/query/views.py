"""`POST /api/analytics/query` (docs/query-api.md): parse (400s), check the context against the
caller's rights (403s), evaluate, answer the list of entries."""

from __future__ import annotations

import orjson
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.request import Request

from analytics.errors import AnalyticsAPIView
from analytics.query.measures import lookup
from analytics.query.request import parse_request
from analytics.query.run import run_query
from analytics.query.schema import QueryEntrySerializer, QueryRequestSerializer
from analytics.query.scope import context_scope
from config.media_types import CvatJSONParser
from config.parsers import DepthLimitedJSONParser

_ERROR = '`{"error": {"code", "message", "field"}}`'


class QueryView(AnalyticsAPIView):
    parser_classes = [DepthLimitedJSONParser, CvatJSONParser]

    @extend_schema(
        summary="Measures over a time range (Dataloop-style analytics query)",
        description=(
            "One entry per measure and granularity, in request order; each entry's `response` is a "
            "list of flat records (a table). Durations in ms, times ISO-8601 UTC bucket starts, "
            "timelines zero-filled. See docs/query-api.md for every measure."
        ),
        request=QueryRequestSerializer,
        responses={
            200: QueryEntrySerializer(many=True),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description=_ERROR),
            401: OpenApiResponse(OpenApiTypes.OBJECT, description="Not signed in"),
            403: OpenApiResponse(
                OpenApiTypes.OBJECT, description="A context id outside the caller's organizations"
            ),
        },
        examples=[
            OpenApiExample(
                "Two granularities",
                request_only=True,
                value={
                    "startTime": "2026-11-02T00:00:00Z",
                    "endTime": None,
                    "context": {"projectId": [7]},
                    "measures": [
                        {
                            "measureType": "countItemInAnnotationTimeBucket",
                            "sortDirection": "descending",
                            "timeGranularity": ["hour", "day"],
                        }
                    ],
                },
            ),
        ],
    )
    def post(self, request: Request) -> HttpResponse:
        query = parse_request(request.data, lookup)
        scope = context_scope(request, query.context)
        body, _ = run_query(query, scope)
        return HttpResponse(orjson.dumps(body), content_type="application/json")
