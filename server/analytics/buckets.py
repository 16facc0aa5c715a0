"""Time buckets of the KPI and metric APIs: sizes, `auto`, snapping a range to bucket bounds.

Every bucket is a multiple of the 5-minute rollup bucket and aligned in UTC: 5m, 1h and 1d on the
epoch, weeks on Mondays. A range [start, end) is widened to whole buckets (start snapped down, end
snapped up), so the requested range is always included; a warning says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from config import fields as store_range

ROLLUP_SECONDS = 300
BUCKET_SECONDS: dict[str, int] = {"5m": 300, "1h": 3600, "1d": 86_400, "1w": 604_800}
# Weeks start on Monday: 1970-01-05T00:00:00Z is the first Monday after the epoch.
_ORIGIN = {"1w": 4 * 86_400}
# `auto` picks the smallest bucket that gives at most this many points (a readable chart).
AUTO_TARGET_BUCKETS = 400
# DateTime('UTC') in ClickHouse ends in 2106; keep room for snapping the end up by a week.
MAX_TIMESTAMP = store_range.MAX_TIMESTAMP - 2 * 604_800


@dataclass(frozen=True)
class Grid:
    """`count` buckets of `step` seconds from `start` (epoch seconds, aligned)."""

    start: int
    step: int
    count: int

    @property
    def end(self) -> int:
        return self.start + self.step * self.count

    @property
    def starts(self) -> list[int]:
        return [self.start + i * self.step for i in range(self.count)]


def snap(start: float, end: float, step: int, origin: int = 0) -> tuple[int, int]:
    """[start, end) widened to whole buckets of `step` seconds aligned on `origin`."""
    snapped_start = origin + math.floor((start - origin) / step) * step
    snapped_end = origin + math.ceil((end - origin) / step) * step
    return int(snapped_start), int(snapped_end)


def bucket_count(start: float, end: float, name: str) -> int:
    snapped_start, snapped_end = snap(start, end, BUCKET_SECONDS[name], _ORIGIN.get(name, 0))
    return (snapped_end - snapped_start) // BUCKET_SECONDS[name]


def choose_bucket(start: float, end: float) -> str:
    """`auto`: the smallest bucket with at most AUTO_TARGET_BUCKETS points (else the largest)."""
    for name in BUCKET_SECONDS:
        if bucket_count(start, end, name) <= AUTO_TARGET_BUCKETS:
            return name
    return "1w"


def make_grid(start: float, end: float, name: str) -> Grid:
    step = BUCKET_SECONDS[name]
    snapped_start, snapped_end = snap(start, end, step, _ORIGIN.get(name, 0))
    return Grid(snapped_start, step, (snapped_end - snapped_start) // step)


def day_grid(start: int, end: int) -> Grid:
    """Whole UTC days [start, end) (both at midnight)."""
    return Grid(start, 86_400, (end - start) // 86_400)
