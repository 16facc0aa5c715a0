-- One page of a user's raw events, newest first, resuming after (cursor_timestamp, cursor_event_id)
-- unless first_page. Contact and network details (user_email, remote_addr, access_token_id) are
-- deliberately not selected.
SELECT
    event_id, timestamp, scope, source, obj_name, obj_id, obj_val, count, duration,
    org_id, org_slug, project_id, task_id, job_id, user_id, user_name, payload
FROM events
WHERE user_id = {user_id:UInt64}
    AND timestamp >= toDateTime64({start:UInt32}, 3, 'UTC')
    AND timestamp < toDateTime64({end:UInt32}, 3, 'UTC')
    AND /*org_scope*/
    AND ({first_page:Bool}
         OR (timestamp, event_id) < ({cursor_timestamp:DateTime64(3, 'UTC')}, {cursor_event_id:UUID}))
ORDER BY timestamp DESC, event_id DESC
LIMIT {limit:UInt32}
