"""object_names (store/schema.py, migration 0010_object_names): the latest name of every object and
user, kept by materialized views from create/update events, and backfilled by the migration."""

from __future__ import annotations

from conftest import create_project_tree, rows
from store.clickhouse_migrations import MIGRATIONS
from store.ddl import SINGLE_NODE

LATEST = (
    "SELECT kind, id, argMax(name, updated_at) AS name, argMax(org_id, updated_at) AS org_id"
    " FROM object_names GROUP BY kind, id"
)


def names(clickhouse) -> dict[tuple[str, int], tuple[str, int]]:
    return {(r["kind"], r["id"]): (r["name"], r["org_id"]) for r in rows(clickhouse, LATEST)}


def test_names_follow_creates_and_renames(org_api, ship, clickhouse):
    tree = create_project_tree(org_api, "Cars", tasks=1, jobs_per_task=1)
    project, task, job = tree["project"], tree["tasks"][0], tree["jobs"][0]
    org = org_api.org
    assert (
        org_api.patch(f"/api/projects/{project['id']}", {"name": "Cars v2"}, format="json").status_code == 200
    )
    assert (
        org_api.patch(f"/api/projects/{project['id']}", {"name": "Cars v3"}, format="json").status_code == 200
    )
    assert (
        org_api.patch(f"/api/tasks/{task['id']}", {"name": "Night shots"}, format="json").status_code == 200
    )
    assert (
        org_api.patch(f"/api/organizations/{org['id']}", {"name": "Acme Inc"}, format="json").status_code
        == 200
    )
    ship()
    found = names(clickhouse)
    assert found[("project", project["id"])] == ("Cars v3", org["id"])
    assert found[("task", task["id"])] == ("Night shots", org["id"])
    assert found[("job", job["id"])] == (f"Job #{job['id']}", org["id"])
    assert found[("organization", org["id"])] == ("Acme Inc", org["id"])
    assert found[("user", org_api.user.id)][0] == "owner"
    labels = [name for (kind, _), (name, _) in found.items() if kind == "label"]
    assert sorted(labels) == ["car", "person"]
    # Other updates (a job's state) never become a name.
    assert org_api.patch(f"/api/jobs/{job['id']}", {"state": "completed"}, format="json").status_code == 200
    ship()
    assert names(clickhouse)[("job", job["id"])][0] == f"Job #{job['id']}"


def test_the_table_merges_like_every_other_view_target(clickhouse):
    (create,) = rows(
        clickhouse,
        "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'object_names'",
    )
    assert create["engine_full"].startswith("ReplacingMergeTree(updated_at)")
    assert "non_replicated_deduplication_window = 10000" in create["engine_full"]


def test_the_migration_backfills_names_of_earlier_events(org_api, ship, clickhouse):
    tree = create_project_tree(org_api, "Boats", tasks=1, jobs_per_task=1)
    ship()
    clickhouse.command("TRUNCATE TABLE object_names")
    assert names(clickhouse) == {}
    migration = next(m for m in MIGRATIONS if m.label == "0010_object_names")
    for statement in migration.statements(SINGLE_NODE):
        if statement.startswith("INSERT"):
            clickhouse.command(statement)
            clickhouse.command(statement)  # re-running it changes nothing
    found = names(clickhouse)
    assert found[("project", tree["project"]["id"])][0] == "Boats"
    assert found[("user", org_api.user.id)][0] == "owner"
    assert rows(clickhouse, "SELECT count() AS n FROM object_names FINAL")[0]["n"] == len(found)
