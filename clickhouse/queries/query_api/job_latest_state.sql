-- The latest state change of each job in [start, end): the new state, when, and by whom (ties on
-- the same millisecond broken by event_id, so the answer is stable). A state change is an event
-- of one of the registry's JOB_STATE_KEYS (`update:job:state=<state>`), given split into
-- state_scopes / state_field / state_values (server/analytics/query/fetch.py status_params):
-- plain column comparisons, which read far less than building each event's key.
-- Scope filters as sums_raw.sql. Only events with a job.
SELECT
    ifNull(job_id, 0) AS j,
    ifNull(task_id, 0) AS t,
    ifNull(project_id, 0) AS p,
    argMax(assumeNotNull(obj_val), (timestamp, event_id)) AS state,
    toUInt32(max(timestamp)) AS at,
    argMax(ifNull(user_id, 0), (timestamp, event_id)) AS by_user
FROM events
WHERE timestamp >= toDateTime64({start:UInt32}, 3, 'UTC')
    AND timestamp < toDateTime64({end:UInt32}, 3, 'UTC')
    AND scope IN {state_scopes:Array(String)}
    AND obj_name = {state_field:String}
    AND obj_val IN {state_values:Array(String)}
    AND job_id IS NOT NULL AND job_id != 0
    AND /*scope*/
GROUP BY j, t, p
