"""The reverse proxy's auth subrequest for Grafana: only superusers (who see every row on every
analytics surface, accounts.privacy) get in, named by X-WEBAUTH-USER; everybody else, staff
included, gets 401/403 and the server's own pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.visibility import has_analytics_access

URL = "/api/analytics/grafana-auth"


@pytest.fixture
def users(django_user_model, db):
    return {
        "plain": django_user_model.objects.create_user("plain", "plain@example.com", "pw"),
        "staff": django_user_model.objects.create_user("analyst", "analyst@example.com", "pw", is_staff=True),
        "root": django_user_model.objects.create_superuser("root", "root@example.com", "pw"),
        "unicode": django_user_model.objects.create_superuser("zoë", "", "pw"),
        "inactive": django_user_model.objects.create_superuser("gone", "", "pw", is_active=False),
    }


def test_anonymous_users_are_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 401
    assert "X-WEBAUTH-USER" not in response


@pytest.mark.parametrize("who", ["plain", "staff"])
def test_users_without_analytics_access_are_refused(client, users, who):
    # Staff status alone no longer opens Grafana: the API would show staff only their organizations.
    client.force_login(users[who])
    response = client.get(URL)
    assert response.status_code == 403
    assert "X-WEBAUTH-USER" not in response


@pytest.mark.parametrize(
    ("who", "login", "email"),
    [("root", "root", "root@example.com")],
)
def test_superusers_are_named_for_grafana(client, users, who, login, email):
    client.force_login(users[who])
    response = client.get(URL)
    assert response.status_code == 200
    assert response["X-WEBAUTH-USER"] == login
    assert response["X-WEBAUTH-EMAIL"] == email
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert client.head(URL).status_code == 200


def test_a_header_unsafe_username_gets_a_stable_login(client, users):
    client.force_login(users["unicode"])
    response = client.get(URL)
    assert response.status_code == 200
    assert response["X-WEBAUTH-USER"] == f"user-{users['unicode'].pk}"
    assert "X-WEBAUTH-EMAIL" not in response


def test_only_reads_are_answered(client, users):
    client.force_login(users["root"])
    assert client.post(URL).status_code in (403, 405)


def test_has_analytics_access(users):
    assert [has_analytics_access(users[k]) for k in ("plain", "staff", "root", "inactive")] == [
        False,
        False,
        True,
        False,
    ]
    assert has_analytics_access(AnonymousUser()) is False
    assert has_analytics_access(None) is False
