"""Reads of the query API. SQL lives in clickhouse/queries/query_api/*.sql with bound parameters;
this module binds the scope and the grid, shares reads between measures, and turns rollup-shaped
rows into registry metric values (with the registry's own match rules, as analytics.selectors).

Reads of grouped sums are planned before they run: every measure of a request first declares
what it needs (`want`: a grid, timed or not, which id columns, which metrics); reads of the same
shape are merged into one query over the union of their metric keys, then run once (`sums`).
A 10-measure query typically needs 3 or 4 queries, not 10. A read that keeps no id column but
org_id, for a scope of organizations only, reads the organization tier of the same buckets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from django.contrib.auth import get_user_model

from analytics.grid import Grid
from analytics.query.timegrid import grid_table, is_raw
from analytics.registry import ALL_SCOPES, DistinctMetric, Metric, status_key
from analytics.selectors import Scope
from analytics.tiers import ORG_TIER_NAMES, finest, org_tier_of, rollup_table
from store.client import get_client
from store.schema import event_rollup_rows
from store.sql import load_sql, scope_conditions, scoped_sql

ID_COLUMNS: tuple[str, ...] = ("org_id", "project_id", "task_id", "job_id", "user_id")
# The columns of a sums row (sums_rollup.sql, sums_raw.sql), by name; the positions below are
# looked up here, and every sums read checks that its result has exactly these columns.
SUMS_COLUMNS = (
    "i",
    "o",
    "p",
    "t",
    "j",
    "u",
    "metric_key",
    "source",
    "events",
    "units",
    "duration_ms",
    "working_time_ms",
    "first_bucket",
    "last_bucket",
)
_AT = {name: k for k, name in enumerate(SUMS_COLUMNS)}
BUCKET, ORG, PROJECT, TASK, JOB, USER = (_AT[name] for name in ("i", "o", "p", "t", "j", "u"))
KEY, SOURCE, FIRST, LAST = (_AT[name] for name in ("metric_key", "source", "first_bucket", "last_bucket"))
DIM_INDEX = {"org_id": ORG, "project_id": PROJECT, "task_id": TASK, "job_id": JOB, "user_id": USER}
COLUMN_INDEX = {name: _AT[name] for name in ("events", "units", "duration_ms", "working_time_ms")}
_BY = {
    "org_id": "by_org",
    "project_id": "by_project",
    "task_id": "by_task",
    "job_id": "by_job",
    "user_id": "by_user",
}

AnyMetric = Metric | DistinctMetric


def status_params(prefix: str, keys: Iterable[str]) -> dict[str, Any]:
    """A raw read's filter for the events of some status keys (`update:job:state=completed` ...),
    as columns ClickHouse compares cheaply: `<prefix>_scopes`, `<prefix>_field` (one status field)
    and `<prefix>_values`. Checked to give back exactly the registry's keys."""
    keys = sorted(set(keys))
    parts = []
    for key in keys:
        if "=" not in key:
            raise ValueError(f"{key} is not a status key")
        head, value = key.split("=", 1)
        scope, field_name = head.rsplit(":", 1)
        if status_key(scope, field_name, value) != key:
            raise ValueError(f"{key} does not round-trip")
        parts.append((scope, field_name, value))
    fields = {field_name for _, field_name, _ in parts}
    if len(fields) != 1:
        raise ValueError(f"{keys} are not keys of one status field")
    scopes = sorted({scope for scope, _, _ in parts})
    values = sorted({value for _, _, value in parts})
    if sorted(status_key(s, parts[0][1], v) for s in scopes for v in values) != keys:
        raise ValueError(f"{keys} are not every value of every scope")  # the filter would widen
    return {f"{prefix}_scopes": scopes, f"{prefix}_field": parts[0][1], f"{prefix}_values": values}


def scope_keys(metric: Metric) -> list[str]:
    """The keys of a metric that reads plain scopes (what a raw read can filter with `scope IN`)."""
    if metric.metric_keys == (ALL_SCOPES,) or any("=" in key for key in metric.metric_keys):
        raise ValueError(f"{metric.key} does not read plain scope keys")
    return list(metric.metric_keys)


# A job belongs to one task and project, a task to one project: grouping by the parent too gives
# the same groups, so reads by (job) and by (job, task, project) are one read.
_IMPLIED = {"job_id": ("task_id", "project_id"), "task_id": ("project_id",)}


