-- Additive rollup sums per time bucket, metric_key and source, for one scope (rollup_5m, rollup_1h
-- or rollup_1d). Distinct counts come from metric_distinct.sql; a scope without id filters reads
-- org_metric_sums.sql instead. Parameters as in metric_distinct.sql.
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
    AND /*scope*/
GROUP BY i, metric_key, source
