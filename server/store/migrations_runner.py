"""Versioned ClickHouse migrations: clickhouse/migrations/NNNN_name.sql, applied in order, once.

Applied versions are recorded in `schema_migrations` with a checksum; every statement is also
written to be idempotent (IF NOT EXISTS), so a run interrupted half-way can simply run again.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver.client import Client
from django.conf import settings

from store.sql import load_sql, split_statements

log = logging.getLogger("store.migrations")

MIGRATIONS_DIR = settings.REPO_DIR / "clickhouse" / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name must look like 0001_name.sql: {path.name}")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError("two ClickHouse migrations share a version number")
    return found


def applied(client: Client) -> dict[int, str]:
    client.command(load_sql("store/schema_migrations_table.sql"))
    rows = client.query("SELECT version, checksum FROM schema_migrations FINAL").result_rows
    return {int(version): checksum for version, checksum in rows}


def migrate(client: Client, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply pending migrations in order; return the ones applied now."""
    done = applied(client)
    newly = []
    for migration in discover(directory):
        if migration.version in done:
            if done[migration.version] != migration.checksum:
                log.warning("ClickHouse migration %s changed after it was applied", migration.path.name)
            continue
        log.info("applying ClickHouse migration %s", migration.path.name)
        for statement in split_statements(migration.sql):
            client.command(statement)
        client.insert(
            "schema_migrations",
            [[migration.version, migration.name, migration.checksum]],
            column_names=["version", "name", "checksum"],
        )
        newly.append(migration)
    apply_retention(client, settings.EVENTS_RETENTION_DAYS)
    return newly


def apply_retention(client: Client, days: int) -> None:
    """Retention is configuration, not schema: the TTL follows EVENTS_RETENTION_DAYS on every run."""
    if days > 0:
        client.command(load_sql("store/events_set_ttl.sql").replace("{days}", str(int(days))))
    else:
        current = client.query(
            "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'events'"
        ).result_rows
        if current and " TTL " in current[0][0]:
            client.command(load_sql("store/events_remove_ttl.sql"))
