-- One month of rollup_5m_status_mv, rebuilt from `events` into the staging table.
-- Keep the SELECT identical to the view in clickhouse/migrations/0002_rollups.sql.
INSERT INTO rollup_5m_backfill
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
WHERE toYYYYMM(timestamp) = {month:UInt32}
    AND startsWith(scope, 'update:') AND obj_name IN ('state', 'stage', 'status', 'resolved')
GROUP BY bucket, org_id, project_id, task_id, job_id, user_id, source, metric_key
