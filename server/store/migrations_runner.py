"""Applying the ClickHouse migrations (store/clickhouse_migrations.py) in order, once each.

Applied versions are recorded in `schema_migrations` with a checksum of their statements; every
statement is idempotent (IF NOT EXISTS, or a copy guarded against running twice), so a run
interrupted half-way can simply run again. The topology comes from CLICKHOUSE_CLUSTER: empty for
one node, else the cluster's name, and every statement is rendered for it.
"""

from __future__ import annotations

import hashlib
import logging

from clickhouse_connect.driver.client import Client
from django.conf import settings

from store.clickhouse_migrations import FILE_ERA_CHECKSUMS, MIGRATIONS
from store.ddl import Create, Migration, Topology
from store.schema import EVENTS, SCHEMA_MIGRATIONS
from store.sql import load_sql

log = logging.getLogger("store.migrations")


class TopologyError(RuntimeError):
    """CLICKHOUSE_CLUSTER names no cluster of the ClickHouse server."""


def configured_topology() -> Topology:
    return Topology(settings.CLICKHOUSE_CLUSTER or None)


def discover() -> list[Migration]:
    versions = [m.version for m in MIGRATIONS]
    if versions != sorted(set(versions)):
        raise ValueError("ClickHouse migration versions must be unique and in ascending order")
    return list(MIGRATIONS)


def checksum(migration: Migration, topology: Topology) -> str:
    return hashlib.sha256("\n;\n".join(migration.statements(topology)).encode()).hexdigest()


def bookkeeping_statements(topology: Topology) -> list[str]:
    return SCHEMA_MIGRATIONS.create(topology)


def retention_statements(topology: Topology, days: int) -> list[str]:
    """The TTL of raw events: EVENTS_RETENTION_DAYS days, or none (0). On a cluster the rows,
    and so the TTL, live in the local tables."""
    table = f"{EVENTS.local_name(topology)}{topology.on_cluster()}"
    if days > 0:
        return [f"ALTER TABLE {table} MODIFY TTL toDateTime(timestamp) + INTERVAL {int(days)} DAY"]
    return [f"ALTER TABLE {table} REMOVE TTL"]


def plan(topology: Topology, retention_days: int) -> list[tuple[str, list[str]]]:
    """Every statement a migration of an empty database runs, grouped under a heading (the TTL
    only with a retention: an empty database has none to remove)."""
    groups = [
        ("schema_migrations", bookkeeping_statements(topology)),
        *((m.label, m.statements(topology)) for m in discover()),
    ]
    if retention_days > 0:
        heading = f"retention: EVENTS_RETENTION_DAYS={retention_days}"
        groups.append((heading, retention_statements(topology, retention_days)))
    return groups


def check_cluster(client: Client, topology: Topology) -> None:
    if topology.is_cluster:
        found = client.query(
            "SELECT count() FROM system.clusters WHERE cluster = {name:String}",
            parameters={"name": topology.cluster},
        ).result_rows[0][0]
        if not found:
            raise TopologyError(
                f"CLICKHOUSE_CLUSTER={topology.cluster!r} is not a cluster of this ClickHouse server "
                "(system.clusters); see docs/deploy.md"
            )


def applied(client: Client, topology: Topology | None = None) -> dict[int, str]:
    for statement in bookkeeping_statements(topology or configured_topology()):
        client.command(statement)
    rows = client.query("SELECT version, checksum FROM schema_migrations FINAL").result_rows
    return {int(version): checksum for version, checksum in rows}


def migrate(client: Client, topology: Topology | None = None) -> list[Migration]:
    """Apply pending migrations in order; return the ones applied now."""
    topology = topology or configured_topology()
    check_cluster(client, topology)
    done = applied(client, topology)
    newly = []
    for migration in discover():
        expected = checksum(migration, topology)
        if migration.version in done:
            recorded = done[migration.version]
            if recorded != expected and recorded not in FILE_ERA_CHECKSUMS.get(migration.version, ()):
                log.warning("ClickHouse migration %s changed after it was applied", migration.label)
            continue
        log.info("applying ClickHouse migration %s", migration.label)
        for statement in migration.statements(topology):
            client.command(statement)
        client.insert(
            "schema_migrations",
            [[migration.version, migration.name, expected]],
            column_names=["version", "name", "checksum"],
        )
        newly.append(migration)
    apply_retention(client, settings.EVENTS_RETENTION_DAYS, topology)
    return newly


def create_missing(client: Client, topology: Topology | None = None) -> int:
    """Every table and view of the applied migrations again (IF NOT EXISTS, ON CLUSTER on a
    cluster), without their data copies: for nodes added to a cluster after the migrations ran, or
    an object dropped by hand. Returns the number of statements run."""
    topology = topology or configured_topology()
    check_cluster(client, topology)
    statements = [*bookkeeping_statements(topology)]
    for migration in discover():
        statements += [
            sql for op in migration.operations if isinstance(op, Create) for sql in op.render(topology)
        ]
    for statement in statements:
        client.command(statement)
    return len(statements)


def apply_retention(client: Client, days: int, topology: Topology | None = None) -> None:
    """Retention is configuration, not schema: the TTL follows EVENTS_RETENTION_DAYS on every run."""
    topology = topology or configured_topology()
    if days <= 0:
        current = client.query(
            load_sql("store/table_engine.sql"), parameters={"name": EVENTS.local_name(topology)}
        ).result_rows
        if not current or " TTL " not in current[0][0]:
            return
    for statement in retention_statements(topology, days):
        client.command(statement)
