-- org_metric_sums.sql plus up to two exact distinct counts (d0, d1), in one pass over an
-- organization tier (rollup_org_1h or rollup_org_1d):
-- * additive sums per time bucket, metric_key and source (rows with distinct_row = 0);
-- * distinct counts per time bucket (distinct_row = 1, total_row = 0) and over the whole range
--   (total_row = 1), by merging the tier's uniqExact states: exact over any set of rows.
-- Distinct count k merges state column dk_state (`users` or `jobs`) of the rows whose metric_key
-- is in dk_keys (or, with dk_all, is any scope: status keys contain '='); dk_on = false switches an
-- unused slot off. Other parameters as in org_metric_sums.sql.
SELECT
    intDiv(toUInt32(bucket) - {start:UInt32}, {step:UInt32}) AS i,
    metric_key,
    source,
    grouping(metric_key) AS distinct_row,
    grouping(i) AS total_row,
    sum(events) AS events,
    sum(units) AS units,
    sum(duration_ms) AS duration_ms,
    sum(working_time_ms) AS working_time_ms,
    uniqExactMergeIf({d0_state:Identifier}, {d0_on:Bool}
        AND (metric_key IN {d0_keys:Array(String)} OR ({d0_all:Bool} AND position(metric_key, '=') = 0))) AS d0,
    uniqExactMergeIf({d1_state:Identifier}, {d1_on:Bool}
        AND (metric_key IN {d1_keys:Array(String)} OR ({d1_all:Bool} AND position(metric_key, '=') = 0))) AS d1
FROM {table:Identifier}
WHERE bucket >= toDateTime({start:UInt32}, 'UTC')
    AND bucket < toDateTime({end:UInt32}, 'UTC')
    AND ({all_keys:Bool} OR metric_key IN {metric_keys:Array(String)})
    AND /*org_scope*/
GROUP BY GROUPING SETS ((i, metric_key, source), (i), ())
