"""Time buckets of the query API: second, minute, hour, day, week (Mondays) and month (calendar
months), all in UTC.

A range [start, end) is widened to whole buckets of the granularity (start down, end up), as the
KPI API does, so every bucket a measure reports is complete. Which table answers a granularity:

- second, minute: raw `events` (a 5-minute rollup cannot split a bucket it summed);
- hour: `rollup_1h`; day, week, month: `rollup_1d` (their buckets are whole hours / days, so the
  coarser tier gives the same sums from fewer rows).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GRANULARITIES: tuple[str, ...] = ("second", "minute", "hour", "day", "week", "month")
DEFAULT_GRANULARITY = "hour"
STEP_SECONDS: dict[str, int] = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400, "week": 604_800}
# Weeks start on Monday: 1970-01-05T00:00:00Z is the first Monday after the epoch.
_WEEK_ORIGIN = 4 * 86_400
RAW_GRANULARITIES = frozenset({"second", "minute"})
_TABLES = {"hour": "rollup_1h", "day": "rollup_1d", "week": "rollup_1d", "month": "rollup_1d"}


def _month_index(ts: float) -> int:
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.year * 12 + moment.month - 1


def _month_start(index: int) -> int:
    return int(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class TimeGrid:
    """`count` buckets of `granularity` covering [start, end) (epoch seconds, aligned)."""

    granularity: str
    start: int
    end: int
    count: int

    @property
    def monthly(self) -> bool:
        return self.granularity == "month"

    @property
    def step(self) -> int:
        """Seconds per bucket (0 for months, whose length varies)."""
        return STEP_SECONDS.get(self.granularity, 0)

    @property
    def raw(self) -> bool:
        """True when the grid needs raw events (second, minute)."""
        return self.granularity in RAW_GRANULARITIES

    @property
    def table(self) -> str:
        """The table that answers sums on this grid: `events` or a rollup tier."""
        return "events" if self.raw else _TABLES[self.granularity]

    def starts(self) -> list[int]:
        if self.monthly:
            first = _month_index(self.start)
            return [_month_start(first + i) for i in range(self.count)]
        return list(range(self.start, self.end, self.step))

    def iso_starts(self) -> list[str]:
        """starts() as ISO-8601 strings (cached: every timeline of a request shares them)."""
        return _iso_starts(self)

    def index(self, ts: float) -> int:
        """The bucket holding `ts` (may be outside 0..count-1 for a time outside the grid)."""
        if self.monthly:
            return _month_index(ts) - _month_index(self.start)
        return int((ts - self.start) // self.step)

    def floor(self, ts: float) -> int:
        """Start of the bucket holding `ts`."""
        if self.monthly:
            return _month_start(_month_index(ts))
        return self.start + self.index(ts) * self.step

    def sql_params(self, timed: bool = True) -> dict[str, Any]:
        """Bind parameters of the bucket index `i` in the SQL: for a timed read the bucket of each
        row, otherwise 0 for every row (one whole-range group)."""
        if not timed:
            return {
                "monthly": False,
                "month0": 0,
                "origin": self.start,
                "step": max(self.end - self.start, 1),
            }
        return {
            "monthly": self.monthly,
            "month0": _month_index(self.start) if self.monthly else 0,
            "origin": self.start,
            "step": self.step or 1,
        }


@functools.lru_cache(maxsize=64)
def _iso_starts(grid: TimeGrid) -> list[str]:
    return [iso(ts) for ts in grid.starts()]


def bucket_count(start: float, end: float, granularity: str) -> int:
    """Buckets of `granularity` in [start, end) widened to whole buckets, without building them."""
    if granularity == "month":
        last = _month_index(end) + (0 if _month_start(_month_index(end)) == end else 1)
        return last - _month_index(start)
    step = STEP_SECONDS[granularity]
    origin = _WEEK_ORIGIN if granularity == "week" else 0
    return math.ceil((end - origin) / step) - math.floor((start - origin) / step)


def make_grid(start: float, end: float, granularity: str) -> TimeGrid:
    if granularity == "month":
        first = _month_index(start)
        count = bucket_count(start, end, granularity)
        return TimeGrid(granularity, _month_start(first), _month_start(first + count), count)
    step = STEP_SECONDS[granularity]
    origin = _WEEK_ORIGIN if granularity == "week" else 0
    snapped_start = origin + math.floor((start - origin) / step) * step
    snapped_end = origin + math.ceil((end - origin) / step) * step
    return TimeGrid(granularity, int(snapped_start), int(snapped_end), (snapped_end - snapped_start) // step)


def iso(ts: float) -> str:
    """ISO-8601 UTC, second precision (bucket starts are whole seconds)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
