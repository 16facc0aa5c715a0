-- How an export of raw events is cut into time windows of about {window_rows} rows, so that each
-- window is sorted on its own (bounded memory) and progress is known. Same WHERE as
-- export_events.sql. One row per window: its first minute (Unix seconds) and its row count; a
-- window holds whole minutes, so a single minute busier than {window_rows} is one window.
SELECT min(minute) AS window_start, sum(rows) AS window_rows
FROM
(
    SELECT
        minute,
        rows,
        sum(rows) OVER (ORDER BY minute ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS rows_before
    FROM
    (
        SELECT toUnixTimestamp(toStartOfMinute(timestamp)) AS minute, count() AS rows
        FROM events
        WHERE source IN ('server', 'client')
            AND scope != 'send:exception'
            AND timestamp >= {since:DateTime64(3, 'UTC')}
            AND timestamp < {until:DateTime64(3, 'UTC')}
            AND /*export_filters*/
        GROUP BY minute
    )
)
GROUP BY intDiv(rows_before, {window_rows:UInt64})
ORDER BY window_start
