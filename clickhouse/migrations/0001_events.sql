-- The raw event log: CVAT's columns, in CVAT's order, plus event_id.
-- ORDER BY (org_id, timestamp): every read is scoped to an organization and a time range.
-- non_replicated_deduplication_window makes a retried batch (same insert_deduplication_token)
-- land once; every materialized-view target table carries the same setting.
CREATE TABLE IF NOT EXISTS events
(
    `scope` LowCardinality(String),
    `obj_name` Nullable(String),
    `obj_id` Nullable(UInt64),
    `obj_val` Nullable(String),
    `source` LowCardinality(String),
    `timestamp` DateTime64(3, 'UTC') CODEC(Delta(8), ZSTD(1)),
    `count` Nullable(UInt32),
    `duration` UInt32 DEFAULT 0,
    `project_id` Nullable(UInt64),
    `task_id` Nullable(UInt64),
    `job_id` Nullable(UInt64),
    `user_id` Nullable(UInt64),
    `user_name` LowCardinality(Nullable(String)),
    `user_email` LowCardinality(Nullable(String)),
    `org_id` Nullable(UInt64),
    `org_slug` LowCardinality(Nullable(String)),
    `payload` Nullable(String) CODEC(ZSTD(3)),
    `access_token_id` Nullable(UInt64),
    `remote_addr` Nullable(String),
    `event_id` UUID
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (org_id, timestamp)
SETTINGS
    allow_nullable_key = 1,
    index_granularity = 8192,
    non_replicated_deduplication_window = 10000;
