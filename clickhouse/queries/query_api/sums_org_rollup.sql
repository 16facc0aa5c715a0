-- sums_rollup.sql over an organization tier (rollup_org_1h or rollup_org_1d), for a read that
-- keeps no id column but the organization and a scope that filters on organizations only: the
-- same rows out (p, t, j, u are 0, as sums_rollup.sql gives with by_project .. by_user false)
-- from ~60 times fewer rows in. Parameters as in sums_rollup.sql (by_project .. by_user unused).
SELECT
    if({monthly:Bool},
       toInt64(toYear(bucket)) * 12 + toMonth(bucket) - 1 - {month0:Int64},
       intDiv(toInt64(toUInt32(bucket)) - {origin:Int64}, {step:Int64})) AS i,
    if({by_org:Bool}, org_id, 0) AS o,
    toUInt64(0) AS p,
    toUInt64(0) AS t,
    toUInt64(0) AS j,
    toUInt64(0) AS u,
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
    AND /*org_scope*/
GROUP BY i, o, metric_key, source
