"""The measure framework: the metrics measures read beyond the published ones, record columns
computed from metric totals, the Measure interface and the three generic measures (timeline,
single, list) that are functions of registry metrics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from analytics.errors import AnalyticsError
from analytics.grid import Grid
from analytics.query.fetch import (
    BUCKET,
    DIM_INDEX,
    FIRST,
    LAST,
    Fetcher,
    Shape,
    Totals,
    tuple_key,
)
from analytics.query.timegrid import iso
from analytics.registry import (
    KPIS,
    DistinctMetric,
    Metric,
)
from analytics.registry import (
    any_metric as metric,
)

ID_FIELDS: dict[str, str] = {
    "org_id": "orgId",
    "project_id": "projectId",
    "task_id": "taskId",
    "job_id": "jobId",
    "user_id": "userId",
}


# --- columns: record fields computed from metric totals ---------------------------------------------


@dataclass(frozen=True)
class Col:
    """A record field: a metric total (`metric`) or a KPI on the totals of its metrics (`kpi`)."""

    field: str
    metric: str | None = None
    kpi: str | None = None

    def metrics(self) -> list[str]:
        return list(KPIS[self.kpi].metrics) if self.kpi else [self.metric]  # type: ignore[list-item]


def _metrics_of(cols: Iterable[Col], extra: Iterable[str] = ()) -> list[Metric | DistinctMetric]:
    names = list(dict.fromkeys([*(name for col in cols for name in col.metrics()), *extra]))
    return [metric(name) for name in names]


def _values(cols: Sequence[Col], totals: dict[str, Any]) -> dict[str, Any]:
    """The record fields of `cols` from metric totals (a KPI: its formula on the totals)."""
    return {col.field: KPIS[col.kpi].compute(totals) if col.kpi else totals[col.metric] for col in cols}


# --- the measure interface -------------------------------------------------------------------------


@dataclass
class Ctx:
    fetch: Fetcher
    grid: Grid
    params: dict[str, Any]


def param_error(message: str, path: str) -> AnalyticsError:
    return AnalyticsError(message, code="invalid_parameter", field=path)


@dataclass
class Measure:
    name: str
    summary: str
    kind: str  # timeline | list | single
    fields: tuple[str, ...] = ()
    sort_field: str | None = None
    default_direction: str = "descending"
    ties: tuple[str, ...] = ()
    params_doc: dict[str, str] = field(default_factory=dict)

    # request-time checks

    def check_params(self, params: dict[str, Any], path: str) -> None:
        unknown = sorted(set(params) - set(self.params_doc))
        if unknown:
            allowed = ", ".join(sorted(self.params_doc)) or "none"
            raise param_error(
                f"{path}.{unknown[0]} is not a parameter of {self.name} (parameters: {allowed}).",
                f"{path}.{unknown[0]}",
            )

    def bucketed(self, params: dict[str, Any]) -> bool:
        """True when the records are split by time bucket (a timeline is zero-filled): the number
        of buckets is then bounded by ANALYTICS_MAX_BUCKETS."""
        return self.kind == "timeline"

    def record_fields(self, params: dict[str, Any]) -> tuple[str, ...]:
        return self.fields

    # evaluation: plan() declares the reads, records() builds the records from them

    def plan(self, ctx: Ctx) -> None:
        pass

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        raise NotImplementedError


@dataclass
class MetricTimeline(Measure):
    """One record per bucket: registry metrics and KPIs of the bucket."""

    cols: tuple[Col, ...] = ()
    kind: str = "timeline"
    sort_field: str | None = "time"
    default_direction: str = "ascending"

    def __post_init__(self) -> None:
        self.fields = ("time", *(col.field for col in self.cols))

    def plan(self, ctx: Ctx) -> None:
        ctx.fetch.want(Shape(ctx.grid, True), _metrics_of(self.cols))

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        totals = Totals(_metrics_of(self.cols))
        by_bucket = totals.group(ctx.fetch.sums(Shape(ctx.grid, True)), itemgetter(BUCKET))
        zero = {m.key: 0 for m in totals.metrics}
        return [
            {"time": time, **_values(self.cols, by_bucket.get(i, zero))}
            for i, time in enumerate(ctx.grid.iso_starts())
        ]


@dataclass
class MetricSingle(Measure):
    """One record: registry metrics and KPIs over the whole range."""

    cols: tuple[Col, ...] = ()
    dims: tuple[str, ...] = ()  # id columns a distinct metric among the cols counts
    kind: str = "single"

    def __post_init__(self) -> None:
        self.fields = tuple(col.field for col in self.cols)

    def plan(self, ctx: Ctx) -> None:
        ctx.fetch.want(Shape(ctx.grid, False, self.dims), _metrics_of(self.cols))

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        totals = Totals(_metrics_of(self.cols))
        return [_values(self.cols, totals.total(ctx.fetch.sums(Shape(ctx.grid, False, self.dims))))]


@dataclass
class MetricList(Measure):
    """One record per group of ids (`dims`) with data in range: the groups counted by the
    `include` metric (a distinct metric counting the group's id, or an additive one > 0)."""

    dims: tuple[str, ...] = ()  # what a record is about (its id fields)
    cols: tuple[Col, ...] = ()
    include: str = "working_time_ms"
    read_dims: tuple[str, ...] = ()  # extra id columns to read (for distinct counts per group)
    require_ids: tuple[str, ...] = ()  # groups whose id here is 0 (none) are left out
    first_last: tuple[str, str] | None = None  # fields for the first/last bucket with `include` data
    user_name: bool = False
    aliases: dict[str, str] = field(default_factory=dict)  # extra field -> id column it repeats
    constants: dict[str, Any] = field(default_factory=dict)
    kind: str = "list"

    def __post_init__(self) -> None:
        ids = [ID_FIELDS[d] for d in self.dims]
        with_aliases = []  # each alias right after the id it repeats (jobId, itemId, ...)
        for dim in self.dims:
            with_aliases.append(ID_FIELDS[dim])
            with_aliases += [alias for alias, column in self.aliases.items() if column == dim]
        names = ["userName"] if self.user_name else []
        first_last = list(self.first_last or ())
        self.fields = (
            *with_aliases,
            *names,
            *self.constants,
            *(col.field for col in self.cols),
            *first_last,
        )
        if not self.ties:
            self.ties = tuple(ids)

    def _shape(self, ctx: Ctx) -> Shape:
        return Shape(ctx.grid, False, (*self.dims, *self.read_dims))

    def plan(self, ctx: Ctx) -> None:
        ctx.fetch.want(self._shape(ctx), _metrics_of(self.cols, [self.include]), spans=bool(self.first_last))

    def records(self, ctx: Ctx) -> list[dict[str, Any]]:
        rows = ctx.fetch.sums(self._shape(ctx))
        totals = Totals(_metrics_of(self.cols, [self.include]))
        group_key = tuple_key([DIM_INDEX[d] for d in self.dims])
        groups = totals.group(rows, group_key)
        spans: dict[tuple, list[int]] = {}
        if self.first_last:
            for row in totals.matching(rows, self.include):
                span = spans.setdefault(group_key(row), [row[FIRST], row[LAST]])
                span[0] = min(span[0], row[FIRST])
                span[1] = max(span[1], row[LAST])
        required = [self.dims.index(d) for d in self.require_ids]
        kept = [
            (key, values)
            for key, values in groups.items()
            if values[self.include] > 0 and all(key[r] for r in required)
        ]
        names = (
            ctx.fetch.user_names(key[self.dims.index("user_id")] for key, _ in kept) if self.user_name else {}
        )
        out = []
        for key, values in kept:
            record: dict[str, Any] = {}
            for n, dim in enumerate(self.dims):
                record[ID_FIELDS[dim]] = key[n] or None
                for alias, column in self.aliases.items():
                    if column == dim:
                        record[alias] = key[n] or None
            if self.user_name:
                record["userName"] = names.get(key[self.dims.index("user_id")])
            record.update(self.constants)
            record.update(_values(self.cols, values))
            if self.first_last:
                first, last = spans[key]
                record[self.first_last[0]] = iso(ctx.grid.floor(first))
                record[self.first_last[1]] = iso(ctx.grid.floor(last))
            out.append(record)
        return out
