"""API keys are signed JWTs (what Dataloop's dtlpy needs: `exp`, `email`, a subject) and the server
still decides: signature, `exp`, then the token row named by `jti` (hash, revocation, expiry)."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import TOKEN_PREFIX_LENGTH, AccessToken, hash_token_key


@pytest.fixture
def alice(api, make_user):
    return make_user("alice")


def me(key: str, scheme: str = "Bearer"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    return client.get("/api/users/self")


def claims_of(key: str) -> dict:
    # What dtlpy does before every request: decode without checking the signature.
    return jwt.decode(key, options={"verify_signature": False})


def sign(claims: dict, secret: str) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def test_key_is_a_jwt_with_what_dtlpy_reads(alice, settings):
    expiry = timezone.now() + timedelta(days=3)
    token, key = AccessToken.issue(alice, "notebook", expiry_date=expiry)
    claims = claims_of(key)
    assert claims["email"] == "alice@example.com" and claims["sub"] == str(alice.pk)
    assert claims["jti"] == str(token.pk) and claims["exp"] == int(expiry.timestamp())
    assert claims["iat"] <= time.time() < claims["exp"] - 60
    # verified with the server's key, not just readable
    assert jwt.decode(key, settings.ACCESS_TOKEN_SIGNING_KEY, algorithms=["HS256"], issuer=tokens.ISSUER)
    stored = AccessToken.objects.get(pk=token.pk)
    assert stored.key_hash == hash_token_key(key) and stored.prefix == key[-TOKEN_PREFIX_LENGTH:]
    assert key not in (stored.key_hash, stored.prefix)
    for scheme in ("Token", "Bearer"):
        assert me(key, scheme).json()["username"] == "alice"


def test_a_key_without_expiry_date_still_carries_an_exp(alice):
    token, key = AccessToken.issue(alice, "forever")
    assert token.expiry_date is None
    assert claims_of(key)["exp"] > time.time() + 50 * 365 * 86_400
    assert me(key).status_code == 200


def test_created_through_the_api(api, alice):
    api.force_authenticate(alice)
    created = api.post("/api/auth/tokens", {"name": "ci"}, format="json").json()
    assert claims_of(created["key"])["jti"] == str(created["id"])
    assert me(created["key"]).status_code == 200


def test_revocation_and_row_expiry_are_enforced_by_the_server(alice):
    token, key = AccessToken.issue(alice, "x")
    AccessToken.objects.filter(pk=token.pk).update(revoked=True)
    response = me(key)
    assert response.status_code == 401 and "revoked" in response.json()["detail"]

    token, key = AccessToken.issue(alice, "y", expiry_date=timezone.now() + timedelta(days=1))
    AccessToken.objects.filter(pk=token.pk).update(expiry_date=timezone.now() - timedelta(seconds=1))
    response = me(key)
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_jwt_past_its_exp_is_refused(alice, settings):
    _, key = AccessToken.issue(alice, "x")
    claims = {**claims_of(key), "exp": int(time.time()) - 5}
    response = me(sign(claims, settings.ACCESS_TOKEN_SIGNING_KEY))
    assert response.status_code == 401 and "expired" in response.json()["detail"]


@pytest.mark.parametrize(
    "change",
    [
        "wrong secret",
        "another row",
        "another user",
        "no jti",
        "jti not a number",
        "jti too large",
        "foreign issuer",
        "none algorithm",
        "tampered payload",
    ],
)
def test_forged_or_altered_keys_get_401_json(alice, make_user, settings, change):
    bob = make_user("bob")
    _, key = AccessToken.issue(alice, "x")
    other, _ = AccessToken.issue(bob, "y")
    secret = settings.ACCESS_TOKEN_SIGNING_KEY
    claims = claims_of(key)
    if change == "wrong secret":
        forged = sign(claims, "not-the-server-key-but-long-enough-for-hs256")
    elif change == "another row":  # validly signed, but not the key stored for that row
        forged = sign({**claims, "jti": str(other.pk), "sub": str(bob.pk)}, secret)
    elif change == "another user":
        forged = sign({**claims, "sub": str(bob.pk)}, secret)
    elif change == "no jti":
        forged = sign({k: v for k, v in claims.items() if k != "jti"}, secret)
    elif change == "jti not a number":
        forged = sign({**claims, "jti": "abc"}, secret)
    elif change == "jti too large":
        forged = sign({**claims, "jti": str(2**64)}, secret)
    elif change == "foreign issuer":
        forged = sign({**claims, "iss": "someone-else"}, secret)
    elif change == "none algorithm":
        forged = jwt.encode(claims, None, algorithm="none")
    else:
        header, payload, signature = key.split(".")
        forged = f"{header}.{payload[:-2]}AA.{signature}"
    response = me(forged)
    assert response.status_code == 401, response.content
    assert "detail" in response.json()
    assert me(key).status_code == 200  # the real key still works


def test_opaque_keys_issued_before_jwts_keep_working(alice):
    legacy = "legacy-opaque-key-0123456789abcdefghijklmnopq"
    AccessToken.objects.create(user=alice, name="old", prefix=legacy[:8], key_hash=hash_token_key(legacy))
    assert me(legacy, "Token").json()["username"] == "alice"
    assert me(legacy + "x").status_code == 401
