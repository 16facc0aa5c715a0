"""Projects, tasks, jobs, labels, issues and comments: CRUD, role rules, no-organization objects."""

from __future__ import annotations

import pytest

from annotation.models import Comment, Issue, Job, Label, LabeledShape, Project, Task
from test_domain_helpers import build_world, make_project_tree, ok, use_fast_passwords


@pytest.fixture
def world(api, settings):
    use_fast_passwords(settings)
    return build_world()


# --- CRUD -------------------------------------------------------------------------------------------


def test_project_crud_with_labels(world):
    alice = world.acme_client("alice")
    project = ok(
        alice.post(
            "/api/projects",
            {"name": "Cars", "labels": [{"name": "car"}, {"name": "bus", "color": "#00ff00"}]},
        ),
        201,
    )
    assert project["organization"] == world.acme.pk and project["owner"]["username"] == "alice"
    assert [(lb["name"], lb["type"]) for lb in project["labels"]] == [("car", "any"), ("bus", "any")]
    assert project["labels"][0]["color"].startswith("#") and project["labels"][1]["color"] == "#00ff00"
    url = f"/api/projects/{project['id']}"
    assert ok(alice.get(url))["name"] == "Cars"
    changed = ok(
        alice.patch(
            url, {"name": "Vehicles", "assignee_id": world.users["wendy"].pk, "labels": [{"name": "truck"}]}
        )
    )
    assert changed["name"] == "Vehicles" and changed["assignee"]["username"] == "wendy"
    assert [lb["name"] for lb in changed["labels"]] == ["car", "bus", "truck"]
    assert ok(alice.get("/api/projects"))["count"] == 1
    ok(alice.delete(url), 204)
    assert not Project.objects.exists() and not Label.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x", "labels": [{"name": "a"}, {"name": "a"}]}, "labels"),
        ({"name": "x", "labels": [{"name": "a", "color": "red"}]}, "labels"),
        ({"name": "x", "labels": [{"name": "a", "type": "blob"}]}, "labels"),
        ({"name": "x", "labels": "car"}, "labels"),
        ({"name": "x", "assignee_id": 99999}, "assignee_id"),
        ({"name": "x", "assignee": "bob"}, "assignee"),  # not a member of acme
    ],
)
def test_project_bad_input_is_400_naming_the_field(world, data, field):
    response = world.acme_client("alice").post("/api/projects", data)
    assert response.status_code == 400 and field in response.json(), response.json()


def test_task_crud(world):
    alice = world.acme_client("alice")
    project = ok(alice.post("/api/projects", {"name": "P", "labels": [{"name": "car"}]}), 201)
    task = ok(alice.post("/api/tasks", {"name": "T", "project_id": project["id"]}), 201)
    assert task["project_id"] == project["id"] and task["organization"] == world.acme.pk
    assert [lb["name"] for lb in task["labels"]] == ["car"]  # the project's labels
    url = f"/api/tasks/{task['id']}"
    assert ok(alice.patch(url, {"name": "T2"}))["name"] == "T2"
    response = alice.patch(url, {"project_id": None})
    assert response.status_code == 400 and "project_id" in response.json()
    response = alice.post("/api/tasks", {"name": "T", "project_id": project["id"], "labels": [{"name": "x"}]})
    assert response.status_code == 400 and "labels" in response.json()
    assert ok(alice.get("/api/tasks", {"project_id": project["id"]}))["count"] == 1
    ok(alice.delete(url), 204)
    assert not Task.objects.exists()


def test_standalone_task_with_labels(world):
    alice = world.client("alice")
    task = ok(
        alice.post("/api/tasks", {"name": "Solo", "labels": [{"name": "cat", "type": "rectangle"}]}), 201
    )
    assert task["project_id"] is None and task["organization"] is None
    assert [(lb["name"], lb["type"]) for lb in task["labels"]] == [("cat", "rectangle")]
    in_org = ok(world.acme_client("alice").post("/api/tasks", {"name": "Solo2"}), 201)
    assert in_org["organization"] == world.acme.pk


