"""The reads Dataloop's SDK makes (annotation/dataloop.py): projects by name, datasets (tasks) by
query and by id, `/users/me`; only the caller's visible rows, bad input a 400 naming the field.
The SDK itself drives them in test_dtlpy_client.py."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from annotation.dataloop import dataloop_time
from annotation.models import Project, Task


def client_for(user, org: str | None = None) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    if org:
        client.credentials(HTTP_X_ORGANIZATION=org)
    return client


def ok(response, status: int = 200):
    assert response.status_code == status, response.content
    return response.json()


@pytest.fixture
def world(api, make_user):
    alice, dave = make_user("alice"), make_user("dave")
    ids: dict[str, int] = {}
    for user, slug in ((alice, "acme"), (dave, "globex")):
        client = client_for(user)
        ok(client.post("/api/organizations", {"slug": slug}, format="json"), 201)
        client.credentials(HTTP_X_ORGANIZATION=slug)
        for name in ("Cars", "a/b"):
            project = ok(client.post("/api/projects", {"name": name}, format="json"), 201)
            ids[f"{slug}:{name}"] = project["id"]
            for task_name in ("train", "val"):
                body = {"name": task_name, "project_id": project["id"]}
                task = ok(client.post("/api/tasks", body, format="json"), 201)
                ids[f"{slug}:{name}:{task_name}"] = task["id"]
        ok(client.post("/api/jobs", {"task_id": ids[f"{slug}:Cars:train"]}, format="json"), 201)
        ok(client.post("/api/jobs", {"task_id": ids[f"{slug}:Cars:train"]}, format="json"), 201)
    return {"alice": alice, "dave": dave, "ids": ids}


def query(client, body):
    return client.post("/api/datasets/query", body, format="json")


def names_filter(*conditions, projects=None, **extra):
    body = {
        "filter": {"$and": list(conditions)},
        "page": 0,
        "pageSize": 1000,
        "resource": "datasets",
        **extra,
    }
    if projects is not None:
        body["context"] = {"projects": projects}
    return body


def test_projects_by_name_are_the_visible_ones_in_dataloop_shape(world):
    alice, ids = client_for(world["alice"]), world["ids"]
    (project,) = ok(alice.get("/api/projects/Cars/name"))
    row = Project.objects.get(pk=ids["acme:Cars"])
    assert project["id"] == str(row.pk) and project["name"] == "Cars"
    assert project["createdAt"] == dataloop_time(row.created_date) and project["createdAt"].endswith("Z")
    assert project["creator"] == "alice@example.com" and project["org"] == str(row.organization_id)
    # a "/" in the name, as dtlpy sends it (unescaped)
    assert [p["id"] for p in ok(alice.get("/api/projects/a/b/name"))] == [str(ids["acme:a/b"])]
    assert [p["id"] for p in ok(alice.get("/api/projects/a%2Fb/name"))] == [str(ids["acme:a/b"])]
    # names are exact; nothing visible is a 404 (dtlpy: "Project not found")
    for missing in ("cars", "Car", "Nothing"):
        response = alice.get(f"/api/projects/{missing}/name")
        assert response.status_code == 404 and "detail" in response.json()
    # the organization context narrows it
    response = client_for(world["alice"], "acme").get("/api/projects/Cars/name")
    assert [p["id"] for p in response.json()] == [str(ids["acme:Cars"])]
    assert APIClient().get("/api/projects/Cars/name").status_code == 401


def test_datasets_query_by_name_in_a_project(world):
    alice, ids = client_for(world["alice"]), world["ids"]
    answer = ok(query(alice, names_filter({"name": "train"}, projects=[str(ids["acme:Cars"])])))
    assert answer["totalItemsCount"] == 1 and answer["hasNextPage"] is False
    (dataset,) = answer["items"]
    task = Task.objects.get(pk=ids["acme:Cars:train"])
    assert dataset == {
        "id": str(task.pk),
        "name": "train",
        "projects": [str(ids["acme:Cars"])],
        "org": str(task.organization_id),
        "creator": "alice@example.com",
        "createdAt": dataloop_time(task.created_date),
        "updatedAt": dataloop_time(task.updated_date),
        "itemsCount": 2,
        "readonly": False,
    }
    # without a project: every visible task of that name (not globex's)
    answer = ok(query(alice, names_filter({"name": "train"})))
    assert sorted(d["id"] for d in answer["items"]) == sorted(
        str(ids[k]) for k in ("acme:Cars:train", "acme:a/b:train")
    )
    # another organization's project: nothing (not its tasks)
    answer = ok(query(alice, names_filter({"name": "train"}, projects=[str(ids["globex:Cars"])])))
    assert answer["items"] == [] and answer["totalItemsCount"] == 0
    # ids, with $in
    wanted = [str(ids["acme:Cars:val"]), str(ids["globex:Cars:val"])]
    answer = ok(query(alice, names_filter({"id": {"$in": wanted}})))
    assert [d["id"] for d in answer["items"]] == [str(ids["acme:Cars:val"])]


def test_datasets_query_pages(world):
    alice = client_for(world["alice"])
    seen, page = [], 0
    while True:
        answer = ok(query(alice, {**names_filter(), "page": page, "pageSize": 3}))
        assert answer["totalItemsCount"] == 4 and answer["totalPagesCount"] == 2
        seen += [d["id"] for d in answer["items"]]
        if not answer["hasNextPage"]:
            break
        page += 1
    assert page == 1 and len(set(seen)) == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (names_filter({"readonly": False}), "filter.$and[0].readonly"),
        (names_filter({"name": {"$eq": "x"}}), "filter.$and[0].name"),
        (names_filter({"name": 3}), "filter.$and[0].name"),
        (names_filter({"id": "abc"}), "filter.$and[0].id"),
        (names_filter({"id": str(2**64)}), "filter.$and[0].id"),
        (names_filter({"name": "a", "id": "1"}), "filter.$and[0]"),
        ({"filter": {"$or": [{"name": "a"}]}}, "filter"),
        ({"filter": {"$and": {"name": "a"}}}, "filter"),
        (names_filter(projects=["x"]), "context.projects"),
        ({**names_filter(), "context": {"datasets": ["1"]}}, "context"),
        ({**names_filter(), "pageSize": 0}, "pageSize"),
        ({**names_filter(), "pageSize": 1001}, "pageSize"),
        ({**names_filter(), "page": -1}, "page"),
        ({**names_filter(), "page": "1"}, "page"),
        ({**names_filter(), "resource": "items"}, "resource"),
        ({**names_filter(), "sort": {"name": "ascending"}}, "sort"),
    ],
)
def test_datasets_query_bad_input_is_a_400_naming_the_field(world, body, field):
    response = query(client_for(world["alice"]), body)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_a_dataset_by_id(world):
    alice, ids = client_for(world["alice"]), world["ids"]
    dataset = ok(alice.get(f"/api/datasets/{ids['acme:Cars:val']}"))
    assert dataset["name"] == "val" and dataset["itemsCount"] == 0
    for hidden in (ids["globex:Cars:val"], 0, 2**64, 999_999):
        assert alice.get(f"/api/datasets/{hidden}").status_code == 404
    assert APIClient().get(f"/api/datasets/{ids['acme:Cars:val']}").status_code == 401


def test_users_me_is_users_self(world):
    alice = client_for(world["alice"])
    assert ok(alice.get("/api/users/me")) == ok(alice.get("/api/users/self"))
    assert ok(alice.get("/api/users/me"))["email"] == "alice@example.com"
    assert APIClient().get("/api/users/me").status_code == 401
