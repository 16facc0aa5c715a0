"""Every measure of the query API, defined on the metric/KPI registry (`analytics.registry`).

A measure's numbers are registry metrics and KPIs, evaluated per time bucket, per group of ids or
over the whole range, so they are the numbers /kpis/values and /metrics/values give for the same
scope and range. Where a measure needs what the rollups cannot keep (the latest state of a job,
the durations of single events, pairing an issue with its resolution, a payload field), it reads
raw `events`, selecting them with the same registry keys; tests check that the parts both can
answer agree.

Three kinds of measure:

- `timeline`: one record per time bucket (zero-filled; a KPI with a zero denominator is null);
- `list`: one record per group of ids (a user, a job, a job and a user ...) with data in range;
- `single`: one record over the whole range.

Dataloop's "item" and "assignment" are CVAT jobs here (the unit of working time and of state).
`docs/query-api.md` has the one-line definition of each measure, generated from `summary`.

The package: `base` (framework and generic measures), `bespoke` (measures with their own shape),
`catalogue` (every measure by name, lookup).
"""

from analytics.query.measures.base import Col, Ctx, Measure, metric
from analytics.query.measures.bespoke import ActivityByField
from analytics.query.measures.catalogue import MEASURES, NOT_SUPPORTED, lookup, sort_ties

__all__ = [
    "MEASURES",
    "NOT_SUPPORTED",
    "ActivityByField",
    "Col",
    "Ctx",
    "Measure",
    "lookup",
    "metric",
    "sort_ties",
]
