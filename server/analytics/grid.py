"""The one bucket grid of every reader (KPI/metric API, per-user summary, query API): `count`
buckets from `start`, of `step` seconds or of calendar months, in UTC.

Buckets are aligned on the epoch, weeks on Mondays (WEEK_ORIGIN), months on the 1st. A requested
range [start, end) is widened to whole buckets (start down, end up) by `snap`, so every bucket a
surface reports is complete. Which table answers a grid is `analytics.tiers`' decision.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from analytics.times import iso_z

# Weeks start on Monday: 1970-01-05T00:00:00Z is the first Monday after the epoch.
WEEK_SECONDS = 604_800
WEEK_ORIGIN = 4 * 86_400
MONTHLY = 0  # the `step` of a grid of calendar months, whose length varies


def origin(step: int) -> int:
    return WEEK_ORIGIN if step == WEEK_SECONDS else 0


def snap(start: float, end: float, step: int) -> tuple[int, int]:
    """[start, end) widened to whole buckets of `step` seconds (weeks on Mondays)."""
    zero = origin(step)
    snapped_start = zero + math.floor((start - zero) / step) * step
    snapped_end = zero + math.ceil((end - zero) / step) * step
    return int(snapped_start), int(snapped_end)


def month_index(ts: float) -> int:
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.year * 12 + moment.month - 1


def month_start(index: int) -> int:
    return int(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp())


def bucket_count(start: float, end: float, step: int) -> int:
    """Buckets in [start, end) widened to whole buckets, without building them."""
    if step == MONTHLY:
        last = month_index(end) + (0 if month_start(month_index(end)) == end else 1)
        return last - month_index(start)
    snapped_start, snapped_end = snap(start, end, step)
    return (snapped_end - snapped_start) // step


@dataclass(frozen=True)
class Grid:
    """`count` buckets of `step` seconds (MONTHLY: calendar months) from `start` (epoch seconds,
    aligned)."""

    start: int
    step: int
    count: int

    @classmethod
    def covering(cls, start: float, end: float, step: int) -> Grid:
        """The grid of whole buckets that covers [start, end)."""
        if step == MONTHLY:
            first = month_index(start)
            return cls(month_start(first), MONTHLY, bucket_count(start, end, MONTHLY))
        snapped_start, snapped_end = snap(start, end, step)
        return cls(snapped_start, step, (snapped_end - snapped_start) // step)

    @property
    def monthly(self) -> bool:
        return self.step == MONTHLY

    @property
    def end(self) -> int:
        if self.monthly:
            return month_start(month_index(self.start) + self.count)
        return self.start + self.step * self.count

    @property
    def starts(self) -> list[int]:
        if self.monthly:
            first = month_index(self.start)
            return [month_start(first + i) for i in range(self.count)]
        return [self.start + i * self.step for i in range(self.count)]

    def iso_starts(self) -> list[str]:
        """`starts` as ISO-8601 strings (cached: every timeline of a request shares them)."""
        return _iso_starts(self)

    def index(self, ts: float) -> int:
        """The bucket holding `ts` (may be outside 0..count-1 for a time outside the grid)."""
        if self.monthly:
            return month_index(ts) - month_index(self.start)
        return int((ts - self.start) // self.step)

    def floor(self, ts: float) -> int:
        """Start of the bucket holding `ts`."""
        if self.monthly:
            return month_start(month_index(ts))
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
            "month0": month_index(self.start) if self.monthly else 0,
            "origin": self.start,
            "step": self.step or 1,
        }


@functools.lru_cache(maxsize=64)
def _iso_starts(grid: Grid) -> list[str]:
    return [iso_z(ts) for ts in grid.starts]


def day_grid(start: int, end: int) -> Grid:
    """Whole UTC days [start, end) (both at midnight)."""
    return Grid(start, 86_400, (end - start) // 86_400)
