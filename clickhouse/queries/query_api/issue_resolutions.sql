-- Issue resolutions per time bucket: every event with a `resolved` key (the registry's
-- issues_resolved keys, `update:issue:resolved=true`) in [start, end) and in scope, paired with
-- the creation of the same issue (obj_id; the registry's issues_created keys, looked up in the
-- scope's organizations at any time before `end`). `paired` counts the resolutions whose
-- creation was found at or before them; total_ms / max_ms are over those. Bucket index i as in
-- sums_raw.sql.
SELECT
    if({monthly:Bool},
       toInt64(toYear(r.bucket)) * 12 + toMonth(r.bucket) - 1 - {month0:Int64},
       intDiv(toInt64(toUInt32(r.bucket)) - {origin:Int64}, {step:Int64})) AS i,
    count() AS resolved,
    countIf(c.created IS NOT NULL AND c.created <= r.ts) AS paired,
    ifNull(sumIf(dateDiff('millisecond', c.created, r.ts), c.created IS NOT NULL AND c.created <= r.ts), 0)
        AS total_ms,
    ifNull(maxIf(dateDiff('millisecond', c.created, r.ts), c.created IS NOT NULL AND c.created <= r.ts), 0)
        AS max_ms
FROM
(
    SELECT toDateTime(timestamp, 'UTC') AS bucket, timestamp AS ts, obj_id
    FROM events
    WHERE timestamp >= toDateTime64({start:UInt32}, 3, 'UTC')
        AND timestamp < toDateTime64({end:UInt32}, 3, 'UTC')
        AND scope IN {resolve_scopes:Array(String)}
        AND obj_name = {resolve_field:String}
        AND obj_val IN {resolve_values:Array(String)}
        AND /*scope*/
) AS r
LEFT JOIN
(
    SELECT assumeNotNull(obj_id) AS obj_id, min(timestamp) AS created
    FROM events
    WHERE timestamp < toDateTime64({end:UInt32}, 3, 'UTC')
        AND scope IN {create_keys:Array(String)}
        AND obj_id IS NOT NULL
        AND /*org_scope*/
    GROUP BY obj_id
) AS c ON r.obj_id = c.obj_id
GROUP BY i
SETTINGS join_use_nulls = 1
