"""Server events as CVAT records them, produced by real API work and read back from ClickHouse."""

from __future__ import annotations

import json
from collections import Counter

from conftest import create_project_tree, rows


def scopes(clickhouse, where: str = "1", **parameters) -> Counter:
    found = rows(clickhouse, f"SELECT scope FROM events WHERE {where}", **parameters)
    return Counter(r["scope"] for r in found)


def test_creating_the_workspace_emits_one_create_event_per_object(org_api, ship, clickhouse):
    tree = create_project_tree(org_api)
    ship()
    assert scopes(clickhouse) == Counter(
        {
            "create:user": 1,
            "create:organization": 1,
            "create:membership": 1,
            "create:project": 1,
            "create:label": 2,
            "create:task": 2,
            "create:job": 4,
        }
    )
    project = rows(clickhouse, "SELECT * FROM events WHERE scope = 'create:project'")[0]
    assert project["obj_id"] == tree["project"]["id"]
    assert project["obj_name"] == "Cars"
    assert project["source"] == "server"
    assert (project["org_id"], project["org_slug"]) == (org_api.org["id"], "acme")
    assert (project["user_id"], project["user_name"]) == (org_api.user.id, "owner")
    assert project["user_email"] == "owner@example.com"
    job = rows(clickhouse, "SELECT * FROM events WHERE scope = 'create:job' ORDER BY obj_id LIMIT 1")[0]
    first_job, first_task = tree["jobs"][0], tree["tasks"][0]
    assert (job["job_id"], job["task_id"], job["project_id"]) == (
        first_job["id"],
        first_task["id"],
        tree["project"]["id"],
    )


def test_every_event_of_a_request_carries_its_x_request_id(org_api, ship, clickhouse):
    response = org_api.post(
        "/api/projects", {"name": "P", "labels": [{"name": "a"}, {"name": "b"}]}, format="json"
    )
    request_id = response["X-Request-Id"]
    ship()
    found = rows(
        clickhouse, "SELECT scope, payload FROM events WHERE scope IN ('create:project', 'create:label')"
    )
    assert len(found) == 3
    assert {json.loads(r["payload"])["request"]["id"] for r in found} == {request_id}


def test_an_update_emits_one_event_per_changed_field_with_old_value(org_api, ship, clickhouse):
    tree = create_project_tree(org_api, tasks=1, jobs_per_task=1)
    job_id = tree["jobs"][0]["id"]
    response = org_api.patch(
        f"/api/jobs/{job_id}", {"state": "completed", "stage": "validation"}, format="json"
    )
    assert response.status_code == 200, response.content
    ship()
    updates = rows(clickhouse, "SELECT * FROM events WHERE scope = 'update:job' ORDER BY obj_name")
    assert [(u["obj_name"], u["obj_val"]) for u in updates] == [
        ("stage", "validation"),
        ("state", "completed"),
    ]
    assert [json.loads(u["payload"])["old_value"] for u in updates] == ["annotation", "new"]
    assert all(u["job_id"] == job_id for u in updates)


def test_an_unchanged_save_emits_no_update(org_api, ship, clickhouse):
    tree = create_project_tree(org_api, tasks=1, jobs_per_task=1)
    org_api.patch(f"/api/jobs/{tree['jobs'][0]['id']}", {"state": "new"}, format="json")
    ship()
    assert scopes(clickhouse, "scope LIKE 'update:%'") == Counter()


def test_deleting_a_project_emits_the_cascade_in_one_request(org_api, ship, clickhouse):
    tree = create_project_tree(org_api)
    response = org_api.delete(f"/api/projects/{tree['project']['id']}")
    assert response.status_code == 204
    ship()
    deletes = rows(clickhouse, "SELECT scope, payload FROM events WHERE scope LIKE 'delete:%'")
    counts = Counter(d["scope"] for d in deletes)
    assert counts["delete:project"] == 1
    assert counts["delete:task"] == 2
    assert counts["delete:job"] == 4
    assert {json.loads(d["payload"])["request"]["id"] for d in deletes} == {response["X-Request-Id"]}
    job_deletes = rows(clickhouse, "SELECT project_id, org_id FROM events WHERE scope = 'delete:job'")
    assert {(d["project_id"], d["org_id"]) for d in job_deletes} == {
        (tree["project"]["id"], org_api.org["id"])
    }


