"""The measure query API, `POST /api/analytics/query` (docs/query-api.md).

A Dataloop-shaped request (`startTime`, `endTime`, `context`, `measures`) answered from our events:

- `request`: parsing and validation of the body (every 400 names its field);
- `scope`: the context turned into a checked `analytics.selectors.Scope` (403 rules of
  `analytics.access`);
- `timegrid`: the granularities (second .. month) over the one grid of `analytics.grid`, and the
  table `analytics.tiers` chooses for a grid;
- `fetch`: the SQL (clickhouse/queries/query_api/*.sql), with reads shared between measures;
- `measures`: every measure, defined on the metric/KPI registry (`analytics.registry`): `base`
  (framework, generic measures), `bespoke` (own shapes), `catalogue` (by name);
- `views`: the endpoint, paging and sorting.
"""