def test_task_bad_project_id(world):
    alice = world.acme_client("alice")
    for project_id in (999999, "abc"):
        response = alice.post("/api/tasks", {"name": "T", "project_id": project_id})
        assert response.status_code == 400 and "project_id" in response.json()


def test_job_crud_and_stage_state(world):
    alice = world.acme_client("alice")
    tree = make_project_tree(alice)
    job = ok(
        alice.post("/api/jobs", {"task_id": tree["task"]["id"], "assignee": "wendy", "stage": "validation"}),
        201,
    )
    assert (job["stage"], job["state"], job["type"]) == ("validation", "new", "annotation")
    assert job["assignee"]["username"] == "wendy" and job["project_id"] == tree["project"]["id"]
    assert job["organization"] == world.acme.pk
    url = f"/api/jobs/{job['id']}"
    assert ok(alice.patch(url, {"state": "in progress"}))["state"] == "in progress"
    changed = ok(alice.patch(url, {"stage": "acceptance"}))
    assert (changed["stage"], changed["state"]) == ("acceptance", "new")  # a new stage starts anew
    changed = ok(alice.patch(url, {"stage": "annotation", "state": "rejected", "assignee": None}))
    assert (changed["stage"], changed["state"], changed["assignee"]) == ("annotation", "rejected", None)
    for data, field in [
        ({"state": "done"}, "state"),
        ({"stage": "x"}, "stage"),
        ({"assignee": "bob"}, "assignee"),
        ({"assignee": "ghost"}, "assignee"),
        ({"task_id": 12345}, "task_id"),
    ]:
        response = alice.patch(url, data)
        assert response.status_code == 400 and field in response.json(), data
    listed = ok(alice.get("/api/jobs", {"task_id": tree["task"]["id"], "state": "rejected"}))
    assert [j["id"] for j in listed["results"]] == [job["id"]]
    ok(alice.delete(url), 204)
    assert not Job.objects.filter(pk=job["id"]).exists()


def test_label_crud_and_filters(world):
    alice = world.acme_client("alice")
    tree = make_project_tree(alice, labels=("car",))
    solo = ok(alice.post("/api/tasks", {"name": "Solo", "labels": [{"name": "dog"}]}), 201)
    label = ok(
        alice.post("/api/labels", {"name": "bike", "project_id": tree["project"]["id"], "type": "polygon"}),
        201,
    )
    assert label["project_id"] == tree["project"]["id"] and label["task_id"] is None and label["color"]
    names = lambda **q: sorted(lb["name"] for lb in ok(alice.get("/api/labels", q))["results"])  # noqa: E731
    assert names(project_id=tree["project"]["id"]) == ["bike", "car"]
    assert names(task_id=tree["task"]["id"]) == ["bike", "car"]
    assert names(task_id=solo["id"]) == ["dog"]
    assert names(job_id=tree["job"]["id"]) == ["bike", "car"]
    assert names() == ["bike", "car", "dog"]
    url = f"/api/labels/{label['id']}"
    assert ok(alice.patch(url, {"name": "bicycle", "color": "#123456"}))["name"] == "bicycle"
    bad = [
        ({"name": "car", "project_id": tree["project"]["id"]}, "name"),
        ({"name": "x"}, "project_id"),
        ({"name": "x", "project_id": tree["project"]["id"], "task_id": solo["id"]}, "project_id"),
        ({"name": "x", "task_id": tree["task"]["id"]}, "task_id"),
        ({"name": "x", "project_id": 99999}, "project_id"),
        ({"name": "x", "project_id": tree["project"]["id"], "color": "blue"}, "color"),
    ]
    for data, field in bad:
        response = alice.post("/api/labels", data)
        assert response.status_code == 400 and field in response.json(), (data, response.json())
    response = alice.patch(url, {"name": "car"})
    assert response.status_code == 400 and "name" in response.json()
    ok(alice.delete(url), 204)


