-- Raw events for a download (CVAT's /api/events export): CVAT's columns in CVAT's order, rows in
-- timestamp order, `send:exception` rows left out; `remote_addr` and `event_id` are never exported.
-- [since, until) is the time range: the whole export, or one window of it (exports.query).
-- /*export_filters*/ is the downloads' filter predicate (store/sql.py: org_id, project_id, task_id,
-- job_id, user_id, each `<column> = {<column>:UInt64}` unless `no_<column>` lifts it).
-- /*columns*/ is replaced by exports.query with the exported columns (EXPORT_COLUMNS) or, for CSV,
-- one expression per row that renders those columns as CVAT's csv.writer does.
SELECT /*columns*/
FROM events
WHERE source IN ('server', 'client')
    AND scope != 'send:exception'
    AND timestamp >= {since:DateTime64(3, 'UTC')}
    AND timestamp < {until:DateTime64(3, 'UTC')}
    AND /*export_filters*/
ORDER BY timestamp
