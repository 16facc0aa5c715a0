-- The latest name of every organization, project, task, job, label and user, so that dashboards
-- can show names beside ids (CVAT's dashboards show bare ids; cvat-ai/cvat#6672, #6792).
--
-- Filled by two materialized views on `events`:
--   object_names_objects_mv  create:<kind> events carry the name in obj_name; update:<kind> events
--                            of the name field (obj_name 'name', or 'username' for users) carry
--                            the new name in obj_val;
--   object_names_users_mv    every event carries its actor's user_id and user_name.
-- Each view collapses its insert block to one row per (kind, id) holding the name of the newest
-- event in the block; ReplacingMergeTree(updated_at) keeps, per (kind, id), the row with the
-- greatest updated_at once parts merge. Merges are lazy, so a reader must collapse too:
--   SELECT id, argMax(name, updated_at) AS name FROM object_names WHERE kind = 'project' GROUP BY id
-- (or FROM object_names FINAL). org_id is the organization of that newest event (0 = none); a
-- user who works in several organizations has one row, with the organization they acted in last,
-- so never filter user names by org_id: join them to rows already limited to an organization.
--
-- non_replicated_deduplication_window: like every other materialized-view target, so that a
-- batch retried with the same insert_deduplication_token is not written twice through the views.
CREATE TABLE IF NOT EXISTS object_names
(
    `kind` LowCardinality(String),
    `id` UInt64,
    `name` String,
    `org_id` UInt64,
    `updated_at` DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (kind, id)
SETTINGS
    index_granularity = 8192,
    non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS object_names_objects_mv TO object_names AS
SELECT
    substring(scope, position(scope, ':') + 1) AS kind,
    assumeNotNull(obj_id) AS id,
    argMax(if(startsWith(scope, 'update:'), assumeNotNull(obj_val), assumeNotNull(obj_name)), timestamp) AS name,
    argMax(ifNull(org_id, 0), timestamp) AS org_id,
    max(timestamp) AS updated_at
FROM events
WHERE obj_id IS NOT NULL
    AND (
        (scope IN ('create:organization', 'create:project', 'create:task', 'create:job', 'create:label', 'create:user')
            AND obj_name IS NOT NULL AND obj_name != '')
        OR (scope IN ('update:organization', 'update:project', 'update:task', 'update:label')
            AND obj_name = 'name' AND obj_val IS NOT NULL AND obj_val != '')
        OR (scope = 'update:user' AND obj_name = 'username' AND obj_val IS NOT NULL AND obj_val != '')
    )
GROUP BY kind, id;

CREATE MATERIALIZED VIEW IF NOT EXISTS object_names_users_mv TO object_names AS
SELECT
    'user' AS kind,
    assumeNotNull(user_id) AS id,
    argMax(assumeNotNull(user_name), timestamp) AS name,
    argMax(ifNull(org_id, 0), timestamp) AS org_id,
    max(timestamp) AS updated_at
FROM events
WHERE user_id IS NOT NULL AND user_name IS NOT NULL AND user_name != ''
GROUP BY id;

-- Names of everything that happened before this migration (the views only see new inserts).
-- Re-running it is harmless: equal (kind, id, updated_at) rows collapse on merge.
INSERT INTO object_names
SELECT
    substring(scope, position(scope, ':') + 1) AS kind,
    assumeNotNull(obj_id) AS id,
    argMax(if(startsWith(scope, 'update:'), assumeNotNull(obj_val), assumeNotNull(obj_name)), timestamp) AS name,
    argMax(ifNull(org_id, 0), timestamp) AS org_id,
    max(timestamp) AS updated_at
FROM events
WHERE obj_id IS NOT NULL
    AND (
        (scope IN ('create:organization', 'create:project', 'create:task', 'create:job', 'create:label', 'create:user')
            AND obj_name IS NOT NULL AND obj_name != '')
        OR (scope IN ('update:organization', 'update:project', 'update:task', 'update:label')
            AND obj_name = 'name' AND obj_val IS NOT NULL AND obj_val != '')
        OR (scope = 'update:user' AND obj_name = 'username' AND obj_val IS NOT NULL AND obj_val != '')
    )
GROUP BY kind, id;

INSERT INTO object_names
SELECT
    'user' AS kind,
    assumeNotNull(user_id) AS id,
    argMax(assumeNotNull(user_name), timestamp) AS name,
    argMax(ifNull(org_id, 0), timestamp) AS org_id,
    max(timestamp) AS updated_at
FROM events
WHERE user_id IS NOT NULL AND user_name IS NOT NULL AND user_name != ''
GROUP BY id;
