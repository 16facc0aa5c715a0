-- Issues created in [start, end) and in scope (the registry's issues_created keys, one row per
-- issue obj_id, at its first creation event), each with
--   corrected_at: the first job save of the issue's job after the creation (the registry's
--                 jobs_saved keys, by anyone, before `end`), or null;
--   resolved_at:  the first resolution of the issue at or after the creation (issues_resolved
--                 keys, before `end`), or null.
-- Partner events are looked up in the scope's organizations only.
SELECT
    c.issue_id,
    c.j,
    c.t,
    c.p,
    c.u,
    c.created_at,
    s.ts AS corrected_at,
    r.ts AS resolved_at
FROM
(
    SELECT
        assumeNotNull(obj_id) AS issue_id,
        min(timestamp) AS created_at,
        argMin(ifNull(job_id, 0), timestamp) AS j,
        argMin(ifNull(task_id, 0), timestamp) AS t,
        argMin(ifNull(project_id, 0), timestamp) AS p,
        argMin(ifNull(user_id, 0), timestamp) AS u
    FROM events
    WHERE timestamp >= toDateTime64({start:UInt32}, 3, 'UTC')
        AND timestamp < toDateTime64({end:UInt32}, 3, 'UTC')
        AND scope IN {create_keys:Array(String)}
        AND obj_id IS NOT NULL
        AND /*scope*/
    GROUP BY issue_id
) AS c
ASOF LEFT JOIN
(
    SELECT assumeNotNull(job_id) AS j, timestamp AS ts
    FROM events
    WHERE timestamp >= toDateTime64({start:UInt32}, 3, 'UTC')
        AND timestamp < toDateTime64({end:UInt32}, 3, 'UTC')
        AND scope IN {save_keys:Array(String)}
        AND job_id IS NOT NULL AND job_id != 0
        AND /*org_scope*/
) AS s ON c.j = s.j AND c.created_at < s.ts
ASOF LEFT JOIN
(
    SELECT assumeNotNull(obj_id) AS issue_id, timestamp AS ts
    FROM events
    WHERE timestamp >= toDateTime64({start:UInt32}, 3, 'UTC')
        AND timestamp < toDateTime64({end:UInt32}, 3, 'UTC')
        AND scope IN {resolve_scopes:Array(String)}
        AND obj_name = {resolve_field:String}
        AND obj_val IN {resolve_values:Array(String)}
        AND obj_id IS NOT NULL
        AND /*org_scope*/
) AS r ON c.issue_id = r.issue_id AND c.created_at <= r.ts
SETTINGS join_use_nulls = 1
