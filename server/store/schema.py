"""Every ClickHouse table and materialized view of the product, defined once.

store/ddl.py renders these for one node or for a cluster; store/clickhouse_migrations.py says in
which migration each is created; the backfill (analytics/backfill.py) runs the views' SELECTs.

Deduplication: a batch retried with the same insert_deduplication_token must land once in
`events` and in every table the views fill. Every such table therefore keeps a deduplication
window (`non_replicated_deduplication_window` on one node, `replicated_deduplication_window` on a
cluster), and inserts set deduplicate_blocks_in_dependent_materialized_views=1 so that the views'
blocks are checked too (docs/architecture.md).
"""

from __future__ import annotations

from store.ddl import Column, MaterializedView, Select, Table

# --- events: the raw event log ---------------------------------------------------------------------
# CVAT's columns in CVAT's order, plus event_id. This tuple is the one list of event columns: the
# event record (events/record.py), the downloads (exports/query.py), Vector's field list
# (components/vector/vector.yaml) and the table follow it (tests/test_schema.py checks).
EVENT_COLUMNS_DEFINITION: tuple[Column, ...] = (
    Column("scope", "LowCardinality(String)"),
    Column("obj_name", "Nullable(String)"),
    Column("obj_id", "Nullable(UInt64)"),
    Column("obj_val", "Nullable(String)"),
    Column("source", "LowCardinality(String)"),
    Column("timestamp", "DateTime64(3, 'UTC')", codec="Delta(8), ZSTD(1)"),
    Column("count", "Nullable(UInt32)"),
    Column("duration", "UInt32", default="0"),
    Column("project_id", "Nullable(UInt64)"),
    Column("task_id", "Nullable(UInt64)"),
    Column("job_id", "Nullable(UInt64)"),
    Column("user_id", "Nullable(UInt64)"),
    Column("user_name", "LowCardinality(Nullable(String))"),
    Column("user_email", "LowCardinality(Nullable(String))"),
    Column("org_id", "Nullable(UInt64)"),
    Column("org_slug", "LowCardinality(Nullable(String))"),
    Column("payload", "Nullable(String)", codec="ZSTD(3)"),
    Column("access_token_id", "Nullable(UInt64)"),
    # Never downloaded: who called from where, and our own id.
    Column("remote_addr", "Nullable(String)", exported=False),
    Column("event_id", "UUID", exported=False),
)

# Shards are chosen by organization, so an organization's events and every rollup row made from
# them live on one shard (the views run where the events land). The rollups' org_id is the
# events' ifNull(org_id, 0): both keys hash to the same shard.
EVENTS_SHARDING_KEY = "cityHash64(ifNull(org_id, 0))"
ROLLUP_SHARDING_KEY = "cityHash64(org_id)"

# ORDER BY (org_id, timestamp): every read is scoped to an organization and a time range.
EVENTS = Table(
    "events",
    EVENT_COLUMNS_DEFINITION,
    engine="MergeTree",
    partition_by="toYYYYMM(timestamp)",
    order_by="(org_id, timestamp)",
    settings=(("allow_nullable_key", "1"), ("index_granularity", "8192")),
    sharding_key=EVENTS_SHARDING_KEY,
)

# --- additive rollups (docs/metrics.md) ------------------------------------------------------------
# One row per (bucket, org, project, task, job, user, source, metric_key); 0 stands for "none" in
# the id columns (sort keys must not be Nullable). metric_key is the event scope, or for a status
# change `scope:field=value`. Every value column is a plain sum, so any set of rows adds up in any
# order: events (number of events), units (sum(ifNull(count, 1))), duration_ms (sum(duration)),
# working_time_ms (duration of send:working_time events). SummingMergeTree merges equal keys
# lazily: read with sum() ... GROUP BY. ORDER BY starts with (org_id, metric_key, bucket): a
# 30-day KPI query reads only the granules it needs.
_ROLLUP_COLUMNS = (
    Column("bucket", "DateTime('UTC')"),
    Column("org_id", "UInt64"),
    Column("project_id", "UInt64"),
    Column("task_id", "UInt64"),
    Column("job_id", "UInt64"),
    Column("user_id", "UInt64"),
    Column("source", "LowCardinality(String)"),
    Column("metric_key", "LowCardinality(String)"),
    Column("events", "UInt64"),
    Column("units", "UInt64"),
    Column("duration_ms", "UInt64"),
    Column("working_time_ms", "UInt64"),
)
_ROLLUP_ORDER = "(org_id, metric_key, bucket, project_id, task_id, job_id, user_id, source)"
_ROLLUP_GROUP = "bucket, org_id, project_id, task_id, job_id, user_id, source, metric_key"


