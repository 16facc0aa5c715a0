-- Newest rollup bucket per metric_key in a scope (for /api/analytics/kpis/status).
SELECT metric_key, max(bucket) AS last_bucket
FROM rollup_5m
WHERE ({all_orgs:Bool} OR org_id IN {org_ids:Array(UInt64)})
    AND ({any_project:Bool} OR project_id IN {project_ids:Array(UInt64)})
    AND ({any_task:Bool} OR task_id IN {task_ids:Array(UInt64)})
    AND ({any_job:Bool} OR job_id IN {job_ids:Array(UInt64)})
    AND ({any_user:Bool} OR user_id IN {user_ids:Array(UInt64)})
GROUP BY metric_key