@dataclass(frozen=True)
class Shape:
    """One grouped-sums read: the grid, whether rows are split by bucket, the id columns kept."""

    grid: Grid
    timed: bool
    dims: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.dims) - set(ID_COLUMNS)
        if unknown:
            raise ValueError(f"cannot group by {unknown}")
        dims = set(self.dims)
        for dim in self.dims:
            dims.update(_IMPLIED.get(dim, ()))
        object.__setattr__(self, "dims", tuple(d for d in ID_COLUMNS if d in dims))

    @property
    def key(self) -> tuple:
        """Reads with equal keys are one read. A whole-range read does not depend on the
        granularity, only on the range (and on raw vs rollup)."""
        if self.timed:
            return (True, self.dims, self.grid)
        return (False, self.dims, self.grid.start, self.grid.end, is_raw(self.grid))

    def table(self, spans: bool) -> str:
        """Timed reads, and reads whose first/last buckets must resolve the granularity, read the
        granularity's own table; whole-range sums the coarsest tier whose buckets tile the range
        (a 30-day range of whole days reads rollup_1d whatever the granularity)."""
        if is_raw(self.grid) or self.timed or spans:
            return grid_table(self.grid)
        return rollup_table(self.grid.start, self.grid.end)


# The raw-event read: the rollup views' own SELECTs with one-second buckets, over the events in
# range and scope (ids filtered as null = 0, which no filter asks for).
_SUMS_RAW = load_sql("queries/query_api/sums_raw.sql").replace(
    "/*event_rollup_rows*/",
    event_rollup_rows(
        "toDateTime(timestamp, 'UTC')",
        (
            "timestamp >= toDateTime64({start:UInt32}, 3, 'UTC')",
            "timestamp < toDateTime64({end:UInt32}, 3, 'UTC')",
            *scope_conditions(),
        ),
    ),
)


@dataclass
class _Want:
    shape: Shape
    keys: set[str] = field(default_factory=set)
    all_keys: bool = False
    tables: set[str] = field(default_factory=set)  # what each merged read needs; the finest wins

    @property
    def table(self) -> str:
        return finest(self.tables)


_SUMS_READS = frozenset({"sums_raw", "sums_rollup"})