def test_annotation_saves_emit_shapes_per_type_tags_and_tracks(org_api, ship, clickhouse):
    tree = create_project_tree(org_api, tasks=1, jobs_per_task=1)
    job_id = tree["jobs"][0]["id"]
    label_id = tree["project"]["labels"][0]["id"]
    body = {
        "version": 0,
        "tags": [{"label_id": label_id, "frame": 0, "attributes": []}],
        "shapes": [
            {"type": "rectangle", "label_id": label_id, "frame": 0, "points": [0, 0, 10, 10]},
            {"type": "rectangle", "label_id": label_id, "frame": 1, "points": [1, 1, 5, 5]},
            {"type": "polygon", "label_id": label_id, "frame": 0, "points": [0, 0, 5, 0, 5, 5]},
        ],
        "tracks": [
            {
                "label_id": label_id,
                "frame": 0,
                "shapes": [{"type": "rectangle", "frame": 0, "points": [0, 0, 1, 1]}],
            }
        ],
    }
    response = org_api.put(f"/api/jobs/{job_id}/annotations", body, format="json")
    assert response.status_code == 200, response.content
    ship()
    found = rows(
        clickhouse,
        "SELECT scope, obj_name, count, job_id FROM events WHERE scope LIKE 'create:%s' "
        "AND scope IN ('create:shapes', 'create:tags', 'create:tracks') ORDER BY scope, obj_name",
    )
    assert [(r["scope"], r["obj_name"], r["count"]) for r in found] == [
        ("create:shapes", "polygon", 1),
        ("create:shapes", "rectangle", 2),
        ("create:tags", None, 1),
        ("create:tracks", "rectangle", 1),
    ]
    assert {r["job_id"] for r in found} == {job_id}

    response = org_api.delete(f"/api/jobs/{job_id}/annotations")
    assert response.status_code in (200, 204)
    ship()
    assert scopes(clickhouse, "scope LIKE 'delete:%' AND scope != 'delete:job'") == Counter(
        {"delete:shapes": 2, "delete:tags": 1, "delete:tracks": 1}
    )


def test_api_errors_emit_send_exception_except_not_authenticated(org_api, ship, clickhouse, api):
    missing = org_api.get("/api/projects/987654")
    assert missing.status_code == 404
    bad = org_api.post("/api/projects", {"labels": []}, format="json")
    assert bad.status_code == 400
    ship()
    found = rows(clickhouse, "SELECT * FROM events WHERE scope = 'send:exception' ORDER BY timestamp")
    assert [json.loads(r["payload"])["status_code"] for r in found] == [404, 400]
    assert all(r["source"] == "server" and r["user_id"] == org_api.user.id for r in found)
    assert json.loads(found[0]["payload"])["request"]["id"] == missing["X-Request-Id"]

    api.force_authenticate(None)
    api.credentials()
    assert api.get("/api/projects").status_code == 401
    ship()
    assert len(rows(clickhouse, "SELECT 1 FROM events WHERE scope = 'send:exception'")) == 2


def test_every_response_carries_a_request_id(api):
    first, second = api.get("/api/projects"), api.get("/api/projects")
    assert first["X-Request-Id"] and first["X-Request-Id"] != second["X-Request-Id"]


def test_a_failed_request_emits_no_change_events(org_api, ship, clickhouse):
    tree = create_project_tree(org_api, tasks=1, jobs_per_task=1)
    ship()
    before = scopes(clickhouse)
    response = org_api.patch(f"/api/jobs/{tree['jobs'][0]['id']}", {"state": "not-a-state"}, format="json")
    assert response.status_code == 400
    ship()
    after = scopes(clickhouse)
    assert after - before == Counter({"send:exception": 1})
