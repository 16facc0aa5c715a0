"""Garbage in, a 4xx JSON answer out: no request body or query string reaches a 500."""

from __future__ import annotations

import pytest

from test_domain_helpers import build_world, make_project_tree, use_fast_passwords

GARBAGE = [
    None,
    [],
    "text",
    42,
    {"name": None},
    {"name": ["x"], "labels": [1, "a", None]},
    {"name": "x" * 1000},
    {"project_id": {"a": 1}, "task_id": [1], "job": "one", "issue": 1.5, "frame": 2**40},
    {"assignee": True, "assignee_id": "x", "stage": None, "state": 7, "resolved": "maybe"},
    {"position": [[1, 2]], "frame": "0", "message": {"a": 1}},
    {"organization": "acme", "user": {"id": 1}, "role": None, "slug": 5},
    {"tags": {"a": 1}, "shapes": [None, 1, "x", {}], "tracks": [{"shapes": "x"}], "version": 2**70},
    {"shapes": [{"type": "rectangle", "frame": 2**40, "label_id": 2**70, "points": [1e300, 0, 0, 0]}]},
    {"shapes": [{"id": 2**80}], "tags": [{"id": -1}], "tracks": [{"id": "1"}]},
    {"expiry_date": "yesterday", "username": "", "password": None, "email": ["x"]},
]
QUERIES = [
    "",
    "?page=abc",
    "?page_size=-1",
    "?project_id=x",
    "?task_id=99999999999999999999",
    "?org=",
    "?action=x",
    "?job_id=1.5&resolved=perhaps&organization=x&user=y&stage=z",
]


@pytest.fixture
def targets(api, settings):
    use_fast_passwords(settings)
    world = build_world()
    client = world.acme_client("alice")
    tree = make_project_tree(client)
    job = tree["job"]["id"]
    urls = [
        "/api/auth/register",
        "/api/auth/tokens",
        "/api/users",
        "/api/organizations",
        "/api/memberships",
        "/api/projects",
        "/api/tasks",
        "/api/jobs",
        "/api/labels",
        "/api/issues",
        "/api/comments",
        f"/api/users/{world.users['alice'].pk}",
        f"/api/organizations/{world.acme.pk}",
        f"/api/projects/{tree['project']['id']}",
        f"/api/tasks/{tree['task']['id']}",
        f"/api/jobs/{job}",
        f"/api/labels/{tree['labels'][0]['id']}",
        f"/api/issues/{tree['issue']['id']}",
        f"/api/comments/{tree['comment']['id']}",
        f"/api/jobs/{job}/annotations",
    ]
    return client, urls


def test_garbage_never_causes_a_500(targets):
    client, urls = targets
    for url in urls:
        for query in QUERIES:
            assert client.get(url + query).status_code < 500, (url, query)
        for body in GARBAGE:
            for method in ("post", "put", "patch"):
                response = getattr(client, method)(url + "?action=create", body, format="json")
                assert response.status_code < 500, (method, url, body, response.content)
                if response.status_code >= 400:
                    assert response["Content-Type"].startswith("application/json"), (method, url, body)


def test_huge_ids_are_404(targets):
    client, _ = targets
    for kind in ("projects", "tasks", "jobs", "labels", "issues", "comments", "organizations", "users"):
        assert client.get(f"/api/{kind}/{10**30}").status_code == 404
        assert client.delete(f"/api/{kind}/{10**30}").status_code == (405 if kind == "users" else 404)
    assert client.get(f"/api/jobs/{10**30}/annotations").status_code == 404


def test_malformed_json_and_infinite_numbers_are_400(targets):
    client, urls = targets
    response = client.generic("POST", "/api/projects", "{not json", content_type="application/json")
    assert response.status_code == 400
    annotations = urls[-1]
    for points in ("[1e400, 0, 0, 0]", "[NaN, 0, 0, 0]"):
        body = '{"shapes": [{"type": "rectangle", "frame": 0, "label_id": 1, "points": POINTS}]}'
        body = body.replace("POINTS", points)
        response = client.generic("PUT", annotations, body, content_type="application/json")
        assert response.status_code == 400, response.content
