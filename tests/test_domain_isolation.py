"""A member of one organization can neither see nor touch another organization's objects: every
detail route answers 404, lists leave them out, and they cannot be used as parents."""

from __future__ import annotations

import pytest

from accounts.models import Organization
from annotation.models import Comment, Issue, Job, LabeledShape, Project, Task
from test_domain_helpers import build_world, make_project_tree, ok, use_fast_passwords

KINDS = ("projects", "tasks", "jobs", "labels", "issues", "comments")


@pytest.fixture
def setup(api, settings):
    use_fast_passwords(settings)
    world = build_world()
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
    ids = {
        "projects": tree["project"]["id"],
        "tasks": tree["task"]["id"],
        "jobs": tree["job"]["id"],
        "labels": tree["labels"][0]["id"],
        "issues": tree["issue"]["id"],
        "comments": tree["comment"]["id"],
    }
    return world, ids


@pytest.fixture(params=["no context", "own org context", "user in no organization"])
def outsider(request, setup):
    world, ids = setup
    if request.param == "no context":
        return world.client("bob"), ids
    if request.param == "own org context":
        return world.client("bob", world.globex), ids
    return world.client("nobody"), ids


def test_lists_leave_other_orgs_objects_out(outsider):
    client, _ = outsider
    for kind in KINDS:
        assert ok(client.get(f"/api/{kind}"))["count"] == 0, kind


def test_detail_read_change_delete_answer_404(outsider):
    client, ids = outsider
    changes = {
        "projects": {"name": "x"},
        "tasks": {"name": "x"},
        "jobs": {"state": "completed"},
        "labels": {"name": "x"},
        "issues": {"resolved": True},
        "comments": {"message": "x"},
    }
    for kind in KINDS:
        url = f"/api/{kind}/{ids[kind]}"
        assert client.get(url).status_code == 404, url
        assert client.patch(url, changes[kind]).status_code == 404, url
        assert client.put(url, changes[kind]).status_code == 404, url
        assert client.delete(url).status_code == 404, url
    assert Project.objects.get().name == "P" and Job.objects.get().state == "new"
    assert Issue.objects.get().resolved is False and Comment.objects.get().message == "hi"


def test_annotations_answer_404(outsider):
    client, ids = outsider
    url = f"/api/jobs/{ids['jobs']}/annotations"
    assert client.get(url).status_code == 404
    assert client.put(url, {"shapes": []}).status_code == 404
    assert client.patch(url + "?action=delete", {"shapes": [{"id": 1}]}).status_code == 404
    assert client.delete(url).status_code == 404
    assert LabeledShape.objects.count() == 1


def test_other_orgs_objects_cannot_be_parents(outsider):
    client, ids = outsider
    attempts = [
        ("/api/tasks", {"name": "x", "project_id": ids["projects"]}, "project_id"),
        ("/api/jobs", {"task_id": ids["tasks"]}, "task_id"),
        ("/api/labels", {"name": "x", "project_id": ids["projects"]}, "project_id"),
        ("/api/issues", {"job": ids["jobs"], "frame": 0, "position": [1, 1]}, "job"),
        ("/api/comments", {"issue": ids["issues"], "message": "x"}, "issue"),
    ]
    for url, data, field in attempts:
        response = client.post(url, data)
        assert response.status_code == 400 and field in response.json(), (url, response.json())
    assert Task.objects.count() == 1 and Job.objects.count() == 1


def test_other_org_context_hides_own_objects(setup):
    # Alice sees her acme objects without a context, and in acme's context, but not in another org's.
    world, ids = setup
    other = Organization.objects.create(slug="side", name="Side", owner=world.users["alice"])
    other.members.create(user=world.users["alice"], role="owner")
    in_side = world.client("alice", other)
    assert ok(in_side.get("/api/projects"))["count"] == 0
    assert in_side.get(f"/api/projects/{ids['projects']}").status_code == 404
    response = in_side.post("/api/tasks", {"name": "x", "project_id": ids["projects"]})
    assert response.status_code == 400 and "project_id" in response.json()
    assert ok(world.client("alice").get("/api/projects"))["count"] == 1
