-- metric_sums.sql over an organization tier (rollup_org_1h or rollup_org_1d), for a scope that
-- filters on organizations only: the same rows out, from ~60 times fewer rows in. Those tiers have
-- no project/task/job/user columns, hence no such filters here.
SELECT
    intDiv(toUInt32(bucket) - {start:UInt32}, {step:UInt32}) AS i,
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
    AND /*org_scope*/
GROUP BY i, metric_key, source
