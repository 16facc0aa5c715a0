-- Metric values from an organization tier (rollup_org_1h or rollup_org_1d), one column per metric
-- (m0, m1, ...), per time bucket i (total_row = 0) and over the whole range (total_row = 1).
-- /*metric_columns*/ is each metric's aggregate as analytics/metric_sql.py compiles it from the
-- registry (the dashboards' compiler): sumIf(column, condition), or for a distinct count the merge
-- of the tier's exact uniqExact state (exact over any set of rows). Other parameters as in
-- org_metric_sums.sql.
SELECT
    intDiv(toUInt32(bucket) - {start:UInt32}, {step:UInt32}) AS i,
    grouping(i) AS total_row,
    /*metric_columns*/
FROM {table:Identifier}
WHERE bucket >= toDateTime({start:UInt32}, 'UTC')
    AND bucket < toDateTime({end:UInt32}, 'UTC')
    AND ({all_keys:Bool} OR metric_key IN {metric_keys:Array(String)})
    AND /*org_scope*/
GROUP BY GROUPING SETS ((i), ())