def _rollup(name: str, *, staging: bool = False) -> Table:
    # Staging tables (backfill) have the same structure, partition and sort key, as REPLACE
    # PARTITION requires, but no deduplication window: a rebuild inserts the same blocks again.
    return Table(
        name,
        _ROLLUP_COLUMNS,
        engine="SummingMergeTree",
        engine_args="(events, units, duration_ms, working_time_ms)",
        partition_by="toYYYYMM(bucket)",
        order_by=_ROLLUP_ORDER,
        dedup_window=None if staging else 10000,
        sharding_key=None if staging else ROLLUP_SHARDING_KEY,
    )


ROLLUP_5M = _rollup("rollup_5m")
ROLLUP_1H = _rollup("rollup_1h")  # ~7 times fewer rows than rollup_5m (bench/kpi_latency.py)
ROLLUP_1D = _rollup("rollup_1d")

# What one event contributes to the 5-minute rollup, piece by piece. The two views below sum
# these per block; the measure API's raw-event read (event_rollup_rows) takes them per event.
# The ids of an event as every rollup row of it has them (0 = none).
_EVENT_IDS = (
    "ifNull(org_id, 0) AS org_id",
    "ifNull(project_id, 0) AS project_id",
    "ifNull(task_id, 0) AS task_id",
    "ifNull(job_id, 0) AS job_id",
    "ifNull(user_id, 0) AS user_id",
    "source",
)
FIVE_MINUTE_BUCKET = "toStartOfFiveMinutes(timestamp)"
SCOPE_KEY = "toString(scope)"
# A status change also counts under `scope:field=value`: one update event per changed field, so
# an `update:job` with obj_name 'state' and obj_val 'completed' is one job moved to completed.
# The fields are analytics.registry.STATUS_FIELDS (a test checks; the schema cannot import them).
STATUS_CHANGE = "startsWith(scope, 'update:') AND obj_name IN ('state', 'stage', 'status', 'resolved')"
STATUS_KEY = "concat(scope, ':', assumeNotNull(obj_name), '=', ifNull(obj_val, ''))"
UNITS = "ifNull(count, 1)"  # objects drawn by one draw:object event, shapes saved...
WORKING_TIME = "scope = 'send:working_time'"  # duration counted as working time

# Every event, under its scope.
ROLLUP_5M_SCOPES_MV = MaterializedView(
    "rollup_5m_scopes_mv",
    ROLLUP_5M,
    Select(
        (
            f"{FIVE_MINUTE_BUCKET} AS bucket",
            *_EVENT_IDS,
            f"{SCOPE_KEY} AS metric_key",
            "count() AS events",
            f"sum({UNITS}) AS units",
            "sum(duration) AS duration_ms",
            f"sumIf(duration, {WORKING_TIME}) AS working_time_ms",
        ),
        EVENTS,
        _ROLLUP_GROUP,
    ),
)

# Status changes, under their status key.
ROLLUP_5M_STATUS_MV = MaterializedView(
    "rollup_5m_status_mv",
    ROLLUP_5M,
    Select(
        (
            f"{FIVE_MINUTE_BUCKET} AS bucket",
            *_EVENT_IDS,
            f"{STATUS_KEY} AS metric_key",
            "count() AS events",
            f"sum({UNITS}) AS units",
            "sum(duration) AS duration_ms",
            "toUInt64(0) AS working_time_ms",
        ),
        EVENTS,
        _ROLLUP_GROUP,
        where=(STATUS_CHANGE,),
    ),
)


