"""Building blocks of the ClickHouse schema, and how each renders for a topology.

A definition (store/schema.py) says what a table or view is; a `Topology` says where it lives:
one node (chDB, or a single ClickHouse server), or a cluster named in the server's
`remote_servers`. On a cluster every MergeTree-family table becomes its Replicated* twin, shared
through ClickHouse Keeper by the replicas of a shard; a table the read path queries becomes a
`<name>_local` table on every node plus a `Distributed` table under the table's own name, so
every query, the sinks and the dashboards keep the names they use on one node. Materialized
views read and write the local tables: each shard rolls up its own events.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

# Where a replicated table keeps its parts list in Keeper. {shard} and {replica} are macros of
# each node's config (components/clickhouse-cluster/config.d/); {database} is expanded by
# ClickHouse, so two databases of one cluster never share a path.
ZOO_PATH = "/clickhouse/tables/{shard}/{database}/"
# Tables whose rows every node needs (schema_migrations): one replica set across the cluster.
ZOO_PATH_ALL_NODES = "/clickhouse/tables/all/{database}/"
LOCAL_SUFFIX = "_local"


@dataclass(frozen=True)
class Topology:
    """cluster None: one node; otherwise the cluster's name in `remote_servers`."""

    cluster: str | None = None

    def __post_init__(self) -> None:
        # Rendered into statements: a name, never SQL.
        if self.cluster is not None and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", self.cluster):
            raise ValueError(f"not a cluster name: {self.cluster!r}")

    @property
    def is_cluster(self) -> bool:
        return self.cluster is not None

    def on_cluster(self) -> str:
        return f" ON CLUSTER `{self.cluster}`" if self.cluster else ""

    def insert_settings(self) -> dict[str, int]:
        """What an insert into `events` adds on this topology. On a cluster: return only once every
        shard has stored its part of the batch (with the batch's deduplication token), so that
        "no answer, send again" stays safe; background Distributed inserts would acknowledge a
        batch that is only queued on the receiving node's disk. The cluster's user profile sets it
        too (for Vector)."""
        return {"distributed_foreground_insert": 1} if self.is_cluster else {}


SINGLE_NODE = Topology()


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    default: str | None = None
    codec: str | None = None
    # Part of the raw-event downloads (events only).
    exported: bool = True

    def render(self) -> str:
        text = f"`{self.name}` {self.type}"
        if self.default is not None:
            text += f" DEFAULT {self.default}"
        if self.codec is not None:
            text += f" CODEC({self.codec})"
        return text


@dataclass(frozen=True)
class Table:
    """A MergeTree-family table. `engine` is the family member (MergeTree, SummingMergeTree,
    ReplacingMergeTree), `engine_args` its arguments. `dedup_window`: how many recent insert
    blocks are remembered so that a retried batch (same insert_deduplication_token) is dropped;
    None for tables that must accept identical blocks again (the backfill's staging tables).
    `sharding_key` set: the read path queries it, so a cluster gets a Distributed twin sharded by
    that expression (organization)."""

    name: str
    columns: tuple[Column, ...]
    engine: str
    order_by: str
    engine_args: str | None = None
    partition_by: str | None = None
    settings: tuple[tuple[str, str], ...] = (("index_granularity", "8192"),)
    dedup_window: int | None = 10000
    sharding_key: str | None = None
    all_nodes: bool = False  # replicated to every node of a cluster, not per shard

    @property
    def distributed(self) -> bool:
        return self.sharding_key is not None

    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def local_name(self, topology: Topology) -> str:
        """The table that holds the rows on this node (the one views read and write)."""
        return self.name + LOCAL_SUFFIX if topology.is_cluster and self.distributed else self.name

    def _engine(self, topology: Topology, local: str) -> str:
        if not topology.is_cluster:
            return f"{self.engine}({self.engine_args})" if self.engine_args else self.engine
        path = (ZOO_PATH_ALL_NODES if self.all_nodes else ZOO_PATH) + local
        args = [f"'{path}'", "'{replica}'"]
        if self.engine_args:
            args.append(self.engine_args)
        return f"Replicated{self.engine}({', '.join(args)})"

    def _settings(self, topology: Topology) -> list[str]:
        pairs = list(self.settings)
        if topology.is_cluster:
            # Replicated tables deduplicate by default; staging tables must not (window 0).
            pairs.append(("replicated_deduplication_window", str(self.dedup_window or 0)))
        elif self.dedup_window:
            pairs.append(("non_replicated_deduplication_window", str(self.dedup_window)))
        return [f"{name} = {value}" for name, value in pairs]

    def create(self, topology: Topology) -> list[str]:
        local = self.local_name(topology)
        columns = ",\n".join(f"    {c.render()}" for c in self.columns)
        lines = [
            f"CREATE TABLE IF NOT EXISTS {local}{topology.on_cluster()}",
            f"(\n{columns}\n)",
            f"ENGINE = {self._engine(topology, local)}",
        ]
        if self.partition_by:
            lines.append(f"PARTITION BY {self.partition_by}")
        lines.append(f"ORDER BY {self.order_by}")
        settings = self._settings(topology)
        if settings:
            lines.append("SETTINGS\n    " + ",\n    ".join(settings))
        statements = ["\n".join(lines)]
        if topology.is_cluster and self.distributed:
            statements.append(
                f"CREATE TABLE IF NOT EXISTS {self.name}{topology.on_cluster()} AS {local}\n"
                f"ENGINE = Distributed('{topology.cluster}', currentDatabase(), '{local}', "
                f"{self.sharding_key})"
            )
        return statements