class Fetcher:
    """The reads of one request, for one scope."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._wanted: dict[tuple, _Want] = {}
        self._sums: dict[tuple, list[tuple]] = {}
        self._raw: dict[tuple, list[tuple]] = {}
        self._names: dict[int, str | None] = {}
        self.queries = 0

    # --- grouped sums ----------------------------------------------------------------------------

    def want(self, shape: Shape, metrics: Iterable[AnyMetric], spans: bool = False) -> None:
        """Declare a read; `spans`: the caller uses first_bucket / last_bucket at the grid's
        granularity."""
        if shape.key in self._sums:
            raise RuntimeError("a read was wanted after it ran")
        wanted = self._wanted.setdefault(shape.key, _Want(shape))
        wanted.tables.add(shape.table(spans))
        for metric in metrics:
            if metric.metric_keys == (ALL_SCOPES,):
                wanted.all_keys = True
            else:
                wanted.keys.update(metric.metric_keys)

    def sums(self, shape: Shape) -> list[tuple]:
        if shape.key not in self._sums:
            wanted = self._wanted.get(shape.key)
            if wanted is None:
                raise RuntimeError(f"{shape} was not wanted before reading")
            self._sums[shape.key] = self._read_sums(wanted)
        return self._sums[shape.key]

    def _read_sums(self, wanted: _Want) -> list[tuple]:
        if self.scope.sees_nothing:
            return []
        shape = wanted.shape
        grid = shape.grid
        params: dict[str, Any] = {
            **self.scope.params(),
            **grid.sql_params(shape.timed),
            "start": grid.start,
            "end": grid.end,
            "all_keys": wanted.all_keys,
            "metric_keys": sorted(wanted.keys),
            **{flag: column in shape.dims for column, flag in _BY.items()},
        }
        if is_raw(grid):
            return self._query("sums_raw", params)
        params["table"] = wanted.table
        org_table = org_tier_of(wanted.table)
        if org_table is not None and self.scope.by_organization_only and set(shape.dims) <= {"org_id"}:
            # The same sums from the organization tier (~60 times fewer rows): a 30-day read of
            # one organization ~1.5-2x faster (bench/query_latency.py).
            params["table"] = org_table
        return self._query("sums_rollup", params)

    # --- reads of raw events ---------------------------------------------------------------------

    def raw(self, name: str, grid: Grid, timed: bool = False, **extra: Any) -> list[tuple]:
        """A query_api/<name>.sql read over [grid.start, grid.end) in scope, memoized."""
        if self.scope.sees_nothing:
            return []
        params = {
            **self.scope.params(),
            **grid.sql_params(timed),
            "start": grid.start,
            "end": grid.end,
            **extra,
        }
        memo = (name, tuple(sorted((k, _hashable(v)) for k, v in params.items())))
        if memo not in self._raw:
            self._raw[memo] = self._query(name, params)
        return self._raw[memo]

    def _query(self, name: str, params: dict[str, Any]) -> list[tuple]:
        self.queries += 1
        if name == "sums_raw":
            sql = _SUMS_RAW
        else:  # an organization tier has no project .. user columns: its own file
            file = "sums_org_rollup" if name == "sums_rollup" and params["table"] in ORG_TIER_NAMES else name
            sql = scoped_sql(f"queries/query_api/{file}.sql", params)
        result = get_client().query(sql, parameters=params)
        if name in _SUMS_READS and result.column_names and tuple(result.column_names) != SUMS_COLUMNS:
            raise RuntimeError(f"{name}.sql returns {result.column_names}, not {SUMS_COLUMNS}")
        return result.result_rows

    # --- names -----------------------------------------------------------------------------------

    def user_names(self, ids: Iterable[int]) -> dict[int, str | None]:
        """Usernames from the accounts table (None for ids it does not know), one query per batch."""
        missing = {i for i in ids if i and i not in self._names}
        if missing:
            found = dict(get_user_model().objects.filter(pk__in=missing).values_list("pk", "username"))
            for user_id in missing:
                self._names[user_id] = found.get(user_id)
        return self._names


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


# --- routing rows to metrics -----------------------------------------------------------------------


class Totals:
    """Metric values per group of sums rows: additive metrics add their registry column over the
    rows they match; distinct metrics count distinct non-zero ids of their dimension among the
    rows they match (the dimension must be one of the read's id columns)."""

    def __init__(self, metrics: Sequence[AnyMetric]) -> None:
        self.metrics = list(metrics)
        self._routes: dict[tuple[str, str], list[tuple[str, int, bool]]] = {}

    def _route(self, metric_key: str, source: str) -> list[tuple[str, int, bool]]:
        route = self._routes.get((metric_key, source))
        if route is None:
            route = []
            for metric in self.metrics:
                if isinstance(metric, DistinctMetric):
                    if metric.matches(metric_key):
                        route.append((metric.key, DIM_INDEX[metric.dimension], True))
                elif metric.matches(metric_key, source):
                    route.append((metric.key, COLUMN_INDEX[metric.column], False))
            self._routes[(metric_key, source)] = route
        return route

    def group(self, rows: Iterable[tuple], key: Any) -> dict[Any, dict[str, Any]]:
        """{key(row): {metric: value}} over the rows that feed at least one metric."""
        names = [metric.key for metric in self.metrics]
        out: dict[Any, dict[str, Any]] = {}
        sets: dict[tuple[Any, str], set[int]] = {}
        routes = self._routes
        for row in rows:
            route = routes.get((row[KEY], row[SOURCE]))
            if route is None:
                route = self._route(row[KEY], row[SOURCE])
            if not route:
                continue
            group_key = key(row)
            values = out.get(group_key)
            if values is None:
                values = out[group_key] = dict.fromkeys(names, 0)
            for name, index, distinct in route:
                if distinct:
                    ident = row[index]
                    if ident:
                        sets.setdefault((group_key, name), set()).add(ident)
                else:
                    values[name] += row[index]
        for (group_key, name), ids in sets.items():
            out[group_key][name] = len(ids)
        return out

    def total(self, rows: Iterable[tuple]) -> dict[str, Any]:
        """The metrics over all rows (one group)."""
        return self.group(rows, lambda row: None).get(None) or {m.key: 0 for m in self.metrics}

    def matching(self, rows: Iterable[tuple], name: str) -> list[tuple]:
        """The rows that feed metric `name`."""
        return [row for row in rows if any(r[0] == name for r in self._route(row[KEY], row[SOURCE]))]


def tuple_key(positions: Sequence[int]) -> Any:
    """A key function giving the tuple of a row's values at `positions` (fast: itemgetter)."""
    if len(positions) == 1:
        (position,) = positions
        return lambda row: (row[position],)
    return itemgetter(*positions)
