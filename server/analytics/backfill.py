"""Rebuilding every rollup tier from `events`, one month partition at a time, idempotently.

For each month: empty the staging tables, run the materialized views' own SELECTs
(store/schema.py) over that month of `events` into rollup_5m_backfill, then each coarser view's
SELECT over the staging table below it (rollup_1h_backfill, rollup_1d_backfill and the
organization tiers), then `REPLACE PARTITION` the month of every rollup tier with them. The
result only depends on `events`, so running it twice changes nothing, and readers never see a
half-built month (the swap is atomic).

On a cluster (CLICKHOUSE_CLUSTER) every statement addresses this node's local tables: run the
command once against one replica of each shard (docs/deploy.md); the replicated staging and
rollup tables carry the result to the other replicas.

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

from store import schema
from store.client import get_client
from store.ddl import MaterializedView, Table, Topology
from store.migrations_runner import configured_topology
from store.sql import load_sql

# Each staging table is filled by the SELECT of the view that fills its tier, read from the
# staging table of the tier below (from `events` for the 5-minute tier).
_FILLED_BY: tuple[MaterializedView, ...] = (
    schema.ROLLUP_5M_SCOPES_MV,
    schema.ROLLUP_5M_STATUS_MV,
    schema.ROLLUP_1H_MV,
    schema.ROLLUP_1D_MV,
    schema.ROLLUP_ORG_1H_MV,
    schema.ROLLUP_ORG_1D_MV,
)
_STAGING: dict[str, Table] = {tier.name: staging for tier, staging in schema.ROLLUP_TIERS}


@dataclass(frozen=True)
class MonthResult:
    month: int  # YYYYMM
    rollup_rows: int  # rows rebuilt into rollup_5m (before merges)


def _sql(name: str) -> str:
    return load_sql(f"queries/analytics/{name}.sql")


def staging_inserts(topology: Topology) -> list[str]:
    """The INSERT ... SELECT of every staging table, finest tier first; {month:UInt32} is bound."""
    statements = []
    for view in _FILLED_BY:
        source = view.select.source
        if source is schema.EVENTS:
            sql = view.select.render(source.local_name(topology), ["toYYYYMM(timestamp) = {month:UInt32}"])
        else:
            sql = view.select.render(_STAGING[source.name].name)
        statements.append(f"INSERT INTO {_STAGING[view.target.name].name}\n{sql}")
    return statements


def swaps(topology: Topology) -> list[str]:
    """Each tier's month replaced by its staging table's, in one step per tier. ClickHouse
    refuses when the staging partition is empty rather than emptying the tier; only months that
    have events are rebuilt."""
    return [
        f"ALTER TABLE {tier.local_name(topology)} "
        f"REPLACE PARTITION ID {{partition_id:String}} FROM {staging.name}"
        for tier, staging in schema.ROLLUP_TIERS
    ]


def rollups_exist(client=None) -> bool:
    topology = configured_topology()
    names = {name for tier, stage in schema.ROLLUP_TIERS for name in (tier.local_name(topology), stage.name)}
    found = (
        (client or get_client())
        .query(_sql("backfill_tables"), parameters={"names": sorted(names)})
        .result_rows
    )
    return len(found) == len(names)


def months_with_events() -> dict[int, int]:
    """{YYYYMM: number of events} for every month that has raw events."""
    events = schema.EVENTS.local_name(configured_topology())
    result = get_client().query(_sql("backfill_months"), parameters={"events": events})
    return {int(month): int(n) for month, n in result.result_rows}


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
    topology = configured_topology()
    staging_tables = [staging.name for _, staging in schema.ROLLUP_TIERS]
    for staging in staging_tables:
        client.command(_sql("backfill_clear"), parameters={"staging": staging})
    for statement in staging_inserts(topology):
        client.command(statement, parameters={"month": month})
    staged = client.query(_sql("backfill_staged_rows")).result_rows[0][0]
    if staged:
        for statement in swaps(topology):
            client.command(statement, parameters={"partition_id": str(month)})
    for staging in staging_tables:
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
