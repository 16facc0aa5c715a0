-- The daily rollup of the rebuilt month, from the rebuilt hourly rows: the same query as
-- rollup_1d_mv in clickhouse/migrations/0002_rollups.sql, over rollup_1h_backfill.
INSERT INTO rollup_1d_backfill
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
FROM rollup_1h_backfill
GROUP BY bucket, org_id, project_id, task_id, job_id, user_id, source, metric_key
