"""Helpers shared by the tests/test_domain_*.py modules (no tests here).

Each module wraps `build_world` in its own fixture; fixtures are not imported across modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts.models import Membership, Organization

PASSWORD = "correct horse battery"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def use_fast_passwords(settings: Any) -> None:
    """PBKDF2 costs ~0.3 s per hash; tests hash on every basic-auth request."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


def make_user(username: str, *, superuser: bool = False) -> Any:
    User = get_user_model()
    if superuser:
        return User.objects.create_superuser(username, f"{username}@example.com", PASSWORD)
    return User.objects.create_user(username, f"{username}@example.com", PASSWORD)


def make_org(slug: str, owner: Any, **members: str) -> Organization:
    """An organization owned by `owner`, with extra members given as username=role."""
    org = Organization.objects.create(slug=slug, name=slug.title(), owner=owner)
    Membership.objects.create(user=owner, organization=org, role="owner")
    User = get_user_model()
    for username, role in members.items():
        Membership.objects.create(user=User.objects.get(username=username), organization=org, role=role)
    return org


def client_for(user: Any = None, org: Organization | None = None) -> APIClient:
    client = APIClient()
    client.default_format = "json"
    if user is not None:
        client.force_authenticate(user)
    if org is not None:
        client.credentials(HTTP_X_ORGANIZATION=org.slug)
    return client


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, getattr(response, "data", response.content))
    return response.json() if response.content else None


@dataclass
class World:
    """Two organizations and a few users:

    acme:   alice (owner), mia (maintainer), sam (supervisor), wendy (worker)
    globex: bob (owner)
    nobody: a user in no organization; root: a superuser
    """

    users: dict[str, Any]
    acme: Organization
    globex: Organization

    def client(self, username: str, org: Organization | None = None) -> APIClient:
        return client_for(self.users[username], org)

    def acme_client(self, username: str) -> APIClient:
        return self.client(username, self.acme)


def build_world() -> World:
    users = {name: make_user(name) for name in ("alice", "mia", "sam", "wendy", "bob", "nobody")}
    users["root"] = make_user("root", superuser=True)
    acme = make_org("acme", users["alice"], mia="maintainer", sam="supervisor", wendy="worker")
    globex = make_org("globex", users["bob"])
    return World(users=users, acme=acme, globex=globex)


def make_project_tree(client: APIClient, *, labels: tuple[str, ...] = ("car", "person")) -> dict[str, Any]:
    """Project -> task -> job -> issue (with a first comment), through the API."""
    project = ok(client.post("/api/projects", {"name": "P", "labels": [{"name": n} for n in labels]}), 201)
    task = ok(client.post("/api/tasks", {"name": "T", "project_id": project["id"]}), 201)
    job = ok(client.post("/api/jobs", {"task_id": task["id"]}), 201)
    issue = ok(
        client.post("/api/issues", {"job": job["id"], "frame": 0, "position": [1, 2, 3, 4], "message": "hi"}),
        201,
    )
    comment = ok(client.get("/api/comments", {"issue_id": issue["id"]}))["results"][0]
    return {
        "project": project,
        "task": task,
        "job": job,
        "issue": issue,
        "comment": comment,
        "labels": project["labels"],
    }
