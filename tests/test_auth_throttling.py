"""Password guessing is throttled per username and per client address (django-axes), before the
password hasher runs; sign-in needs CSRF; pages send a Content-Security-Policy."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from rest_framework.test import APIClient

from accounts.models import AccessToken

LIMIT = 3


class CountingHasher(MD5PasswordHasher):
    """A real (fast) hasher that counts how often a password is checked."""

    algorithm = "counting_md5"
    verified = 0

    def verify(self, password: str, encoded: str) -> bool:
        type(self).verified += 1
        return super().verify(password, encoded)


@pytest.fixture
def people(settings, django_user_model, transactional_db):
    settings.PASSWORD_HASHERS = ["test_auth_throttling.CountingHasher"]
    settings.AXES_FAILURE_LIMIT = LIMIT
    return {
        name: django_user_model.objects.create_user(name, f"{name}@example.com", "right-pw")
        for name in ("alice", "bob", "carol")
    }


def basic(username: str, password: str, address: str = "10.0.0.1") -> tuple[int, dict]:
    client = APIClient(REMOTE_ADDR=address)
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    response = client.get("/api/users/self", HTTP_AUTHORIZATION=f"Basic {token}")
    return response.status_code, response


def test_wrong_passwords_lock_the_username_and_the_address_before_hashing(people, settings):
    statuses = [basic("alice", f"guess-{i}")[0] for i in range(LIMIT + 5)]
    assert statuses == [401] * (LIMIT - 1) + [429] * 6  # the LIMIT-th failure locks
    status, response = basic("alice", "wrong-again")
    assert status == 429 and int(response["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert "Too many failed sign-ins" in response.json()["detail"]
    hashed = CountingHasher.verified
    # Locked: refused without hashing, whatever the password, the right one included.
    for _ in range(20):
        assert basic("alice", "right-pw")[0] == 429
    assert CountingHasher.verified == hashed
    # The username is locked from any address; the address for any username.
    assert basic("alice", "right-pw", address="10.0.0.2")[0] == 429
    assert basic("bob", "right-pw", address="10.0.0.1")[0] == 429
    assert CountingHasher.verified == hashed
    # Everybody else signs in; a token is never throttled, even from the locked address.
    assert basic("bob", "right-pw", address="10.0.0.3")[0] == 200
    _, key = AccessToken.issue(people["alice"], "ci")
    client = APIClient(REMOTE_ADDR="10.0.0.1")
    assert client.get("/api/users/self", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_the_api_login_and_the_sign_in_page_are_throttled_too(people):
    client = APIClient(REMOTE_ADDR="10.0.0.9")
    for expected in [401] * (LIMIT - 1) + [429]:  # the LIMIT-th failure locks
        response = client.post("/api/auth/login", {"username": "carol", "password": "no"}, format="json")
        assert response.status_code == expected
    response = client.post("/api/auth/login", {"username": "carol", "password": "right-pw"}, format="json")
    assert response.status_code == 429 and response["Retry-After"]
    page = APIClient(REMOTE_ADDR="10.0.0.10")
    response = page.post("/analytics/login/", {"username": "carol", "password": "right-pw"})
    assert response.status_code == 429  # the username is locked, from this address too


def test_a_successful_sign_in_resets_the_count(people):
    client = APIClient(REMOTE_ADDR="10.0.1.1")

    def sign_in(password: str) -> int:
        return client.post(
            "/api/auth/login", {"username": "carol", "password": password}, format="json"
        ).status_code

    for _ in range(2):
        assert [sign_in("no") for _ in range(LIMIT - 1)] == [401] * (LIMIT - 1)
        assert sign_in("right-pw") == 200


def test_the_sign_in_page_needs_csrf(people):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/analytics/login/", {"username": "alice", "password": "right-pw"})
    assert response.status_code == 403 and "sessionid" not in client.cookies
    page = client.get("/analytics/login/")
    token = client.cookies["csrftoken"].value
    assert page.status_code == 200
    response = client.post(
        "/analytics/login/", {"username": "alice", "password": "right-pw", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302 and "sessionid" in client.cookies
