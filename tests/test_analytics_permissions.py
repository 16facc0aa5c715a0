"""Who sees which analytics, across roles: KPI/metric values, per-user summaries and raw events.

Organizations A (id 1) and B (id 2). The annotator is a worker in both; each organization has an
owner, a maintainer, a supervisor and a worker; an outsider belongs to neither."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Membership, Organization, Role
from test_analytics_support import Filter, World, in_range, insert_events, random_events, totals

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(days=3)


@pytest.fixture
def people(transactional_db, django_user_model):
    make = django_user_model.objects.create_user
    org_a = Organization.objects.create(id=1, slug="org-a")
    org_b = Organization.objects.create(id=2, slug="org-b")
    users = {
        name: make(name, f"{name}@example.com", None)
        for name in (
            "annotator",
            "owner_a",
            "maintainer_a",
            "supervisor_a",
            "worker_a",
            "owner_b",
            "outsider",
        )
    }
    users["root"] = django_user_model.objects.create_superuser("root", "root@example.com", None)
    for org, name, role in [
        (org_a, "annotator", Role.WORKER),
        (org_b, "annotator", Role.WORKER),
        (org_a, "owner_a", Role.OWNER),
        (org_a, "maintainer_a", Role.MAINTAINER),
        (org_a, "supervisor_a", Role.SUPERVISOR),
        (org_a, "worker_a", Role.WORKER),
        (org_b, "owner_b", Role.OWNER),
    ]:
        Membership.objects.create(user=users[name], organization=org, role=role)
    return users


@pytest.fixture
def events(clickhouse, people):
    world = World(org_ids=(1, 2), users=(people["annotator"].pk, people["worker_a"].pk, people["owner_b"].pk))
    records = random_events(random.Random(5), 1500, START, timedelta(days=2), world)
    insert_events(clickhouse, records)
    return records


def as_user(api, people, name):
    if name is not None:
        api.force_authenticate(people[name])
    return api


def kpi_events(api, **params):
    response = api.get(
        "/api/analytics/metrics/values",
        {
            "metrics": "events",
            "start_timestamp": START.timestamp(),
            "end_timestamp": START.timestamp() + 2 * 86_400,
            "bucket": "1d",
            **params,
        },
    )
    body = response.json()
    return response.status_code, (body["metrics"][0]["aggregate"] if response.status_code == 200 else body)


# (caller, query, expected status, which events they see: org filter of the oracle, or None, and
# whether only the caller's own rows: workers and supervisors, accounts.privacy)
KPI_MATRIX = [
    ("owner_a", {}, 200, (1,), False),
    ("worker_a", {}, 200, (1,), True),
    ("supervisor_a", {"org_id": 1}, 200, (1,), True),
    ("annotator", {}, 200, (1, 2), True),
    ("annotator", {"org_id": 2}, 200, (2,), True),
    ("owner_b", {}, 200, (2,), False),
    ("maintainer_a", {"org_id": 1}, 200, (1,), False),
    ("worker_a", {"org_id": 2}, 403, None, None),
    ("owner_a", {"org_id": [1, 2]}, 403, None, None),
    ("outsider", {}, 200, (), False),
    ("outsider", {"org_id": 1}, 403, None, None),
    ("root", {}, 200, "all", False),
    ("root", {"org_id": 2}, 200, (2,), False),
]


@pytest.mark.parametrize(("caller", "query", "status", "sees", "own"), KPI_MATRIX)
def test_kpi_values_show_only_the_callers_organizations(
    api, people, events, caller, query, status, sees, own
):
    code, result = kpi_events(as_user(api, people, caller), **query)
    assert code == status, result
    if status == 403:
        assert result["error"] == {
            "code": "forbidden",
            "field": "org_id",
            "message": result["error"]["message"],
        }
        return
    users = (people[caller].pk,) if own else ()
    oracle = Filter(user_ids=users) if sees == "all" else Filter(org_ids=sees, user_ids=users)
    kept = [r for r in in_range(events, START.timestamp(), START.timestamp() + 2 * 86_400) if oracle.keep(r)]
    assert result == len(kept)
    assert not own or result < len(
        [r for r in in_range(events, START.timestamp(), START.timestamp() + 2 * 86_400) if r.org_id in sees]
    )


@pytest.mark.parametrize(
    ("caller", "query", "status"),
    [
        ("owner_a", {"org_id": 1}, 200),
        ("maintainer_a", {"org_id": 1}, 200),
        ("owner_a", {}, 200),  # owner_a's only organization is A
        ("supervisor_a", {"org_id": 1}, 403),
        ("worker_a", {"org_id": 1}, 403),
        ("annotator", {}, 200),  # their own id
        ("root", {}, 200),
    ],
)
def test_filtering_on_another_users_id_needs_an_admin_role(api, people, events, caller, query, status):
    code, result = kpi_events(as_user(api, people, caller), user_id=people["annotator"].pk, **query)
    assert code == status, result
    if status == 403:
        assert result["error"]["field"] == "user_id"
    else:
        orgs = query.get("org_id")
        oracle = Filter(org_ids=(orgs,) if orgs else None, user_ids=(people["annotator"].pk,))
        if caller == "owner_a":
            oracle = Filter(org_ids=(1,), user_ids=(people["annotator"].pk,))
        if caller == "annotator":
            oracle = Filter(org_ids=(1, 2), user_ids=(people["annotator"].pk,))
        kept = [
            r for r in in_range(events, START.timestamp(), START.timestamp() + 2 * 86_400) if oracle.keep(r)
        ]
        assert result == len(kept)


SUMMARY_MATRIX = [
    ("annotator", "me", {}, 200, None),
    ("annotator", "annotator", {}, 200, None),
    ("owner_a", "annotator", {}, 200, [1]),
    ("maintainer_a", "annotator", {}, 200, [1]),
    ("owner_b", "annotator", {}, 200, [2]),
    ("owner_a", "annotator", {"org_id": 2}, 403, None),
    ("supervisor_a", "annotator", {}, 403, None),
    ("worker_a", "annotator", {}, 403, None),
    ("outsider", "annotator", {}, 403, None),
    ("owner_a", "owner_b", {}, 403, None),  # owner_b is not in A
    ("root", "annotator", {}, 200, None),
    ("root", "annotator", {"org_id": 1}, 200, [1]),
    ("annotator", "annotator", {"org_id": 2}, 200, [2]),
    ("annotator", "annotator", {"org_id": 3}, 403, None),
]


@pytest.mark.parametrize(("caller", "target", "query", "status", "orgs"), SUMMARY_MATRIX)
@pytest.mark.parametrize("endpoint", ["summary", "raw"])
def test_user_analytics_for_self_admins_of_a_shared_org_and_superusers(
    api, people, events, caller, target, query, status, orgs, endpoint
):
    user_path = "me" if target == "me" else people[target].pk
    response = as_user(api, people, caller).get(
        f"/api/analytics/users/{user_path}/{endpoint}", {"days": 7, "limit": 1000, **query}
    )
    assert response.status_code == status, response.json()
    body = response.json()
    if status == 403:
        assert body["error"]["code"] == "forbidden"
        return
    target_id = people["annotator"].pk
    assert body["user_id"] == target_id and body["org_ids"] == orgs
    mine = [r for r in events if r.user_id == target_id and (orgs is None or r.org_id in orgs)]
    if endpoint == "summary":
        assert body["summary"]["events"] == totals(mine, ["events"])["events"]
    else:
        assert len(body["results"]) == len(mine)
        assert {e["org_id"] for e in body["results"]} <= (set(orgs) if orgs else {1, 2, None})


def test_an_unknown_user_is_404_for_superusers_and_403_for_everybody_else(api, people, clickhouse):
    assert as_user(api, people, "root").get("/api/analytics/users/999999/summary").status_code == 404
    response = as_user(api, people, "owner_a").get("/api/analytics/users/999999/summary")
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    response = api.get("/api/analytics/users/abc/summary")
    assert response.status_code == 400 and response.json()["error"]["field"] == "user"


def test_an_organization_context_header_scopes_and_is_checked(api, people, events):
    as_user(api, people, "annotator")
    code, count = kpi_events(api, org="org-b")
    oracle = Filter(org_ids=(2,), user_ids=(people["annotator"].pk,))  # a worker there: own rows
    assert code == 200
    assert count == len(
        [r for r in in_range(events, START.timestamp(), START.timestamp() + 2 * 86_400) if oracle.keep(r)]
    )
    code, body = kpi_events(api, org="org-b", org_id=1)
    assert code == 400 and body["error"]["field"] == "org_id"
    as_user(api, people, "owner_a")
    code, body = kpi_events(api, org="org-b")
    assert code == 403 and body["error"]["code"] == "forbidden"