def event_rollup_rows(bucket: str, where: tuple[str, ...]) -> str:
    """The rows the two 5-minute views would write for the events matching `where`, one per
    event and metric key, with `bucket` instead of the 5-minute bucket (rollup_5m's columns, with
    `events` left to count()): the raw-event read of the measure query API
    (query_api/sums_raw.sql), for buckets finer than any rollup. One scan of `events`: an
    ARRAY JOIN gives a status change its second key."""
    columns = (
        f"{bucket} AS bucket",
        *_EVENT_IDS,
        "metric_key",
        f"toUInt64({UNITS}) AS units",
        "toUInt64(duration) AS duration_ms",
        # The status key's working time is 0, as in its view: no status change is working time.
        f"toUInt64(if({WORKING_TIME} AND metric_key = {SCOPE_KEY}, duration, 0)) AS working_time_ms",
    )
    return "\n".join(
        [
            "SELECT",
            ",\n".join(f"    {c}" for c in columns),
            f"FROM {EVENTS.name}",
            f"ARRAY JOIN arrayConcat([{SCOPE_KEY}], if({STATUS_CHANGE}, [{STATUS_KEY}], [])) AS metric_key",
            "WHERE " + "\n    AND ".join(where),
        ]
    )


def _coarser(source: Table, bucket: str) -> Select:
    """The same sums over longer buckets, filled from the finer tier's inserts (a view on a view:
    both always hold the same sums, and the deduplication token is passed down the chain)."""
    return Select(
        (
            f"{bucket}(bucket) AS bucket",
            "org_id",
            "project_id",
            "task_id",
            "job_id",
            "user_id",
            "source",
            "metric_key",
            "sum(events) AS events",
            "sum(units) AS units",
            "sum(duration_ms) AS duration_ms",
            "sum(working_time_ms) AS working_time_ms",
        ),
        source,
        _ROLLUP_GROUP,
    )


ROLLUP_1H_MV = MaterializedView("rollup_1h_mv", ROLLUP_1H, _coarser(ROLLUP_5M, "toStartOfHour"))
ROLLUP_1D_MV = MaterializedView("rollup_1d_mv", ROLLUP_1D, _coarser(ROLLUP_1H, "toStartOfDay"))

ROLLUP_5M_BACKFILL = _rollup("rollup_5m_backfill", staging=True)
ROLLUP_1H_BACKFILL = _rollup("rollup_1h_backfill", staging=True)
ROLLUP_1D_BACKFILL = _rollup("rollup_1d_backfill", staging=True)

# --- organization tiers ------------------------------------------------------------------------------
# rollup_1h / rollup_1d per (organization, metric_key, bucket, source), without the project,
# task, job and user columns: ~60 times fewer rows for a dashboard of a whole organization.
# Distinct users and jobs are exact uniqExact states, which merge exactly over any set of rows.
# SummingMergeTree without a column list sums every numeric column outside the key and merges the
# AggregateFunction columns (with a list it would keep one arbitrary state per key).
_ORG_COLUMNS = (
    Column("bucket", "DateTime('UTC')"),
    Column("org_id", "UInt64"),
    Column("source", "LowCardinality(String)"),
    Column("metric_key", "LowCardinality(String)"),
    Column("events", "UInt64"),
    Column("units", "UInt64"),
    Column("duration_ms", "UInt64"),
    Column("working_time_ms", "UInt64"),
    Column("users", "AggregateFunction(uniqExact, UInt64)"),
    Column("jobs", "AggregateFunction(uniqExact, UInt64)"),
)


def _org_tier(name: str, *, staging: bool = False) -> Table:
    return Table(
        name,
        _ORG_COLUMNS,
        engine="SummingMergeTree",
        partition_by="toYYYYMM(bucket)",
        order_by="(org_id, metric_key, bucket, source)",
        dedup_window=None if staging else 10000,
        sharding_key=None if staging else ROLLUP_SHARDING_KEY,
    )


def _per_org(source: Table) -> Select:
    return Select(
        (
            "bucket",
            "org_id",
            "source",
            "metric_key",
            "sum(events) AS events",
            "sum(units) AS units",
            "sum(duration_ms) AS duration_ms",
            "sum(working_time_ms) AS working_time_ms",
            "uniqExactStateIf(user_id, user_id != 0) AS users",
            "uniqExactStateIf(job_id, job_id != 0) AS jobs",
        ),
        source,
        "bucket, org_id, source, metric_key",
    )


ROLLUP_ORG_1H = _org_tier("rollup_org_1h")
ROLLUP_ORG_1D = _org_tier("rollup_org_1d")
ROLLUP_ORG_1H_MV = MaterializedView("rollup_org_1h_mv", ROLLUP_ORG_1H, _per_org(ROLLUP_1H))
ROLLUP_ORG_1D_MV = MaterializedView("rollup_org_1d_mv", ROLLUP_ORG_1D, _per_org(ROLLUP_1D))
ROLLUP_ORG_1H_BACKFILL = _org_tier("rollup_org_1h_backfill", staging=True)
ROLLUP_ORG_1D_BACKFILL = _org_tier("rollup_org_1d_backfill", staging=True)

