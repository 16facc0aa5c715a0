-- Time of the newest raw event in a scope, and how many events the scope has (data lag).
SELECT max(timestamp) AS last_timestamp, count() AS n
FROM events
WHERE ({all_orgs:Bool} OR org_id IN {org_ids:Array(UInt64)})
    AND ({any_project:Bool} OR project_id IN {project_ids:Array(UInt64)})
    AND ({any_task:Bool} OR task_id IN {task_ids:Array(UInt64)})
    AND ({any_job:Bool} OR job_id IN {job_ids:Array(UInt64)})
    AND ({any_user:Bool} OR user_id IN {user_ids:Array(UInt64)})
