-- Newest rollup bucket per metric_key in a scope (for /api/analytics/kpis/status).
SELECT metric_key, max(bucket) AS last_bucket
FROM rollup_5m
WHERE /*scope*/
GROUP BY metric_key
