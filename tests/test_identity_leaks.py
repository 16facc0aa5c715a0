"""Users outside the caller's organizations are never named or confirmed, in answers or errors."""

from __future__ import annotations

import pytest

from test_domain_helpers import build_world, make_project_tree, ok, use_fast_passwords


@pytest.fixture
def world(api, settings):
    use_fast_passwords(settings)
    return build_world()


def names_nobody(response, *names: str) -> None:
    text = response.content.decode()
    for name in names:
        assert name not in text, text


def test_assigning_a_foreign_user_answers_as_for_a_missing_one(world):
    alice = world.acme_client("alice")
    bob = world.users["bob"]  # globex only: alice shares no organization with him
    missing = 987_654
    answers = {}
    for key, value in (("bob", bob.pk), ("missing", missing)):
        response = alice.post("/api/projects", {"name": "P", "assignee_id": value})
        assert response.status_code == 400, response.content
        names_nobody(response, "bob", "Bob")
        answers[key] = response.json()["assignee_id"][0].replace(str(value), "<id>")
    assert answers["bob"] == answers["missing"]
    for value in (bob.pk, "bob"):
        response = alice.post("/api/projects", {"name": "P", "assignee": value})
        assert response.status_code == 400 and "assignee" in response.json()
        names_nobody(response, "Bob")
    # Outside any organization (a personal project) the same holds.
    response = world.client("alice").post("/api/projects", {"name": "Mine", "assignee_id": bob.pk})
    assert response.status_code == 400
    names_nobody(response, "bob")


def test_changing_a_job_or_issue_never_names_a_foreign_user(world):
    alice = world.acme_client("alice")
    tree = make_project_tree(alice)
    bob = world.users["bob"]
    for url in (f"/api/jobs/{tree['job']['id']}", f"/api/issues/{tree['issue']['id']}"):
        for value in (bob.pk, "bob"):
            response = alice.patch(url, {"assignee": value})
            assert response.status_code == 400 and "assignee" in response.json(), response.content
            names_nobody(response, "'bob'" if isinstance(value, int) else "Bob")
    # A member of one of alice's organizations can be named and assigned.
    assert (
        ok(alice.patch(f"/api/jobs/{tree['job']['id']}", {"assignee": "wendy"}))["assignee"]["username"]
        == "wendy"
    )


def test_the_users_api_does_not_confirm_foreign_accounts(world):
    wendy = world.client("wendy")
    assert wendy.get(f"/api/users/{world.users['bob'].pk}").status_code == 404
    assert wendy.get("/api/users/987654").status_code == 404


def test_naming_a_foreign_or_missing_organization_answers_alike(world):
    """A non-member learns neither that an organization exists nor its slug from an id."""
    alice = world.client("alice")
    globex = world.globex
    for name, url in (
        ("X-Organization", None),
        ("org", "/api/projects?org={slug}"),
        ("org_id", "/api/projects?org_id={id}"),
        ("org_id", "/api/events/export?org_id={id}"),
    ):
        answers = {}
        for key, slug, org_id in (("globex", globex.slug, globex.pk), ("missing", "nosuch", 987_654)):
            if url is None:
                client = world.client("alice")
                client.credentials(HTTP_X_ORGANIZATION=slug)
                response = client.get("/api/projects")
            else:
                path = url.format(slug=slug, id=org_id)
                call = alice.post if "export" in path else alice.get
                response = call(path)
            assert response.status_code == 403, (name, key, response.content)
            names_nobody(response, "Globex")
            if name == "org_id":
                names_nobody(response, "globex")
            given = slug if name != "org_id" else str(org_id)
            answers[key] = response.json()[name][0].replace(given, "<given>")
        assert answers["globex"] == answers["missing"], (name, answers)
    # A superuser sees every organization: a missing one is still a 404 for them.
    root = world.client("root")
    assert root.get("/api/projects?org=nosuch").status_code == 404
    assert root.get("/api/projects?org_id=987654").status_code == 404


def test_dataloop_routes_show_a_colleagues_email_to_nobody_but_them(world):
    """dtlpy's `creator` is an e-mail; /api/users keeps colleagues' e-mails private, so must it."""
    alice = world.acme_client("alice")
    tree = make_project_tree(alice)
    urls = ("/api/projects/P/name", f"/api/datasets/{tree['task']['id']}")

    def creators(client) -> set[str]:
        found = {ok(client.get(urls[0]))[0]["creator"], ok(client.get(urls[1]))["creator"]}
        query = ok(client.post("/api/datasets/query", {}))
        return found | {item["creator"] for item in query["items"]}

    for colleague in ("wendy", "mia"):
        assert creators(world.acme_client(colleague)) == {"alice"}
    assert creators(alice) == {"alice@example.com"}
    assert creators(world.client("root", world.acme)) == {"alice@example.com"}
