-- The organization tiers of the rebuilt month, from the rebuilt rows of the tier they are filled
-- from: the same query as rollup_org_1h_mv / rollup_org_1d_mv in
-- clickhouse/migrations/0011_org_rollups.sql. `source_table` is rollup_1h_backfill or
-- rollup_1d_backfill, `target` rollup_org_1h_backfill or rollup_org_1d_backfill.
INSERT INTO {target:Identifier}
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
FROM {source_table:Identifier}
GROUP BY bucket, org_id, source, metric_key