def _alias(column: str) -> str:
    return column.rsplit(" AS ", 1)[-1].strip()


@dataclass(frozen=True)
class Select:
    """A view's query, kept in parts so that the backfill and the migrations' data copies can run
    the very same SELECT over another source, with extra conditions."""

    columns: tuple[str, ...]  # "expression AS alias", or a bare column name
    source: Table
    group_by: str
    where: tuple[str, ...] = ()

    def with_column(self, alias: str, expression: str) -> Select:
        """The same query with the column named `alias` computed by `expression` instead."""
        columns = tuple(f"{expression} AS {alias}" if _alias(c) == alias else c for c in self.columns)
        if columns == self.columns:
            raise ValueError(f"no column {alias!r}")
        return replace(self, columns=columns)

    def render(self, source: str, extra_where: Sequence[str] = ()) -> str:
        conditions = [*self.where, *extra_where]
        lines = ["SELECT", ",\n".join(f"    {c}" for c in self.columns), f"FROM {source}"]
        if conditions:
            lines.append("WHERE " + "\n    AND ".join(conditions))
        lines.append(f"GROUP BY {self.group_by}")
        return "\n".join(lines)


@dataclass(frozen=True)
class MaterializedView:
    """Runs `select` over each block inserted into its source table and appends the result to
    `target`. On a cluster both are the local tables: each node rolls up what it stores."""

    name: str
    target: Table
    select: Select

    def create(self, topology: Topology) -> list[str]:
        source = self.select.source.local_name(topology)
        return [
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {self.name}{topology.on_cluster()} "
            f"TO {self.target.local_name(topology)} AS\n{self.select.render(source)}"
        ]

    def fill(self, topology: Topology, extra_where: Sequence[str] = ()) -> str:
        """What the view would have written for every row already in its source. Through the
        Distributed tables on a cluster: read every shard, write each row to its organization's."""
        return f"INSERT INTO {self.target.name}\n{self.select.render(self.select.source.name, extra_where)}"


# --- migration operations ------------------------------------------------------------------------


@dataclass(frozen=True)
class Create:
    """CREATE a table (with its Distributed twin on a cluster) or a materialized view."""

    definition: Table | MaterializedView

    def render(self, topology: Topology) -> list[str]:
        return self.definition.create(topology)


@dataclass(frozen=True)
class Fill:
    """Run a view's SELECT over the rows its source held before the view existed. `only_if_empty`
    makes a re-run after an interruption copy nothing twice."""

    view: MaterializedView
    only_if_empty: bool = False

    def render(self, topology: Topology) -> list[str]:
        guard = [f"(SELECT count() FROM {self.view.target.name}) = 0"] if self.only_if_empty else []
        return [self.view.fill(topology, guard)]


Operation = Create | Fill


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    operations: tuple[Operation, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"

    def statements(self, topology: Topology) -> list[str]:
        return [sql for op in self.operations for sql in op.render(topology)]
