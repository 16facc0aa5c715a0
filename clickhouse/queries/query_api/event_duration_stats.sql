-- Per job and action: statistics of the `duration` of single events in [start, end). An action is
-- one entry of `action_keys` (the scope keys of one registry metric, e.g. objects_drawn ->
-- ['draw:object']); `a` is its 1-based position. units = ifNull(count, 1), as in the rollups.
-- p50/p90: quantileExact, i.e. the value at position floor(level * n) of the sorted durations.
SELECT
    ifNull(job_id, 0) AS j,
    ifNull(task_id, 0) AS t,
    ifNull(project_id, 0) AS p,
    arrayFirstIndex(keys -> has(keys, toString(scope)), {action_keys:Array(Array(String))}) AS a,
    count() AS events,
    sum(ifNull(count, 1)) AS units,
    sum(duration) AS total,
    min(duration) AS shortest,
    max(duration) AS longest,
    quantileExact(0.5)(duration) AS p50,
    quantileExact(0.9)(duration) AS p90
FROM events
WHERE timestamp >= toDateTime64({start:UInt32}, 3, 'UTC')
    AND timestamp < toDateTime64({end:UInt32}, 3, 'UTC')
    AND scope IN {scopes:Array(String)}
    AND job_id IS NOT NULL AND job_id != 0
    AND /*scope*/
GROUP BY j, t, p, a
