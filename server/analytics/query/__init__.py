"""The measure query API, `POST /api/analytics/query` (docs/query-api.md).

A Dataloop-shaped request (`startTime`, `endTime`, `context`, `measures`) answered from our events:

- `request`: parsing and validation of the body (every 400 names its field);
- `scope`: the context turned into a checked `analytics.selectors.Scope` (403 rules of
  `analytics.access`);
- `timegrid`: buckets of second .. month, snapping, and which table answers a granularity;
- `fetch`: the SQL (clickhouse/queries/query_api/*.sql), with reads shared between measures;
- `measures`: every measure, defined on the metric/KPI registry (`analytics.registry`);
- `views`: the endpoint, paging and sorting.
"""
