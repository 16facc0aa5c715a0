"""Rebuilding `rollup_5m` from `events`, one month partition at a time, idempotently.

For each month: empty the staging tables, run the two materialized views' SELECTs over that month
of `events` into rollup_5m_backfill, roll those rows up by hour into rollup_1h_backfill and by day
into rollup_1d_backfill (as rollup_1h_mv and rollup_1d_mv do), and those per organization into
rollup_org_1h_backfill and rollup_org_1d_backfill, then `REPLACE PARTITION` the month of every
rollup tier with them. The result only
depends on `events`, so running it twice changes nothing, and readers never see a half-built
month (the swap is atomic).

Caveats:
- Events inserted into a month *while* it is being rebuilt may be lost from the rollup (they
  reach the old partition through the views, which the swap then replaces). Rebuild closed months,
  or pause shipping (SHIPPING_ENABLED=false, or stop the server in embedded mode) for the current one.
- With EVENTS_RETENTION_DAYS set, months partly or wholly past the retention horizon have lost raw
  events: rebuilding them would shrink their rollups, so they are skipped unless asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from store.client import get_client
from store.sql import load_sql

# (rollup tier, its staging table)
TIERS = (
    ("5m", "rollup_5m_backfill"),
    ("1h", "rollup_1h_backfill"),
    ("1d", "rollup_1d_backfill"),
    ("org_1h", "rollup_org_1h_backfill"),
    ("org_1d", "rollup_org_1d_backfill"),
)


@dataclass(frozen=True)
class MonthResult:
    month: int  # YYYYMM
    rollup_rows: int  # rows rebuilt into rollup_5m (before merges)


def _sql(name: str) -> str:
    return load_sql(f"queries/analytics/{name}.sql")


def rollups_exist(client=None) -> bool:
    names = {table for _, table in TIERS} | {f"rollup_{tier}" for tier, _ in TIERS}
    found = (
        (client or get_client())
        .query(_sql("backfill_tables"), parameters={"names": sorted(names)})
        .result_rows
    )
    return len(found) == len(names)


def months_with_events() -> dict[int, int]:
    """{YYYYMM: number of events} for every month that has raw events."""
    return {int(month): int(n) for month, n in get_client().query(_sql("backfill_months")).result_rows}


def month_start(month: int) -> date:
    return date(month // 100, month % 100, 1)


def expired_months(months: list[int], retention_days: int, today: date | None = None) -> list[int]:
    """Months that begin before the retention horizon (some of their events may be gone)."""
    if retention_days <= 0:
        return []
    horizon = (today or datetime.now(UTC).date()) - timedelta(days=retention_days)
    return [month for month in months if month_start(month) < horizon]


def rebuild_month(month: int) -> MonthResult:
    client = get_client()
    for _, staging in TIERS:
        client.command(_sql("backfill_clear"), parameters={"staging": staging})
    client.command(_sql("backfill_scopes"), parameters={"month": month})
    client.command(_sql("backfill_status"), parameters={"month": month})
    client.command(_sql("backfill_hourly"))
    client.command(_sql("backfill_daily"))
    for tier in ("1h", "1d"):
        client.command(
            _sql("backfill_org_tiers"),
            parameters={"source_table": f"rollup_{tier}_backfill", "target": f"rollup_org_{tier}_backfill"},
        )
    staged = client.query(_sql("backfill_staged_rows")).result_rows[0][0]
    if staged:
        for tier, _ in TIERS:
            client.command(_sql(f"backfill_swap_{tier}"), parameters={"partition_id": str(month)})
    for _, staging in TIERS:
        client.command(_sql("backfill_clear"), parameters={"staging": staging})
    return MonthResult(month, int(staged))


def backfill(months: list[int], on_month: Callable[[MonthResult], None] | None = None) -> list[MonthResult]:
    results = []
    for month in months:
        result = rebuild_month(month)
        results.append(result)
        if on_month is not None:
            on_month(result)
    return results