# --- object names ------------------------------------------------------------------------------------
# The latest name of every organization, project, task, job, label and user, so that dashboards
# show names beside ids. Each view collapses its block to one row per (kind, id) with the name of
# the newest event; ReplacingMergeTree(updated_at) keeps the newest row once parts merge, so a
# reader collapses too: argMax(name, updated_at) ... GROUP BY kind, id (or FINAL). org_id is the
# organization of that newest event (0 = none): never filter user names by it. On a cluster a
# user active in organizations of two shards has a row on each; the read collapses them.
OBJECT_NAMES = Table(
    "object_names",
    (
        Column("kind", "LowCardinality(String)"),
        Column("id", "UInt64"),
        Column("name", "String"),
        Column("org_id", "UInt64"),
        Column("updated_at", "DateTime64(3, 'UTC')"),
    ),
    engine="ReplacingMergeTree",
    engine_args="updated_at",
    order_by="(kind, id)",
    sharding_key=ROLLUP_SHARDING_KEY,
)

# create:<kind> events carry the name in obj_name; renames (obj_name 'name', or 'username' for
# users) carry the new name in obj_val.
OBJECT_NAMES_OBJECTS_MV = MaterializedView(
    "object_names_objects_mv",
    OBJECT_NAMES,
    Select(
        (
            "substring(scope, position(scope, ':') + 1) AS kind",
            "assumeNotNull(obj_id) AS id",
            "argMax(if(startsWith(scope, 'update:'), assumeNotNull(obj_val), assumeNotNull(obj_name)), "
            "timestamp) AS name",
            "argMax(ifNull(org_id, 0), timestamp) AS org_id",
            "max(timestamp) AS updated_at",
        ),
        EVENTS,
        "kind, id",
        where=(
            "obj_id IS NOT NULL",
            "((scope IN ('create:organization', 'create:project', 'create:task', 'create:job', "
            "'create:label', 'create:user') AND obj_name IS NOT NULL AND obj_name != '')"
            " OR (scope IN ('update:organization', 'update:project', 'update:task', 'update:label')"
            " AND obj_name = 'name' AND obj_val IS NOT NULL AND obj_val != '')"
            " OR (scope = 'update:user' AND obj_name = 'username'"
            " AND obj_val IS NOT NULL AND obj_val != ''))",
        ),
    ),
)

# Every event carries its actor's user_id and user_name.
OBJECT_NAMES_USERS_MV = MaterializedView(
    "object_names_users_mv",
    OBJECT_NAMES,
    Select(
        (
            "'user' AS kind",
            "assumeNotNull(user_id) AS id",
            "argMax(assumeNotNull(user_name), timestamp) AS name",
            "argMax(ifNull(org_id, 0), timestamp) AS org_id",
            "max(timestamp) AS updated_at",
        ),
        EVENTS,
        "id",
        where=("user_id IS NOT NULL AND user_name IS NOT NULL AND user_name != ''",),
    ),
)

# --- bookkeeping -------------------------------------------------------------------------------------
# Which migrations ran. On a cluster every node holds all of it (one replica set, not per shard).
SCHEMA_MIGRATIONS = Table(
    "schema_migrations",
    (
        Column("version", "UInt32"),
        Column("name", "String"),
        Column("checksum", "String"),
        Column("applied_at", "DateTime64(3, 'UTC')", default="now64(3)"),
    ),
    engine="ReplacingMergeTree",
    engine_args="applied_at",
    order_by="version",
    dedup_window=None,
    all_nodes=True,
)

# The rollup tiers with their staging tables, finest first (analytics/backfill.py).
ROLLUP_TIERS: tuple[tuple[Table, Table], ...] = (
    (ROLLUP_5M, ROLLUP_5M_BACKFILL),
    (ROLLUP_1H, ROLLUP_1H_BACKFILL),
    (ROLLUP_1D, ROLLUP_1D_BACKFILL),
    (ROLLUP_ORG_1H, ROLLUP_ORG_1H_BACKFILL),
    (ROLLUP_ORG_1D, ROLLUP_ORG_1D_BACKFILL),
)
