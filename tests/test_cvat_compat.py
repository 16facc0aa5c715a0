"""The CVAT-compatible surface without CVAT's clients: media type, JSON 404s, about, sign-in key and
sign-out, CVAT's access-token routes, `org_id` as organization context, the requests list, the
events answer, and the read models' summary fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import AccessToken
from conftest import create_project_tree

CVAT_JSON = "application/vnd.cvat+json; version=2.80"


def test_cvat_media_type_is_json_for_reads_and_writes(org_api):
    response = org_api.get("/api/projects", HTTP_ACCEPT=CVAT_JSON)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.cvat+json")
    assert response.json()["count"] == 0
    created = org_api.generic(
        "POST",
        "/api/projects",
        json.dumps({"name": "Cars", "labels": [{"name": "car"}]}),
        content_type="application/vnd.cvat+json",
        HTTP_ACCEPT="application/vnd.cvat+json",
    )
    assert created.status_code == 201, created.content
    assert json.loads(created.content)["name"] == "Cars"
    # And where a view names its parsers itself (the measure query API).
    query = org_api.generic(
        "POST", "/api/analytics/query", json.dumps({}), content_type=CVAT_JSON, HTTP_ACCEPT=CVAT_JSON
    )
    # Parsed (not 415): the 400 is the query's own validation, naming a field.
    assert query.status_code == 400 and "Unsupported media type" not in query.content.decode()


@pytest.mark.parametrize("method", ["get", "post", "delete", "patch"])
def test_unknown_api_routes_answer_json_404(api, method):
    for path in ("/api/nothing", "/api/projects/1/nothing", "/api/server/share"):
        response = getattr(api, method)(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json" and "detail" in response.json()


def test_a_missing_slash_still_redirects_to_a_real_route(api):
    response = api.get("/api/schema?format=json")
    assert response.status_code == 301 and response["Location"] == "/api/schema/?format=json"


def test_about_is_open_and_names_the_cvat_api_level(api):
    about = api.get("/api/server/about")
    assert about.status_code == 200
    body = about.json()
    assert body["version"] == "2.80.0" and body["server_version"]
    assert set(body) >= {"name", "description", "version", "logo_url", "subtitle"}


def test_login_answers_the_session_key_and_logout_ends_it(api, make_user):
    make_user("ann", password="pw")
    login = api.post("/api/auth/login", {"username": "ann", "password": "pw"}, format="json")
    assert login.status_code == 200
    key = login.json()["key"]
    # CVAT's SDK takes at most 40 characters there; the key is the session's, nothing new is made.
    assert key == api.cookies["sessionid"].value and len(key) <= 40
    assert login.json()["user"]["username"] == "ann" and login.json()["user"]["groups"] == ["user"]
    assert not AccessToken.objects.exists()
    with_key = type(api)()
    with_key.cookies["sessionid"] = key
    assert with_key.get("/api/users/self").json()["username"] == "ann"
    # The legacy `Token <key>` header of CVAT is not a second token format here.
    assert type(api)().get("/api/users/self", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    logout = api.post("/api/auth/logout")
    assert logout.status_code == 200 and logout.json() == {"detail": "Successfully logged out."}
    assert with_key.get("/api/users/self").status_code == 401
    # Signing out without a session is still a 200.
    assert api.post("/api/auth/logout").status_code == 200


def test_cvat_access_token_routes(api, make_user):
    ann, bob = make_user("ann"), make_user("bob")
    api.force_authenticate(ann)
    expiry = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    created = api.post("/api/auth/access_tokens", {"name": "ci", "expiry_date": expiry}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["value"] and body["read_only"] is False and body["owner"]["username"] == "ann"
    refused = api.post("/api/auth/access_tokens", {"name": "ro", "read_only": True}, format="json")
    assert refused.status_code == 400 and "read_only" in refused.json()
    past = api.post(
        "/api/auth/access_tokens", {"name": "old", "expiry_date": "2020-01-01T00:00:00Z"}, format="json"
    )
    assert past.status_code == 400 and "expiry_date" in past.json()
    assert api.post("/api/auth/access_tokens", {}, format="json").json().keys() == {"name"}
    # Nobody else's tokens; `self` needs a token-authenticated request.
    api.force_authenticate(bob)
    assert api.get("/api/auth/access_tokens").json()["count"] == 0
    assert api.get(f"/api/auth/access_tokens/{body['id']}").status_code == 404
    assert api.get("/api/auth/access_tokens/self").status_code == 404
    api.force_authenticate(None)
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['value']}")
    assert api.get("/api/auth/access_tokens/self").json()["id"] == body["id"]
    assert (
        api.patch(f"/api/auth/access_tokens/{body['id']}", {"name": "ci-2"}, format="json").json()["name"]
        == "ci-2"
    )
    assert api.delete(f"/api/auth/access_tokens/{body['id']}").status_code == 204
    assert api.get("/api/users/self").status_code == 401
    assert AccessToken.objects.get(pk=body["id"]).revoked


def test_org_id_names_the_organization_context(org_api, make_user):
    create_project_tree(org_api, tasks=0)
    org_id = org_api.org["id"]
    org_api.credentials()
    assert org_api.get(f"/api/projects?org_id={org_id}").json()["count"] == 1
    assert org_api.get(f"/api/projects?org_id={org_id}&org=acme").json()["count"] == 1
    conflict = org_api.get(f"/api/projects?org_id={org_id + 1}&org=acme")
    assert conflict.status_code == 400 and "org_id" in json.dumps(conflict.json())
    assert org_api.get("/api/projects?org_id=abc").status_code == 400
    # No such organization: as for one the caller is not a member of (superusers: 404).
    assert org_api.get(f"/api/projects?org_id={org_id + 99}").status_code == 403
    org_api.force_authenticate(make_user("stranger"))
    forbidden = org_api.get(f"/api/projects?org_id={org_id}")
    assert forbidden.status_code == 403 and "org_id" in forbidden.json()


def test_events_answer_is_cvats_client_events_shape(org_api):
    tree = create_project_tree(org_api, tasks=1, jobs_per_task=1)
    now = datetime.now(UTC)
    body = {
        "timestamp": now.isoformat(),
        "previous_event": {"scope": "load:job", "timestamp": (now - timedelta(seconds=5)).isoformat()},
        "events": [
            {
                "scope": "draw:object",
                "timestamp": (now - timedelta(seconds=1)).isoformat(),
                "job_id": tree["jobs"][0]["id"],
                "payload": json.dumps({"shape": "rectangle"}),
            }
        ],
    }
    answer = org_api.post("/api/events", body, format="json").json()
    assert set(answer) == {"events", "timestamp", "previous_event", "working_time"}
    assert json.loads(answer["events"][0]["payload"]) == {"shape": "rectangle"}
    assert answer["previous_event"]["scope"] == "load:job" and isinstance(
        answer["previous_event"]["payload"], str
    )
    assert all(isinstance(w["payload"], str) for w in answer["working_time"])


def test_requests_list_is_own_paginated_and_filtered(org_api, make_user):
    started = [org_api.post("/api/events/export").json()["rq_id"] for _ in range(3)]
    listed = org_api.get("/api/requests?page_size=2").json()
    assert listed["count"] == 3 and len(listed["results"]) == 2 and listed["next"]
    assert {r["id"] for r in org_api.get("/api/requests").json()["results"]} == set(started)
    first = listed["results"][0]
    assert first["operation"]["type"] == "export:events" and first["operation"]["org_id"] == org_api.org["id"]
    assert org_api.get("/api/requests?status=finished").json()["count"] == 0
    assert org_api.get("/api/requests?status=done").status_code == 400
    org_api.force_authenticate(make_user("other"))
    org_api.credentials()
    assert org_api.get("/api/requests").json()["count"] == 0


def test_read_models_carry_cvats_summary_fields(org_api):
    tree = create_project_tree(org_api, tasks=2, jobs_per_task=2)
    project, task, job = tree["project"], tree["tasks"][0], tree["jobs"][0]
    # On creation (counted for the one object) and on reads (annotated on the queryset).
    assert project["tasks"]["count"] == 0 and task["jobs"]["count"] == 0 and job["issues"]["count"] == 0
    org_api.patch(f"/api/jobs/{job['id']}", {"stage": "acceptance", "state": "completed"}, format="json")
    org_api.patch(f"/api/jobs/{tree['jobs'][1]['id']}", {"stage": "validation"}, format="json")
    read = org_api.get(f"/api/projects/{project['id']}").json()
    assert read["tasks"] == {"count": 2, "url": f"http://testserver/api/tasks?project_id={project['id']}"}
    tasks = {t["id"]: t["jobs"] for t in org_api.get("/api/tasks").json()["results"]}
    assert tasks[task["id"]] == {
        "count": 2,
        "completed": 1,
        "validation": 1,
        "url": f"http://testserver/api/jobs?task_id={task['id']}",
    }
    assert tasks[tree["tasks"][1]["id"]]["completed"] == 0
    org_api.post("/api/issues", {"job": job["id"], "frame": 0, "position": [0, 0, 1, 1]}, format="json")
    read_job = org_api.get(f"/api/jobs/{job['id']}").json()
    assert read_job["issues"]["count"] == 1 and read_job["labels"]["url"].endswith(
        f"/api/labels?job_id={job['id']}"
    )
