-- Additive rollups of `events`, filled by materialized views at insert time: rollup_5m (the
-- 5-minute buckets), and the same sums by hour (rollup_1h) and by day (rollup_1d) so that long
-- ranges read fewer rows. docs/metrics.md explains the model.
--
-- One row per (bucket, org, project, task, job, user, source, metric_key); 0 stands for "none" in
-- the id columns (sort keys must not be Nullable). metric_key is the event scope, or for a status
-- change `scope:field=value` (e.g. `update:job:state=completed`), written by a second view: such an
-- event therefore lands twice, once under its scope and once under its status key, and no metric
-- reads both (see server/analytics/registry.py).
--
-- Every value column is a plain sum, so any set of rows can be added up in any order:
--   events          number of events
--   units           sum(ifNull(count, 1))  (objects drawn by one draw:object event, shapes saved...)
--   duration_ms     sum(duration)
--   working_time_ms sum(duration) of send:working_time events (0 on every other row)
-- SummingMergeTree merges rows with equal keys lazily: read with sum() ... GROUP BY, never bare.
--
-- ORDER BY: every read is scoped to organizations and asks for a few metric keys over a time
-- range, so (org_id, metric_key, bucket) lets a 30-day KPI query read only the granules it needs;
-- the other dimensions follow so that rows merge.
--
-- non_replicated_deduplication_window: a batch retried with the same insert_deduplication_token
-- is dropped by `events`, and with deduplicate_blocks_in_dependent_materialized_views=1 the
-- views' blocks are dropped here too. Without the window on this table, the retried batch is
-- counted twice in the rollup even though `events` holds it once.
CREATE TABLE IF NOT EXISTS rollup_5m
(
    `bucket` DateTime('UTC'),
    `org_id` UInt64,
    `project_id` UInt64,
    `task_id` UInt64,
    `job_id` UInt64,
    `user_id` UInt64,
    `source` LowCardinality(String),
    `metric_key` LowCardinality(String),
    `events` UInt64,
    `units` UInt64,
    `duration_ms` UInt64,
    `working_time_ms` UInt64
)
ENGINE = SummingMergeTree((events, units, duration_ms, working_time_ms))
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, metric_key, bucket, project_id, task_id, job_id, user_id, source)
SETTINGS
    index_granularity = 8192,
    non_replicated_deduplication_window = 10000;

-- Every event, under its scope.
CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_5m_scopes_mv TO rollup_5m AS
SELECT
    toStartOfFiveMinutes(timestamp) AS bucket,
    ifNull(org_id, 0) AS org_id,
    ifNull(project_id, 0) AS project_id,
    ifNull(task_id, 0) AS task_id,
    ifNull(job_id, 0) AS job_id,
    ifNull(user_id, 0) AS user_id,
    source,
    toString(scope) AS metric_key,
    count() AS events,
    sum(ifNull(count, 1)) AS units,
    sum(duration) AS duration_ms,
    sumIf(duration, scope = 'send:working_time') AS working_time_ms
FROM events
GROUP BY bucket, org_id, project_id, task_id, job_id, user_id, source, metric_key;

-- Status changes, under `scope:field=value`: one update event per changed field, so an
-- `update:job` with obj_name 'state' and obj_val 'completed' is one job moved to completed.
CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_5m_status_mv TO rollup_5m AS
SELECT
    toStartOfFiveMinutes(timestamp) AS bucket,
    ifNull(org_id, 0) AS org_id,
    ifNull(project_id, 0) AS project_id,
    ifNull(task_id, 0) AS task_id,
    ifNull(job_id, 0) AS job_id,
    ifNull(user_id, 0) AS user_id,
    source,
    concat(scope, ':', assumeNotNull(obj_name), '=', ifNull(obj_val, '')) AS metric_key,
    count() AS events,
    sum(ifNull(count, 1)) AS units,
    sum(duration) AS duration_ms,
    toUInt64(0) AS working_time_ms
FROM events
WHERE startsWith(scope, 'update:') AND obj_name IN ('state', 'stage', 'status', 'resolved')
GROUP BY bucket, org_id, project_id, task_id, job_id, user_id, source, metric_key;

