-- Time of the newest raw event in a scope, and how many events the scope has (data lag).
SELECT max(timestamp) AS last_timestamp, count() AS n
FROM events
WHERE /*scope*/
