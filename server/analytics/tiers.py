"""The one choice of table for every reader (KPI/metric API, per-user summary, query API, built-in
dashboards, the Grafana generator): the coarsest table whose buckets tile every bound of a read.

The full tiers (rollup_1d, rollup_1h, rollup_5m) hold the same additive sums per (organization,
metric key, bucket, project, task, job, user, source), rollup_1h filled from rollup_5m's inserts,
rollup_1d from rollup_1h's. The organization tiers (rollup_org_1d, rollup_org_1h) keep the sums per
organization only, with exact uniqExact states of the users and jobs behind each row. A bound that
no rollup tiles (a second or minute bucket) is answered by the raw `events` table.
"""

from __future__ import annotations

from store.schema import ORG_ROLLUP_TABLES, ROLLUP_TABLES

RAW_TABLE = "events"
# Coarsest first, from the schema's definitions (bucket seconds, table name).
TIERS: tuple[tuple[int, str], ...] = tuple(sorted(ROLLUP_TABLES.items(), reverse=True))
ORG_TIERS: tuple[tuple[int, str], ...] = tuple(sorted(ORG_ROLLUP_TABLES.items(), reverse=True))
ORG_TIER_NAMES: frozenset[str] = frozenset(ORG_ROLLUP_TABLES.values())
# The dimensions an organization tier keeps a uniqExact state of, and that state's column.
ORG_DISTINCT_STATES = {"user_id": "users", "job_id": "jobs"}
FINEST_FIRST: tuple[str, ...] = (RAW_TABLE, *(table for _, table in reversed(TIERS)))


def _coarsest(tiers: tuple[tuple[int, str], ...], bounds: tuple[int, ...]) -> str | None:
    for seconds, table in tiers:
        if all(bound % seconds == 0 for bound in bounds):
            return table
    return None


def rollup_table(*bounds: int) -> str:
    """The coarsest full tier whose buckets tile every bound (range ends, bucket size): fewer rows
    to read for the same answer (e.g. a 30-day query by day reads rollup_1d)."""
    table = _coarsest(TIERS, bounds)
    if table is None:
        raise ValueError(f"bounds {bounds} are not multiples of 5 minutes")
    return table


def org_rollup_table(*bounds: int) -> str | None:
    """The coarsest organization tier whose buckets tile every bound, or None (5-minute bounds)."""
    return _coarsest(ORG_TIERS, bounds)


def org_tier_of(table: str) -> str | None:
    """The organization tier with the same buckets as the full tier `table` (rollup_1h ->
    rollup_org_1h), or None (rollup_5m, events): for a read that keeps no id column but org_id."""
    seconds = next((s for s, name in TIERS if name == table), None)
    return ORG_ROLLUP_TABLES.get(seconds) if seconds is not None else None


def sums_table(*bounds: int) -> str:
    """A full tier as rollup_table, or the raw events when no tier tiles the bounds."""
    return _coarsest(TIERS, bounds) or RAW_TABLE


def finest(tables: set[str]) -> str:
    """Of several tables that could answer parts of one merged read, the one that answers all."""
    return min(tables, key=FINEST_FIRST.index)