def test_issue_and_comment_crud(world):
    alice = world.acme_client("alice")
    tree = make_project_tree(alice)
    issue = tree["issue"]
    assert (
        issue["job"] == tree["job"]["id"] and issue["resolved"] is False and issue["comments"] == {"count": 1}
    )
    assert tree["comment"]["message"] == "hi" and tree["comment"]["owner"]["username"] == "alice"
    url = f"/api/issues/{issue['id']}"
    assert ok(alice.patch(url, {"resolved": True}))["resolved"] is True
    assert [
        i["id"]
        for i in ok(alice.get("/api/issues", {"job_id": tree["job"]["id"], "resolved": "true"}))["results"]
    ] == [issue["id"]]
    comment = ok(alice.post("/api/comments", {"issue": issue["id"], "message": "fixed"}), 201)
    assert ok(alice.patch(f"/api/comments/{comment['id']}", {"message": "fixed!"}))["message"] == "fixed!"
    assert ok(alice.get(url))["comments"]["count"] == 2
    ok(alice.delete(f"/api/comments/{comment['id']}"), 204)
    bad = [
        ("/api/issues", {"job": tree["job"]["id"], "frame": -1, "position": [1, 2]}, "frame"),
        ("/api/issues", {"job": tree["job"]["id"], "frame": 0, "position": [1, 2, 3]}, "position"),
        ("/api/issues", {"job": tree["job"]["id"], "frame": 0, "position": "1,2"}, "position"),
        ("/api/issues", {"job": tree["job"]["id"], "frame": 0, "position": [1, True]}, "position"),
        ("/api/issues", {"job": 999999, "frame": 0, "position": [1, 2]}, "job"),
        ("/api/issues", {"frame": 0, "position": [1, 2]}, "job"),
        ("/api/comments", {"issue": issue["id"], "message": ""}, "message"),
        ("/api/comments", {"issue": 999999, "message": "x"}, "issue"),
    ]
    for url_, data, field in bad:
        response = alice.post(url_, data)
        assert response.status_code == 400 and field in response.json(), (data, response.json())
    ok(alice.delete(url), 204)
    assert not Issue.objects.exists() and not Comment.objects.exists()


def test_detail_routes_accept_a_trailing_slash_and_reject_non_numeric_ids(world):
    alice = world.client("alice")
    project = ok(alice.post("/api/projects/", {"name": "x"}), 201)
    assert ok(alice.get(f"/api/projects/{project['id']}/"))["id"] == project["id"]
    assert alice.get("/api/projects/abc").status_code == 404


def test_pagination_shape(world):
    alice = world.client("alice")
    for index in range(3):
        ok(alice.post("/api/projects", {"name": f"p{index}"}), 201)
    page = ok(alice.get("/api/projects", {"page_size": 2}))
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


# --- role rules -------------------------------------------------------------------------------------


def test_workers_and_supervisors_read_but_do_not_manage(world):
    tree = make_project_tree(world.acme_client("alice"))
    for username in ("wendy", "sam"):
        client = world.acme_client(username)
        assert ok(client.get(f"/api/projects/{tree['project']['id']}"))["name"] == "P"
        assert ok(client.get(f"/api/tasks/{tree['task']['id']}"))["name"] == "T"
        assert client.post("/api/projects", {"name": "x"}).status_code == 403
        assert client.patch(f"/api/projects/{tree['project']['id']}", {"name": "x"}).status_code == 403
        assert client.patch(f"/api/projects/{tree['project']['id']}", {"name": ""}).status_code == 403
        assert client.delete(f"/api/projects/{tree['project']['id']}").status_code == 403
        assert (
            client.post("/api/tasks", {"name": "x", "project_id": tree["project"]["id"]}).status_code == 403
        )
        assert client.post("/api/tasks", {"name": "x"}).status_code == 403
        assert client.delete(f"/api/tasks/{tree['task']['id']}").status_code == 403
        assert client.post("/api/jobs", {"task_id": tree["task"]["id"]}).status_code == 403
        assert client.delete(f"/api/jobs/{tree['job']['id']}").status_code == 403
        assert (
            client.post("/api/labels", {"name": "x", "project_id": tree["project"]["id"]}).status_code == 403
        )
        assert client.delete(f"/api/labels/{tree['labels'][0]['id']}").status_code == 403


