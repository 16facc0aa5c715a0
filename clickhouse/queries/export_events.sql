-- Raw events for a download (CVAT's /api/events export): CVAT's columns in CVAT's order, rows in
-- timestamp order, `send:exception` rows left out; `remote_addr` and `event_id` are never exported.
-- [since, until) is the time range: the whole export, or one window of it (exports.query).
-- /*export_filters*/ is the downloads' filter predicate (store/sql.py: org_id, project_id, task_id,
-- job_id, user_id, each `<column> = {<column>:UInt64}` unless `no_<column>` lifts it).
SELECT
    scope, obj_name, obj_id, obj_val, source, timestamp, count, duration,
    project_id, task_id, job_id, user_id, user_name, user_email, org_id, org_slug,
    payload, access_token_id
FROM events
WHERE source IN ('server', 'client')
    AND scope != 'send:exception'
    AND timestamp >= {since:DateTime64(3, 'UTC')}
    AND timestamp < {until:DateTime64(3, 'UTC')}
    AND /*export_filters*/
ORDER BY timestamp
