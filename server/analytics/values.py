"""KPI and metric values over a bucket grid: what /kpis/values and /metrics/values return.

A KPI's value in a bucket is its formula on that bucket's metric totals; its `aggregate` is the
formula on the metric totals of the whole range (never a mean of the bucket values). A formula
with a zero denominator gives None (JSON null) and one `zero_denominator` warning per KPI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from analytics.buckets import Grid
from analytics.registry import ALL_METRICS, KPI, metrics_for
from analytics.selectors import Scope, metric_series
from analytics.times import iso_z as iso


def warning(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


@dataclass
class Values:
    grid: Grid
    rows: list[dict[str, Any]]
    warnings: list[dict[str, Any]] = field(default_factory=list)


def kpi_values(scope: Scope, grid: Grid, kpis: Sequence[KPI]) -> Values:
    series = metric_series(scope, grid, metrics_for(list(kpis)))
    buckets = [series.bucket(i) for i in range(grid.count)]  # once, not once per KPI
    rows = []
    warnings = []
    for kpi in kpis:
        values = [kpi.compute(bucket) for bucket in buckets]
        aggregate = kpi.compute(series.totals)
        rows.append({"kpi": kpi.key, "unit": kpi.unit, "values": values, "aggregate": aggregate})
        empty = sum(1 for value in values if value is None)
        if empty or aggregate is None:
            where = f"{empty} of {grid.count} buckets" + (" and the aggregate" if aggregate is None else "")
            warnings.append(
                warning(
                    "zero_denominator",
                    f"{kpi.key}: the denominator ({kpi.formula_text}) is 0 in {where}; "
                    "those values are null.",
                    kpi=kpi.key,
                    buckets=empty,
                    aggregate=aggregate is None,
                )
            )
    return Values(grid, rows, warnings)


def metric_values(scope: Scope, grid: Grid, names: Sequence[str]) -> Values:
    series = metric_series(scope, grid, names)
    rows = [
        {
            "name": name,
            "unit": ALL_METRICS[name].unit,
            "additive": ALL_METRICS[name].additive,
            "values": series.values[name],
            "aggregate": series.totals[name],
        }
        for name in names
    ]
    return Values(grid, rows)


def range_warnings(
    requested_start: float, requested_end: float, grid: Grid, now: float
) -> list[dict[str, Any]]:
    warnings = []
    if grid.start != requested_start or grid.end != requested_end:
        warnings.append(
            warning(
                "range_snapped",
                f"The range was widened to whole {grid.step}-second buckets: "
                f"[{iso(grid.start)}, {iso(grid.end)}) instead of "
                f"[{iso(requested_start)}, {iso(requested_end)}).",
                start_timestamp=grid.start,
                end_timestamp=grid.end,
            )
        )
    if grid.end > now:
        last = grid.start + (grid.count - 1) * grid.step
        warnings.append(
            warning(
                "partial_last_bucket",
                f"The last bucket ({iso(last)}) is still open: its values will grow as events arrive.",
                start_timestamp=last,
            )
        )
    return warnings
