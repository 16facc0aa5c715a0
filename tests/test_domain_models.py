"""analytics_ids() / analytics_name() of every tracked model, and the visibility helpers."""

from __future__ import annotations

import pytest

from accounts.models import AccessToken, Membership, Organization
from accounts.visibility import is_org_admin, role_in, visible_filter, visible_org_ids
from annotation.models import Comment, Issue, Job, Label, Project, Task
from test_domain_helpers import build_world, use_fast_passwords

KEYS = {"org_id", "org_slug", "project_id", "task_id", "job_id"}


@pytest.fixture
def world(api, settings):
    use_fast_passwords(settings)
    return build_world()


@pytest.fixture
def tree(world):
    org, owner = world.acme, world.users["alice"]
    project = Project.objects.create(name="P", organization=org, owner=owner)
    label = Label.objects.create(name="car", project=project)
    task = Task.objects.create(name="T", project=project, owner=owner)
    job = Job.objects.create(task=task)
    issue = Issue.objects.create(job=job, owner=owner, frame=3, position=[1.0, 2.0])
    comment = Comment.objects.create(issue=issue, owner=owner, message="look here")
    return {
        "org": org,
        "project": project,
        "label": label,
        "task": task,
        "job": job,
        "issue": issue,
        "comment": comment,
    }


def ids(org=None, project=None, task=None, job=None):
    return {
        "org_id": org.pk if org else None,
        "org_slug": org.slug if org else None,
        "project_id": project.pk if project else None,
        "task_id": task.pk if task else None,
        "job_id": job.pk if job else None,
    }


def test_analytics_ids_and_names(tree):
    org, project, task, job = tree["org"], tree["project"], tree["task"], tree["job"]
    membership = Membership.objects.filter(organization=org).first()
    expected = [
        (org, ids(org), "Acme"),
        (membership, ids(org), None),
        (project, ids(org, project), "P"),
        (tree["label"], ids(org, project), "car"),
        (task, ids(org, project, task), "T"),
        (job, ids(org, project, task, job), f"Job #{job.pk}"),
        (tree["issue"], ids(org, project, task, job), None),
        (tree["comment"], ids(org, project, task, job), "look here"),
    ]
    for instance, expected_ids, expected_name in expected:
        assert instance.analytics_ids() == expected_ids, type(instance)
        assert set(instance.analytics_ids()) == KEYS
        assert instance.analytics_name() == expected_name, type(instance)


@pytest.mark.parametrize("model", [Membership, Project, Label, Task, Job, Issue, Comment])
def test_analytics_ids_cost_at_most_the_organization_hop(tree, model, django_assert_max_num_queries):
    fresh = model.objects.first()
    with django_assert_max_num_queries(1):
        fresh.analytics_ids()
    prefetched = model.objects.select_related("organization").first()
    with django_assert_max_num_queries(0):
        prefetched.analytics_ids()
        prefetched.analytics_name()


def test_analytics_ids_without_organization(world):
    owner = world.users["bob"]
    task = Task.objects.create(name="Solo", owner=owner)
    label = Label.objects.create(name="dog", task=task)
    job = Job.objects.create(task=task)
    assert job.analytics_ids() == ids(task=task, job=job)
    assert label.analytics_ids() == ids(task=task)
    assert task.analytics_ids() == ids(task=task)


def test_access_token_exposes_its_id(world):
    token, key = AccessToken.issue(world.users["bob"], "t")
    assert token.access_token_id == token.pk and token.is_usable and len(key) >= 32


def test_label_belongs_to_exactly_one_parent(tree):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Label.objects.create(name="both", project=tree["project"], task=tree["task"])


def test_visibility_helpers(world):
    users, acme, globex = world.users, world.acme, world.globex
    assert visible_org_ids(users["wendy"]) == {acme.pk}
    assert visible_org_ids(users["nobody"]) == set()
    assert visible_org_ids(users["root"]) is None
    assert role_in(users["sam"], acme) == "supervisor" and role_in(users["sam"], globex.pk) is None
    assert role_in(users["root"], acme) is None
    assert is_org_admin(users["mia"], acme) and is_org_admin(users["alice"], acme.pk)
    assert not is_org_admin(users["wendy"], acme) and not is_org_admin(users["bob"], acme)
    assert is_org_admin(users["root"], globex)
    Project.objects.create(name="a", organization=acme)
    Project.objects.create(name="mine", owner=users["nobody"])
    Project.objects.create(name="g", organization=globex)
    names = lambda user: sorted(Project.objects.filter(visible_filter(user)).values_list("name", flat=True))  # noqa: E731
    assert names(users["wendy"]) == ["a"]
    assert names(users["nobody"]) == ["mine"]
    assert names(users["root"]) == ["a", "g", "mine"]
    assert Organization.objects.filter(pk__in=visible_org_ids(users["bob"])).get() == globex
