-- Months (YYYYMM) that have raw events, with how many, oldest first. `events` is the table that
-- holds this node's rows (`events`, or `events_local` on a cluster).
SELECT toYYYYMM(timestamp) AS month, count() AS n
FROM {events:Identifier}
GROUP BY month
ORDER BY month
