-- Months (YYYYMM) that have raw events, with how many, oldest first.
SELECT toYYYYMM(timestamp) AS month, count() AS n
FROM events
GROUP BY month
ORDER BY month
