-- sums_rollup.sql over raw `events`, for second and minute buckets (a 5-minute rollup cannot split
-- its buckets). The inner SELECT turns each event into the rows the rollup views
-- (server/store/schema.py) would have written for it: one under its scope and,
-- for an `update:*` event of a status field, one more under `scope:field=value`; 0 for null ids;
-- units = ifNull(count, 1); working_time_ms = duration of working-time events. status_fields and
-- wt_scopes come from server/analytics/registry.py. Same output columns as sums_rollup.sql, with
-- first_bucket / last_bucket at one-second precision.
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
    SELECT
        toDateTime(timestamp, 'UTC') AS bucket,
        ifNull(org_id, 0) AS org_id,
        ifNull(project_id, 0) AS project_id,
        ifNull(task_id, 0) AS task_id,
        ifNull(job_id, 0) AS job_id,
        ifNull(user_id, 0) AS user_id,
        source,
        metric_key,
        toUInt64(ifNull(count, 1)) AS units,
        toUInt64(duration) AS duration_ms,
        toUInt64(if(scope IN {wt_scopes:Array(String)}, duration, 0)) AS working_time_ms
    FROM events
    ARRAY JOIN arrayConcat(
        [toString(scope)],
        if(startsWith(scope, 'update:') AND obj_name IN {status_fields:Array(String)},
           [concat(toString(scope), ':', assumeNotNull(obj_name), '=', ifNull(obj_val, ''))],
           [])) AS metric_key
    WHERE timestamp >= toDateTime64({start:UInt32}, 3, 'UTC')
        AND timestamp < toDateTime64({end:UInt32}, 3, 'UTC')
        AND ({all_orgs:Bool} OR org_id IN {org_ids:Array(UInt64)})
        AND ({any_project:Bool} OR project_id IN {project_ids:Array(UInt64)})
        AND ({any_task:Bool} OR task_id IN {task_ids:Array(UInt64)})
        AND ({any_job:Bool} OR job_id IN {job_ids:Array(UInt64)})
        AND ({any_user:Bool} OR user_id IN {user_ids:Array(UInt64)})
)
WHERE {all_keys:Bool} OR metric_key IN {metric_keys:Array(String)}
GROUP BY i, o, p, t, j, u, metric_key, source
