"""Bucket names of the KPI and metric APIs (5m, 1h, 1d, 1w) and `auto`, over the one grid of
`analytics.grid`. Every bucket is a multiple of the 5-minute rollup bucket, so a rollup tier
always answers (a warning says when the range was widened to whole buckets).
"""

from __future__ import annotations

from analytics.grid import Grid, day_grid
from analytics.grid import bucket_count as _count
from config import fields as store_range

__all__ = ["BUCKET_SECONDS", "Grid", "bucket_count", "choose_bucket", "day_grid", "make_grid"]

BUCKET_SECONDS: dict[str, int] = {"5m": 300, "1h": 3600, "1d": 86_400, "1w": 604_800}
# `auto` picks the smallest bucket that gives at most this many points (a readable chart).
AUTO_TARGET_BUCKETS = 400
# DateTime('UTC') in ClickHouse ends in 2106; keep room for snapping the end up by a week.
MAX_TIMESTAMP = store_range.MAX_TIMESTAMP - 2 * 604_800


def bucket_count(start: float, end: float, name: str) -> int:
    return _count(start, end, BUCKET_SECONDS[name])


def choose_bucket(start: float, end: float) -> str:
    """`auto`: the smallest bucket with at most AUTO_TARGET_BUCKETS points (else the largest)."""
    for name in BUCKET_SECONDS:
        if bucket_count(start, end, name) <= AUTO_TARGET_BUCKETS:
            return name
    return "1w"


def make_grid(start: float, end: float, name: str) -> Grid:
    return Grid.covering(start, end, BUCKET_SECONDS[name])
