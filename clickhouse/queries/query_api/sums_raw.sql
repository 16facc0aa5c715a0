-- sums_rollup.sql over raw `events`, for second and minute buckets (a 5-minute rollup cannot split
-- its buckets). /*event_rollup_rows*/ is replaced (analytics/query/fetch.py) by the rows the two
-- 5-minute rollup views would write for each event in range and scope, built from the views' own
-- expressions (server/store/schema.py, event_rollup_rows) with one-second buckets: every event
-- under its scope and, for a status change, once more under `scope:field=value`; 0 for null ids.
-- Same output columns as sums_rollup.sql, with first_bucket / last_bucket at one-second precision.
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
    count() AS events,
    sum(units) AS units,
    sum(duration_ms) AS duration_ms,
    sum(working_time_ms) AS working_time_ms,
    toUInt32(min(bucket)) AS first_bucket,
    toUInt32(max(bucket)) AS last_bucket
FROM
(
    /*event_rollup_rows*/
)
WHERE {all_keys:Bool} OR metric_key IN {metric_keys:Array(String)}
GROUP BY i, o, p, t, j, u, metric_key, source
