-- Organization tiers: rollup_1h and rollup_1d per (organization, metric_key, bucket, source),
-- without the project/task/job/user columns. A query that filters on none of those (a dashboard of
-- an organization, or of all of them) reads these instead: ~60 times fewer rows on
-- bench/kpi_latency.py's workload (660 instead of 41,705 for one organization over 30 days).
--
-- Distinct counts are not additive, so the users and jobs behind each row are kept as exact
-- uniqExact states (`users`, `jobs`): merging the states of any set of rows gives the exact number
-- of distinct users or jobs over them (over a bucket, or over the whole range), from these rows
-- alone. ENGINE = SummingMergeTree without a column list: it sums every numeric column outside
-- the sort key and merges the AggregateFunction columns (with a column list it would keep one
-- arbitrary state per key instead of merging them). Read with sum() / uniqExactMerge() GROUP BY.
--
-- Filled like the other tiers, by views on the tier below (the deduplication token of a retried
-- batch is passed down the chain, and the window on each target drops the retried block here too).
-- Existing rollups are copied before the views exist, and only into an empty table, so running
-- this file again after an interruption does not count anything twice (a copy interrupted half-way
-- stays partial: run `manage.py backfill_rollups` after such a failure). With a ClickHouse server
-- that receives events while this migration runs (through Vector), a block that lands between the
-- copy and the view is missing here: `manage.py backfill_rollups` rebuilds every tier exactly.
CREATE TABLE IF NOT EXISTS rollup_org_1h
(
    `bucket` DateTime('UTC'),
    `org_id` UInt64,
    `source` LowCardinality(String),
    `metric_key` LowCardinality(String),
    `events` UInt64,
    `units` UInt64,
    `duration_ms` UInt64,
    `working_time_ms` UInt64,
    `users` AggregateFunction(uniqExact, UInt64),
    `jobs` AggregateFunction(uniqExact, UInt64)
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, metric_key, bucket, source)
SETTINGS
    index_granularity = 8192,
    non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS rollup_org_1d
(
    `bucket` DateTime('UTC'),
    `org_id` UInt64,
    `source` LowCardinality(String),
    `metric_key` LowCardinality(String),
    `events` UInt64,
    `units` UInt64,
    `duration_ms` UInt64,
    `working_time_ms` UInt64,
    `users` AggregateFunction(uniqExact, UInt64),
    `jobs` AggregateFunction(uniqExact, UInt64)
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, metric_key, bucket, source)
SETTINGS
    index_granularity = 8192,
    non_replicated_deduplication_window = 10000;

INSERT INTO rollup_org_1h
SELECT
    bucket,
    org_id,
    source,
    metric_key,
    sum(events) AS events,
    sum(units) AS units,
    sum(duration_ms) AS duration_ms,
    sum(working_time_ms) AS working_time_ms,
    uniqExactStateIf(user_id, user_id != 0) AS users,
    uniqExactStateIf(job_id, job_id != 0) AS jobs
FROM rollup_1h
WHERE (SELECT count() FROM rollup_org_1h) = 0
GROUP BY bucket, org_id, source, metric_key;

INSERT INTO rollup_org_1d
SELECT
    bucket,
    org_id,
    source,
    metric_key,
    sum(events) AS events,
    sum(units) AS units,
    sum(duration_ms) AS duration_ms,
    sum(working_time_ms) AS working_time_ms,
    uniqExactStateIf(user_id, user_id != 0) AS users,
    uniqExactStateIf(job_id, job_id != 0) AS jobs
FROM rollup_1d
WHERE (SELECT count() FROM rollup_org_1d) = 0
GROUP BY bucket, org_id, source, metric_key;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_org_1h_mv TO rollup_org_1h AS
SELECT
    bucket,
    org_id,
    source,
    metric_key,
    sum(events) AS events,
    sum(units) AS units,
    sum(duration_ms) AS duration_ms,
    sum(working_time_ms) AS working_time_ms,
    uniqExactStateIf(user_id, user_id != 0) AS users,
    uniqExactStateIf(job_id, job_id != 0) AS jobs
FROM rollup_1h
GROUP BY bucket, org_id, source, metric_key;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_org_1d_mv TO rollup_org_1d AS
SELECT
    bucket,
    org_id,
    source,
    metric_key,
    sum(events) AS events,
    sum(units) AS units,
    sum(duration_ms) AS duration_ms,
    sum(working_time_ms) AS working_time_ms,
    uniqExactStateIf(user_id, user_id != 0) AS users,
    uniqExactStateIf(job_id, job_id != 0) AS jobs
FROM rollup_1d
GROUP BY bucket, org_id, source, metric_key;

-- Staging tables of `manage.py backfill_rollups` (see rollup_5m_backfill in 0002_rollups.sql):
-- same structure, partition and sort key, no deduplication window.
CREATE TABLE IF NOT EXISTS rollup_org_1h_backfill
(
    `bucket` DateTime('UTC'),
    `org_id` UInt64,
    `source` LowCardinality(String),
    `metric_key` LowCardinality(String),
    `events` UInt64,
    `units` UInt64,
    `duration_ms` UInt64,
    `working_time_ms` UInt64,
    `users` AggregateFunction(uniqExact, UInt64),
    `jobs` AggregateFunction(uniqExact, UInt64)
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, metric_key, bucket, source)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS rollup_org_1d_backfill
(
    `bucket` DateTime('UTC'),
    `org_id` UInt64,
    `source` LowCardinality(String),
    `metric_key` LowCardinality(String),
    `events` UInt64,
    `units` UInt64,
    `duration_ms` UInt64,
    `working_time_ms` UInt64,
    `users` AggregateFunction(uniqExact, UInt64),
    `jobs` AggregateFunction(uniqExact, UInt64)
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, metric_key, bucket, source)
SETTINGS index_granularity = 8192;
