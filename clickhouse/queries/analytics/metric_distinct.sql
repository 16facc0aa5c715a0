-- Up to two exact distinct counts (d0, d1) per time bucket (total_row = 0) and over the whole
-- range (total_row = 1), from a rollup table that has the id columns (rollup_5m, rollup_1h or
-- rollup_1d): distinct counts are not additive, so the range's count is computed here, never
-- added up from the buckets.
-- Distinct count k counts the non-zero values of column dk_dim among rows whose metric_key is in
-- dk_keys (or, with dk_all, is any scope: status keys contain '='); dk_on = false switches an
-- unused slot off. Bucket i covers [start + i*step, start + (i+1)*step); start is aligned by the
-- caller. any_project/any_task/any_job/any_user = true lift that filter, all_orgs = true the
-- organization filter, all_keys = true the metric_key filter.
SELECT
    intDiv(toUInt32(bucket) - {start:UInt32}, {step:UInt32}) AS i,
    grouping(i) AS total_row,
    uniqExactIf({d0_dim:Identifier}, {d0_on:Bool} AND {d0_dim:Identifier} != 0
        AND (metric_key IN {d0_keys:Array(String)} OR ({d0_all:Bool} AND position(metric_key, '=') = 0))) AS d0,
    uniqExactIf({d1_dim:Identifier}, {d1_on:Bool} AND {d1_dim:Identifier} != 0
        AND (metric_key IN {d1_keys:Array(String)} OR ({d1_all:Bool} AND position(metric_key, '=') = 0))) AS d1
FROM {table:Identifier}
WHERE bucket >= toDateTime({start:UInt32}, 'UTC')
    AND bucket < toDateTime({end:UInt32}, 'UTC')
    AND ({all_keys:Bool} OR metric_key IN {metric_keys:Array(String)})
    AND /*scope*/
GROUP BY GROUPING SETS ((i), ())
