"""Granularities of the query API: second, minute, hour, day, week (Mondays) and month (calendar
months), all in UTC, over the one grid of `analytics.grid`.

A range [start, end) is widened to whole buckets of the granularity (start down, end up), as the
KPI API does, so every bucket a measure reports is complete. The table that answers a grid is
`analytics.tiers`' choice: raw `events` for seconds and minutes (a 5-minute rollup cannot split a
bucket it summed), rollup_1h for hours, rollup_1d for days, weeks and months.
"""

from __future__ import annotations

from analytics.grid import MONTHLY, Grid
from analytics.grid import bucket_count as _count
from analytics.tiers import RAW_TABLE, sums_table
from analytics.times import iso_z as iso

__all__ = ["DEFAULT_GRANULARITY", "GRANULARITIES", "bucket_count", "grid_table", "is_raw", "iso", "make_grid"]

GRANULARITIES: tuple[str, ...] = ("second", "minute", "hour", "day", "week", "month")
DEFAULT_GRANULARITY = "hour"
STEP_SECONDS: dict[str, int] = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86_400,
    "week": 604_800,
    "month": MONTHLY,
}


def bucket_count(start: float, end: float, granularity: str) -> int:
    """Buckets of `granularity` in [start, end) widened to whole buckets, without building them."""
    return _count(start, end, STEP_SECONDS[granularity])


def make_grid(start: float, end: float, granularity: str) -> Grid:
    return Grid.covering(start, end, STEP_SECONDS[granularity])


def grid_table(grid: Grid) -> str:
    """The table that answers sums on this grid: a rollup tier or `events`."""
    if grid.monthly:  # months start at midnight: whole days
        return sums_table(grid.start, 86_400)
    return sums_table(grid.start, grid.step)


def is_raw(grid: Grid) -> bool:
    """True when the grid needs raw events (second, minute)."""
    return grid_table(grid) == RAW_TABLE