-- The same rollup by hour, for queries whose buckets are whole hours: about 7 times fewer rows
-- than rollup_5m on the benchmark's workload (bench/kpi_latency.py).
-- Filled from rollup_5m's inserts (a view on a view), so both always hold the same sums; a retried
-- batch is dropped here too (the deduplication token is passed down the chain).
CREATE TABLE IF NOT EXISTS rollup_1h
(
    `bucket` DateTime('UTC'),
    `org_id` UInt64,
    `project_id` UInt64,
    `task_id` UInt64,
    `job_id` UInt64,
    `user_id` UInt64,
    `source` LowCardinality(String),
    `metric_key` LowCardinality(String),
    `events` UInt64,
    `units` UInt64,
    `duration_ms` UInt64,
    `working_time_ms` UInt64
)
ENGINE = SummingMergeTree((events, units, duration_ms, working_time_ms))
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, metric_key, bucket, project_id, task_id, job_id, user_id, source)
SETTINGS
    index_granularity = 8192,
    non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_1h_mv TO rollup_1h AS
SELECT
    toStartOfHour(bucket) AS bucket,
    org_id,
    project_id,
    task_id,
    job_id,
    user_id,
    source,
    metric_key,
    sum(events) AS events,
    sum(units) AS units,
    sum(duration_ms) AS duration_ms,
    sum(working_time_ms) AS working_time_ms
FROM rollup_5m
GROUP BY bucket, org_id, project_id, task_id, job_id, user_id, source, metric_key;

-- And by day, for daily and weekly buckets (the 30-day KPI query and the per-user summary), filled
-- from rollup_1h's inserts in the same way.
CREATE TABLE IF NOT EXISTS rollup_1d
(
    `bucket` DateTime('UTC'),
    `org_id` UInt64,
    `project_id` UInt64,
    `task_id` UInt64,
    `job_id` UInt64,
    `user_id` UInt64,
    `source` LowCardinality(String),
    `metric_key` LowCardinality(String),
    `events` UInt64,
    `units` UInt64,
    `duration_ms` UInt64,
    `working_time_ms` UInt64
)
ENGINE = SummingMergeTree((events, units, duration_ms, working_time_ms))
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, metric_key, bucket, project_id, task_id, job_id, user_id, source)
SETTINGS
    index_granularity = 8192,
    non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_1d_mv TO rollup_1d AS
SELECT
    toStartOfDay(bucket) AS bucket,
    org_id,
    project_id,
    task_id,
    job_id,
    user_id,
    source,
    metric_key,
    sum(events) AS events,
    sum(units) AS units,
    sum(duration_ms) AS duration_ms,
    sum(working_time_ms) AS working_time_ms
FROM rollup_1h
GROUP BY bucket, org_id, project_id, task_id, job_id, user_id, source, metric_key;

-- Where `manage.py backfill_rollups` rebuilds one month before swapping it into rollup_5m,
-- rollup_1h and rollup_1d with REPLACE PARTITION (atomic for readers). Same structure, partition
-- and sort key as the rollups, as REPLACE PARTITION requires, but WITHOUT the deduplication
-- window: a rebuild inserts the same blocks as the previous one, which deduplication would drop.
CREATE TABLE IF NOT EXISTS rollup_5m_backfill
(
    `bucket` DateTime('UTC'),
    `org_id` UInt64,
    `project_id` UInt64,
    `task_id` UInt64,
    `job_id` UInt64,
    `user_id` UInt64,
    `source` LowCardinality(String),
    `metric_key` LowCardinality(String),
    `events` UInt64,
    `units` UInt64,
    `duration_ms` UInt64,
    `working_time_ms` UInt64
)
ENGINE = SummingMergeTree((events, units, duration_ms, working_time_ms))
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, metric_key, bucket, project_id, task_id, job_id, user_id, source)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS rollup_1h_backfill
(
    `bucket` DateTime('UTC'),
    `org_id` UInt64,
    `project_id` UInt64,
    `task_id` UInt64,
    `job_id` UInt64,
    `user_id` UInt64,
    `source` LowCardinality(String),
    `metric_key` LowCardinality(String),
    `events` UInt64,
    `units` UInt64,
    `duration_ms` UInt64,
    `working_time_ms` UInt64
)
ENGINE = SummingMergeTree((events, units, duration_ms, working_time_ms))
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, metric_key, bucket, project_id, task_id, job_id, user_id, source)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS rollup_1d_backfill
(
    `bucket` DateTime('UTC'),
    `org_id` UInt64,
    `project_id` UInt64,
    `task_id` UInt64,
    `job_id` UInt64,
    `user_id` UInt64,
    `source` LowCardinality(String),
    `metric_key` LowCardinality(String),
    `events` UInt64,
    `units` UInt64,
    `duration_ms` UInt64,
    `working_time_ms` UInt64
)
ENGINE = SummingMergeTree((events, units, duration_ms, working_time_ms))
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, metric_key, bucket, project_id, task_id, job_id, user_id, source)
SETTINGS index_granularity = 8192;
