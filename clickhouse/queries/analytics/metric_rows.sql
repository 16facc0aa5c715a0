-- Additive rollup sums per time bucket, two id columns (dim_a, dim_b: e.g. project_id and job_id;
-- pass the same column twice for one), metric_key and source, for one scope. Used where the
-- caller needs the numbers broken down, e.g. the per-user summary (per day, project and job).
-- Same filters and bucket convention as metric_sums.sql.
SELECT
    intDiv(toUInt32(bucket) - {start:UInt32}, {step:UInt32}) AS i,
    {dim_a:Identifier} AS a,
    {dim_b:Identifier} AS b,
    metric_key,
    source,
    sum(events) AS events,
    sum(units) AS units,
    sum(duration_ms) AS duration_ms,
    sum(working_time_ms) AS working_time_ms
FROM {table:Identifier}
WHERE bucket >= toDateTime({start:UInt32}, 'UTC')
    AND bucket < toDateTime({end:UInt32}, 'UTC')
    AND ({all_keys:Bool} OR metric_key IN {metric_keys:Array(String)})
    AND /*scope*/
GROUP BY i, a, b, metric_key, source
