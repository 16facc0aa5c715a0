"""Users, organizations, memberships, tokens, authentication modes and the organization context."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory

from accounts.authentication import AccessTokenAuthentication
from accounts.models import AccessToken, Membership, Organization, hash_token_key
from test_domain_helpers import PASSWORD, build_world, client_for, ok, use_fast_passwords


@pytest.fixture
def world(api, settings):
    use_fast_passwords(settings)
    api.default_format = "json"
    return build_world()


# --- registration and users -------------------------------------------------------------------------


def test_self_registration_is_off_unless_switched_on(api, settings, db):
    data = {"username": "zoe", "password": "pw-1", "email": "z@x.io"}
    response = api.post("/api/auth/register", data, format="json")
    assert response.status_code == 403 and "registration" in response.json()["detail"]


def test_register_creates_a_user_who_can_sign_in(api, settings):
    use_fast_passwords(settings)
    settings.REGISTRATION_OPEN = True
    body = ok(
        api.post(
            "/api/auth/register", {"username": "zoe", "password": "pw-1", "email": "z@x.io"}, format="json"
        ),
        201,
    )
    assert body["username"] == "zoe" and body["email"] == "z@x.io" and "password" not in body
    assert api.login(request=HttpRequest(), username="zoe", password="pw-1")  # axes needs a request
    assert ok(api.get("/api/users/self"))["username"] == "zoe"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "alice", "password": "x", "email": "new@x.io"}, "username"),
        ({"username": "ALICE", "password": "x"}, "username"),
        ({"username": "zed", "password": "x", "email": "alice@example.com"}, "email"),
        ({"username": "bad name!", "password": "x"}, "username"),
        ({"username": "zed", "password": "x", "email": "not-an-email"}, "email"),
        ({"username": "zed"}, "password"),
        ({"password": "x"}, "username"),
    ],
)
def test_register_rejects_duplicates_and_invalid_input_naming_the_field(world, api, settings, data, field):
    settings.REGISTRATION_OPEN = True
    response = api.post("/api/auth/register", data, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_users_self_list_detail(world):
    wendy = world.client("wendy")
    me = ok(wendy.get("/api/users/self"))
    assert me["username"] == "wendy" and me["email"] == "wendy@example.com"
    names = {u["username"] for u in ok(wendy.get("/api/users"))["results"]}
    assert names == {"alice", "mia", "sam", "wendy"}  # self + members of shared organizations
    alice = ok(wendy.get(f"/api/users/{world.users['alice'].pk}"))
    assert alice["username"] == "alice" and "email" not in alice  # others' e-mail stays private
    assert wendy.get(f"/api/users/{world.users['bob'].pk}").status_code == 404
    assert {u["username"] for u in ok(world.client("nobody").get("/api/users"))["results"]} == {"nobody"}
    assert ok(world.client("root").get("/api/users"))["count"] == 7


def test_users_list_in_org_context_lists_that_org_members(world):
    names = {u["username"] for u in ok(world.acme_client("wendy").get("/api/users"))["results"]}
    assert names == {"alice", "mia", "sam", "wendy"}
    assert ok(world.client("root", world.globex).get("/api/users"))["count"] == 1


def test_user_patch_self_or_superuser_only(world):
    wendy_id = world.users["wendy"].pk
    body = ok(
        world.client("wendy").patch(f"/api/users/{wendy_id}", {"first_name": "Wen", "username": "hacked"})
    )
    assert body["first_name"] == "Wen" and body["username"] == "wendy"
    assert world.client("alice").patch(f"/api/users/{wendy_id}", {"first_name": "X"}).status_code == 403
    assert (
        ok(world.client("root").patch(f"/api/users/{wendy_id}", {"last_name": "Root"}))["last_name"] == "Root"
    )
    response = world.client("wendy").patch(f"/api/users/{wendy_id}", {"email": "alice@example.com"})
    assert response.status_code == 400 and "email" in response.json()
    assert world.client("wendy").put(f"/api/users/{wendy_id}", {"first_name": "X"}).status_code == 405


# --- authentication modes -------------------------------------------------------------------------


def test_anonymous_gets_401(world):
    anonymous = client_for()
    for url in ("/api/users/self", "/api/organizations", "/api/projects", "/api/jobs", "/api/auth/tokens"):
        assert anonymous.get(url).status_code == 401, url
    assert anonymous.post("/api/projects", {"name": "x"}).status_code == 401


def test_session_login(world):
    client = APIClient()
    assert client.login(request=HttpRequest(), username="alice", password=PASSWORD)
    assert ok(client.get("/api/users/self"))["username"] == "alice"
    client.logout()
    assert client.get("/api/users/self").status_code == 401


def test_session_login_and_logout_endpoints_with_csrf(world):
    client = APIClient(enforce_csrf_checks=True)
    # A browser's sign-in needs the CSRF token too (login CSRF); GET /api/auth/login hands out the
    # cookie. A browser sends Origin (and Sec-Fetch-Site) with its POSTs.
    credentials = {"username": "alice", "password": PASSWORD}
    for browser in ({"HTTP_ORIGIN": "https://evil.example"}, {"HTTP_SEC_FETCH_SITE": "cross-site"}):
        response = client.post("/api/auth/login", credentials, format="json", **browser)
        assert response.status_code == 403 and "CSRF" in response.json()["detail"]
        assert "sessionid" not in client.cookies
    ok(client.get("/api/auth/login"))
    token = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value, "HTTP_ORIGIN": "http://testserver"}
    response = client.post(
        "/api/auth/login", {"username": "alice", "password": "wrong"}, format="json", **token
    )
    assert response.status_code == 401
    assert client.post("/api/auth/login", {"username": "alice"}, format="json", **token).status_code == 400
    signed_in = ok(client.post("/api/auth/login", credentials, format="json", **token))
    me = signed_in["user"]  # next to CVAT's {"key": ...}
    assert me["username"] == "alice" and me["email"] == "alice@example.com" and signed_in["key"]
    assert ok(client.get("/api/users/self"))["username"] == "alice"
    # Unsafe requests made with a session need the CSRF token.
    assert client.post("/api/projects", {"name": "x"}, format="json").status_code == 403
    csrf = client.cookies["csrftoken"].value
    ok(client.post("/api/projects", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN=csrf), 201)
    assert ok(client.post("/api/auth/logout"), 200) == {"detail": "Successfully logged out."}
    assert client.get("/api/users/self").status_code == 401


def test_http_basic(world):
    client = APIClient()
    credentials = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert ok(client.get("/api/users/self"))["username"] == "alice"
    wrong = base64.b64encode(b"alice:wrong").decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {wrong}")
    assert client.get("/api/users/self").status_code == 401


def test_token_lifecycle(world):
    alice = world.client("alice")
    created = ok(alice.post("/api/auth/tokens", {"name": "ci"}), 201)
    key = created["key"]
    # a JWT's first characters are the same for every key: `prefix` shows its last ones
    assert created["prefix"] == key[-8:] and created["revoked"] is False
    stored = AccessToken.objects.get(pk=created["id"])
    assert stored.key_hash == hash_token_key(key) and key not in (stored.key_hash, stored.prefix)

    listed = ok(alice.get("/api/auth/tokens"))["results"]
    assert [t["id"] for t in listed] == [created["id"]] and "key" not in listed[0]
    assert "key" not in ok(alice.get(f"/api/auth/tokens/{created['id']}"))

    for scheme in ("Token", "Bearer"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
        assert ok(client.get("/api/users/self"))["username"] == "alice"
    assert AccessToken.objects.get(pk=created["id"]).last_used_date is not None

    assert world.client("bob").get(f"/api/auth/tokens/{created['id']}").status_code == 404
    assert world.client("bob").delete(f"/api/auth/tokens/{created['id']}").status_code == 404

    ok(alice.delete(f"/api/auth/tokens/{created['id']}"), 204)
    assert AccessToken.objects.get(pk=created["id"]).revoked  # revoked, not deleted
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/users/self")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


@pytest.mark.parametrize("header", ["Token nonsense", "Bearer ", "Token a b", "Bearer expired"])
def test_bad_tokens_get_401_json(world, header):
    token, key = AccessToken.issue(world.users["alice"], "old")
    token.expiry_date = timezone.now() - timedelta(seconds=1)
    token.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.replace("expired", key))
    response = client.get("/api/projects")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_token_expiry_must_be_in_the_future(world):
    past = (timezone.now() - timedelta(days=1)).isoformat()
    response = world.client("alice").post("/api/auth/tokens", {"name": "x", "expiry_date": past})
    assert response.status_code == 400 and "expiry_date" in response.json()
    assert world.client("alice").post("/api/auth/tokens", {}).status_code == 400


def test_token_authentication_exposes_access_token_id(world):
    token, key = AccessToken.issue(world.users["bob"], "script")
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {key}")
    user, auth = AccessTokenAuthentication().authenticate(request)
    assert user == world.users["bob"] and auth.access_token_id == token.pk
    assert AccessTokenAuthentication().authenticate(APIRequestFactory().get("/")) is None


# --- organizations ----------------------------------------------------------------------------------


def test_organization_crud(world):
    nobody = world.client("nobody")
    org = ok(nobody.post("/api/organizations", {"slug": "initech", "name": "Initech"}), 201)
    assert org["id"] and org["owner"]["username"] == "nobody"
    assert Membership.objects.get(organization_id=org["id"]).role == "owner"
    assert [o["slug"] for o in ok(nobody.get("/api/organizations"))["results"]] == ["initech"]
    assert (
        ok(nobody.patch(f"/api/organizations/{org['id']}", {"name": "Initech Corp"}))["name"]
        == "Initech Corp"
    )
    ok(nobody.delete(f"/api/organizations/{org['id']}"), 204)
    assert not Organization.objects.filter(pk=org["id"]).exists()


@pytest.mark.parametrize("slug", ["Upper", "with space", "-dash", "dash-", "a--b", "", "x" * 65, "acme"])
def test_organization_slug_validation(world, slug):
    response = world.client("nobody").post("/api/organizations", {"slug": slug, "name": "x"})
    assert response.status_code == 400 and "slug" in response.json()


def test_organization_slug_is_immutable(world):
    response = world.client("alice").patch(f"/api/organizations/{world.acme.pk}", {"slug": "acme2"})
    assert response.status_code == 400 and "slug" in response.json()


def test_organization_roles(world):
    url = f"/api/organizations/{world.acme.pk}"
    assert ok(world.client("wendy").get(url))["slug"] == "acme"
    assert world.client("bob").get(url).status_code == 404
    assert world.client("wendy").patch(url, {"name": "x"}).status_code == 403
    assert world.client("sam").patch(url, {"name": "x"}).status_code == 403
    assert ok(world.client("mia").patch(url, {"name": "ACME"}))["name"] == "ACME"
    assert world.client("mia").delete(url).status_code == 403
    assert world.client("bob").delete(url).status_code == 404
    assert ok(world.client("root").get("/api/organizations"))["count"] == 2
    ok(world.client("alice").delete(url), 204)


# --- memberships ------------------------------------------------------------------------------------


def invite(client, org, user, role="worker", status=201):
    """POST /api/invitations, then the answer (201) or the response."""
    response = client.post("/api/invitations", {"organization": org.pk, "user": user, "role": role})
    return ok(response, status) if status == 201 else response


def test_members_join_by_invitation_which_the_invitee_accepts(world):
    # Memberships used to be created by any owner for any user (no consent); now they are offered.
    alice, nobody = world.client("alice"), world.client("nobody")
    invitation = invite(alice, world.acme, "nobody")
    assert invitation["invitee"] == "nobody" and invitation["role"] == "worker"
    assert invitation["organization"] == world.acme.pk and invitation["owner"]["username"] == "alice"
    assert not Membership.objects.filter(user=world.users["nobody"]).exists()  # nothing until accepted
    mine = ok(nobody.get("/api/invitations"))["results"]
    assert [i["key"] for i in mine] == [invitation["key"]]
    assert mine[0]["organization_info"] == {"id": world.acme.pk, "slug": "acme", "name": world.acme.name}
    # Only the invitee accepts; nobody else can see or accept it.
    assert world.client("wendy").post(f"/api/invitations/{invitation['key']}/accept").status_code == 404
    assert alice.post(f"/api/invitations/{invitation['key']}/accept").status_code == 403
    accepted = ok(nobody.post(f"/api/invitations/{invitation['key']}/accept"))
    assert accepted["organization_slug"] == "acme" and accepted["membership"]["role"] == "worker"
    assert ok(nobody.get("/api/invitations"))["count"] == 0
    created = accepted["membership"]
    assert (
        ok(alice.patch(f"/api/memberships/{created['id']}", {"role": "maintainer"}))["role"] == "maintainer"
    )
    listed = ok(alice.get("/api/memberships", {"organization": world.acme.pk}))["results"]
    assert {m["user"]["username"] for m in listed} == {"alice", "mia", "sam", "wendy", "nobody"}
    ok(alice.delete(f"/api/memberships/{created['id']}"), 204)
    # By id or e-mail as well; a declined invitation is gone and makes no member.
    by_id = invite(alice, world.acme, str(world.users["bob"].pk), role="supervisor")
    ok(world.client("bob").post(f"/api/invitations/{by_id['key']}/decline"), 204)
    assert not Membership.objects.filter(user=world.users["bob"], organization=world.acme).exists()
    by_email = ok(
        alice.post(
            "/api/invitations", {"organization": world.acme.pk, "email": "bob@example.com", "role": "worker"}
        ),
        201,
    )
    assert (
        ok(world.client("bob").post(f"/api/invitations/{by_email['key']}/accept"))["membership"]["user"][
            "username"
        ]
        == "bob"
    )


def test_an_expired_invitation_cannot_be_accepted_and_admins_may_revoke(world):
    from accounts.models import Invitation

    invitation = invite(world.client("alice"), world.acme, "nobody")
    Invitation.objects.filter(pk=invitation["key"]).update(expiry_date=timezone.now() - timedelta(seconds=1))
    response = world.client("nobody").post(f"/api/invitations/{invitation['key']}/accept")
    assert response.status_code == 400 and "key" in response.json()
    assert world.client("wendy").delete(f"/api/invitations/{invitation['key']}").status_code == 404
    ok(world.client("mia").delete(f"/api/invitations/{invitation['key']}"), 204)


def test_inviting_never_tells_whether_an_account_exists(world):
    alice = world.client("alice")
    answers = [invite(alice, world.acme, name) for name in ("bob", "ghost", "bob@example.com")]
    volatile = {"key", "invitee", "created_date", "expiry_date"}
    shapes = [{k: v for k, v in answer.items() if k not in volatile} for answer in answers]
    assert shapes[0] == shapes[1] == shapes[2]
    assert {a["invitee"] for a in answers} == {"bob", "ghost", "bob@example.com"}  # as written, no more


def test_only_instance_admins_add_members_directly(world):
    acme = world.acme.pk
    for name in ("alice", "mia"):
        for user in ("bob", "ghost"):  # the same answer whether the account exists or not
            response = world.client(name).post(
                "/api/memberships", {"organization": acme, "user": user, "role": "worker"}
            )
            assert response.status_code == 403 and "invitation" in response.json()["detail"], response.json()
    direct = ok(
        world.client("root").post(
            "/api/memberships", {"organization": acme, "user": "bob", "role": "worker"}
        ),
        201,
    )
    assert direct["user"]["username"] == "bob"


def test_membership_rules(world):
    acme = world.acme.pk
    mia, wendy = world.client("mia"), world.client("wendy")
    worker = ok(
        world.client("root").post(
            "/api/memberships", {"organization": acme, "user": "nobody", "role": "worker"}
        ),
        201,
    )
    # Only the owner hands out (or takes away) the maintainer role.
    assert mia.patch(f"/api/memberships/{worker['id']}", {"role": "maintainer"}).status_code == 403
    assert invite(mia, world.acme, "bob", role="maintainer", status=403).status_code == 403
    # Nobody creates a second owner or changes the owner's membership.
    for client in (world.client("alice"), world.client("root")):
        assert invite(client, world.acme, "bob", role="owner", status=403).status_code == 403
        assert client.patch(f"/api/memberships/{worker['id']}", {"role": "owner"}).status_code == 403
    response = world.client("root").post(
        "/api/memberships", {"organization": acme, "user": "bob", "role": "owner"}
    )
    assert response.status_code == 403
    owner_membership = Membership.objects.get(user=world.users["alice"], organization=world.acme).pk
    assert world.client("alice").delete(f"/api/memberships/{owner_membership}").status_code == 403
    # Workers manage nothing, but may leave.
    assert invite(wendy, world.acme, "bob", status=403).status_code == 403
    assert wendy.patch(f"/api/memberships/{worker['id']}", {"role": "supervisor"}).status_code == 403
    wendy_membership = Membership.objects.get(user=world.users["wendy"]).pk
    ok(wendy.delete(f"/api/memberships/{wendy_membership}"), 204)


def test_invitation_and_membership_validation(world):
    alice = world.client("alice")
    acme = world.acme.pk
    cases = [
        ({"organization": acme, "user": "wendy", "role": "worker"}, "user"),  # already a member
        ({"organization": acme, "user": "nobody", "email": "n@example.com", "role": "worker"}, "user"),
        ({"organization": acme, "role": "worker"}, "user"),
        ({"organization": acme, "user": "nobody", "role": "boss"}, "role"),
        ({"organization": 999, "user": "nobody", "role": "worker"}, "organization"),
        ({"organization": world.globex.pk, "user": "nobody", "role": "worker"}, "organization"),
        ({"user": "nobody", "role": "worker"}, "organization"),
    ]
    for data, field in cases:
        response = alice.post("/api/invitations", data)
        assert response.status_code == 400 and field in response.json(), (data, response.json())
    root = world.client("root")
    for data, field in [
        ({"organization": acme, "user": "wendy", "role": "worker"}, "user"),
        ({"organization": acme, "user": "ghost", "role": "worker"}, "user"),
        ({"organization": 999, "user": "nobody", "role": "worker"}, "organization"),
    ]:
        response = root.post("/api/memberships", data)
        assert response.status_code == 400 and field in response.json(), (data, response.json())


def test_memberships_of_other_orgs_are_invisible(world):
    bob_membership = Membership.objects.get(user=world.users["bob"]).pk
    assert world.client("alice").get(f"/api/memberships/{bob_membership}").status_code == 404
    assert world.client("alice").delete(f"/api/memberships/{bob_membership}").status_code == 404
    assert ok(world.client("bob").get("/api/memberships"))["count"] == 1
    assert ok(world.acme_client("alice").get("/api/memberships"))["count"] == 4


# --- organization context ---------------------------------------------------------------------------


def test_org_context_by_header_and_query_param(world):
    alice = world.client("alice")
    by_header = ok(world.acme_client("alice").post("/api/projects", {"name": "h"}), 201)
    by_param = ok(alice.post("/api/projects?org=acme", {"name": "q"}), 201)
    personal = ok(alice.post("/api/projects", {"name": "p"}), 201)
    assert by_header["organization"] == by_param["organization"] == world.acme.pk
    assert personal["organization"] is None
    assert {p["name"] for p in ok(alice.get("/api/projects?org=acme"))["results"]} == {"h", "q"}
    assert {p["name"] for p in ok(alice.get("/api/projects"))["results"]} == {"h", "q", "p"}


def test_org_context_errors_name_the_header_or_param(world):
    alice = world.client("alice")
    # An unknown organization answers as one the caller is not a member of (tests/test_identity_leaks.py).
    response = client_for(world.users["alice"], Organization(slug="ghost")).get("/api/projects")
    assert response.status_code == 403 and "X-Organization" in response.json()
    response = alice.get("/api/projects?org=ghost")
    assert response.status_code == 403 and "org" in response.json()
    response = world.client("alice", world.globex).get("/api/projects")
    assert response.status_code == 403 and "X-Organization" in response.json()
    response = alice.get("/api/projects?org=globex")
    assert response.status_code == 403 and "org" in response.json()
    response = world.client("alice", world.acme).get("/api/projects?org=globex")
    assert response.status_code == 400 and "X-Organization" in response.json()
    assert ok(world.client("root", world.globex).get("/api/projects"))["count"] == 0
    assert client_for(None, world.acme).get("/api/projects").status_code == 401


def test_org_context_sets_request_organization(world):
    from django.test import RequestFactory

    from accounts.middleware import OrganizationMiddleware

    seen = {}

    def view(request):
        seen["org"] = request.organization
        return None

    OrganizationMiddleware(view)(RequestFactory().get("/", HTTP_X_ORGANIZATION="acme"))
    assert seen["org"] == world.acme
    OrganizationMiddleware(view)(RequestFactory().get("/"))
    assert seen["org"] is None