def test_workers_and_supervisors_change_jobs_issues_comments(world):
    tree = make_project_tree(world.acme_client("alice"))
    for username in ("wendy", "sam"):
        client = world.acme_client(username)
        ok(client.patch(f"/api/jobs/{tree['job']['id']}", {"state": "in progress", "assignee": username}))
        issue = ok(
            client.post("/api/issues", {"job": tree["job"]["id"], "frame": 1, "position": [0, 0]}), 201
        )
        ok(client.patch(f"/api/issues/{issue['id']}", {"resolved": True}))
        comment = ok(client.post("/api/comments", {"issue": issue["id"], "message": "mine"}), 201)
        ok(client.patch(f"/api/comments/{comment['id']}", {"message": "edited"}))
        # Others' comments and issues are not theirs to edit or delete.
        assert client.patch(f"/api/comments/{tree['comment']['id']}", {"message": "x"}).status_code == 403
        assert client.delete(f"/api/comments/{tree['comment']['id']}").status_code == 403
        assert client.delete(f"/api/issues/{tree['issue']['id']}").status_code == 403
        ok(client.delete(f"/api/comments/{comment['id']}"), 204)
        ok(client.delete(f"/api/issues/{issue['id']}"), 204)


def test_maintainer_manages_everything(world):
    mia = world.acme_client("mia")
    tree = make_project_tree(mia)
    ok(mia.patch(f"/api/projects/{tree['project']['id']}", {"name": "M"}))
    ok(mia.delete(f"/api/comments/{tree['comment']['id']}"), 204)
    ok(world.acme_client("alice").delete(f"/api/issues/{tree['issue']['id']}"), 204)
    ok(mia.delete(f"/api/projects/{tree['project']['id']}"), 204)


def test_superuser_reaches_everything(world):
    tree = make_project_tree(world.acme_client("alice"))
    personal = ok(world.client("bob").post("/api/projects", {"name": "bob's"}), 201)
    root = world.client("root")
    assert ok(root.get("/api/projects"))["count"] == 2
    ok(root.patch(f"/api/projects/{personal['id']}", {"name": "seen"}))
    ok(root.delete(f"/api/jobs/{tree['job']['id']}"), 204)


# --- objects without an organization ----------------------------------------------------------------


def test_personal_objects_are_visible_only_to_their_owner(world):
    bob = world.client("bob")
    tree = make_project_tree(bob)
    assert tree["project"]["organization"] is None and tree["job"]["organization"] is None
    others = (world.client("alice"), world.client("nobody"), world.client("alice", world.acme))
    for client in others:
        for kind in ("projects", "tasks", "jobs", "issues", "comments", "labels"):
            assert ok(client.get(f"/api/{kind}"))["count"] == 0, kind
        assert client.get(f"/api/projects/{tree['project']['id']}").status_code == 404
        assert client.get(f"/api/jobs/{tree['job']['id']}/annotations").status_code == 404
        response = client.post("/api/tasks", {"name": "x", "project_id": tree["project"]["id"]})
        assert response.status_code == 400 and "project_id" in response.json()
    # bob's personal objects are not in his organization's lists.
    assert ok(world.client("bob", world.globex).get("/api/projects"))["count"] == 0


# --- cascades ---------------------------------------------------------------------------------------


def test_deleting_a_project_cascades(world):
    alice = world.acme_client("alice")
    tree = make_project_tree(alice)
    ok(
        alice.put(
            f"/api/jobs/{tree['job']['id']}/annotations",
            {
                "shapes": [
                    {
                        "type": "rectangle",
                        "frame": 0,
                        "label_id": tree["labels"][0]["id"],
                        "points": [0, 0, 1, 1],
                    }
                ],
            },
        )
    )
    assert LabeledShape.objects.count() == 1
    ok(alice.delete(f"/api/projects/{tree['project']['id']}"), 204)
    for model in (Project, Task, Job, Label, Issue, Comment, LabeledShape):
        assert not model.objects.exists(), model


def test_deleting_an_organization_cascades(world):
    make_project_tree(world.acme_client("alice"))
    ok(world.client("alice").delete(f"/api/organizations/{world.acme.pk}"), 204)
    for model in (Project, Task, Job, Label, Issue, Comment):
        assert not model.objects.exists(), model
