-- Additive sums of a rollup tier (rollup_1h or rollup_1d) for one scope, grouped by time bucket
-- i, any of the five id columns, metric_key and source: the read behind every measure that is a
-- function of registry metrics (server/analytics/query/fetch.py routes the rows to metrics).
--
-- i: the bucket of the query's granularity: intDiv((bucket - origin), step) for fixed-size
-- buckets, the month number since the first month when monthly; 0 for every row of a whole-range
-- read (origin = start, step = the range). by_* = false folds that id column to 0 (not grouped).
-- first_bucket / last_bucket: the earliest and latest tier bucket (hour / day start) of the group,
-- for "first/last activity" fields. Range and scope filters as clickhouse/queries/analytics/*.sql.
SELECT
    if({monthly:Bool},
       toInt64(toYear(bucket)) * 12 + toMonth(bucket) - 1 - {month0:Int64},
       intDiv(toInt64(toUInt32(bucket)) - {origin:Int64}, {step:Int64})) AS i,
    if({by_org:Bool}, org_id, 0) AS o,
    if({by_project:Bool}, project_id, 0) AS p,
    if({by_task:Bool}, task_id, 0) AS t,
    if({by_job:Bool}, job_id, 0) AS j,
    if({by_user:Bool}, user_id, 0) AS u,
    metric_key,
    source,
    sum(events) AS events,
    sum(units) AS units,
    sum(duration_ms) AS duration_ms,
    sum(working_time_ms) AS working_time_ms,
    toUInt32(min(bucket)) AS first_bucket,
    toUInt32(max(bucket)) AS last_bucket
FROM {table:Identifier}
WHERE bucket >= toDateTime({start:UInt32}, 'UTC')
    AND bucket < toDateTime({end:UInt32}, 'UTC')
    AND ({all_keys:Bool} OR metric_key IN {metric_keys:Array(String)})
    AND /*scope*/
GROUP BY i, o, p, t, j, u, metric_key, source
