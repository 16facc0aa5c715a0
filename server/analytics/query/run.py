"""Evaluating a parsed query: plan every (measure, granularity) entry's reads, run them (shared),
build, sort and page the records. Returns the response body: a list, one entry per measure and
granularity, in request order."""

from __future__ import annotations

from typing import Any

from analytics.query.fetch import Fetcher
from analytics.query.measures import MEASURES, Ctx, Measure, sort_ties
from analytics.query.request import MeasureRequest, QueryRequest
from analytics.query.timegrid import iso
from analytics.selectors import Scope


def _tie_key(ties: tuple[str, ...]) -> Any:
    def key(record: dict[str, Any]) -> tuple:
        return tuple([(record[t] is None, 0 if record[t] is None else record[t]) for t in ties])

    return key


def order(records: list[dict[str, Any]], field: str | None, descending: bool, ties: tuple[str, ...]) -> list:
    """By `field` (nulls last whatever the direction), ties by `ties` ascending: deterministic."""
    if ties:
        records = sorted(records, key=_tie_key(ties))
    if field is None:
        return records
    present = [r for r in records if r[field] is not None]
    missing = [r for r in records if r[field] is None]
    present.sort(key=lambda r: r[field], reverse=descending)  # stable: ties keep their order
    return present + missing


def _entry(request: MeasureRequest, measure: Measure, ctx: Ctx, granularity: str) -> dict[str, Any]:
    records = measure.records(ctx)
    direction = request.sort_direction or measure.default_direction
    records = order(
        records, measure.sort_field, direction == "descending", sort_ties(measure, request.params)
    )
    if request.page_size == 0:
        page, has_next = records, False
    else:
        first = request.page * request.page_size
        page = records[first : first + request.page_size]
        has_next = len(records) > first + request.page_size
    return {
        "measureType": request.measure_type,
        "timeGranularity": granularity,
        "page": request.page,
        "pageSize": request.page_size,
        "hasNext": has_next,
        "totalCount": len(records),
        "startTime": iso(ctx.grid.start),
        "endTime": iso(ctx.grid.end),
        "response": page,
    }


def run_query(query: QueryRequest, scope: Scope) -> tuple[list[dict[str, Any]], Fetcher]:
    fetch = Fetcher(scope)
    planned = []
    for request in query.measures:
        measure = MEASURES[request.measure_type]
        for granularity in request.granularities:
            ctx = Ctx(fetch, query.grid(granularity), request.params)
            measure.plan(ctx)
            planned.append((request, measure, ctx, granularity))
    return [_entry(*item) for item in planned], fetch
