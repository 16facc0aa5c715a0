"""One privacy rule per role on every analytics surface (accounts.privacy).

Organization `acme` has an owner, a maintainer, a supervisor, a worker and the worker's colleague;
`other` belongs to an outsider; `root` is a superuser. Each of them has a known number of events.
Every role asks every surface the same two questions about `acme`: whose rows do I see (and how
many), and may I read the colleague's numbers. Every surface must give the answer the rule gives.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Organization, Role
from dashboards.catalog import dashboards
from events.record import EventRecord
from exports.worker import run_pending
from test_analytics_support import insert_events
from test_exports_api import body, parse_csv

DAY_START = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
DAY_END = DAY_START + timedelta(days=2)
ISO_RANGE = {"from": DAY_START.isoformat().replace("+00:00", "Z"), "to": DAY_END.isoformat()[:19] + "Z"}
MEMBERS = {"owner": Role.OWNER, "maintainer": Role.MAINTAINER, "supervisor": Role.SUPERVISOR}
MEMBERS |= {"worker": Role.WORKER, "colleague": Role.WORKER}
EVENTS_OF = {"owner": 2, "maintainer": 3, "supervisor": 4, "worker": 5, "colleague": 6, "outsider": 7}
ROLES = ["root", "owner", "maintainer", "supervisor", "worker", "outsider"]


@pytest.fixture
def world(transactional_db, django_user_model, clickhouse):
    users = {
        name: django_user_model.objects.create_user(name, f"{name}@example.com", "pw") for name in EVENTS_OF
    }
    users["root"] = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    acme = Organization.objects.create(slug="acme", name="Acme")
    other = Organization.objects.create(slug="other", name="Other")
    for name, role in MEMBERS.items():
        Membership.objects.create(user=users[name], organization=acme, role=role)
    Membership.objects.create(user=users["outsider"], organization=other, role=Role.OWNER)
    records = []
    for name, count in EVENTS_OF.items():
        org = other if name == "outsider" else acme
        for i in range(count):
            records.append(
                EventRecord(
                    "click:element",
                    DAY_START + timedelta(hours=12, minutes=i),
                    source="client",
                    org_id=org.pk,
                    org_slug=org.slug,
                    user_id=users[name].pk,
                    user_name=name,
                )
            )
    insert_events(clickhouse, records)
    return users, acme


def expected(users, role: str) -> tuple[int, dict[int, int]]:
    """The rule: (status of an acme-scoped question, {user id: events} of acme the role sees)."""
    if role == "outsider":
        return 403, {}
    people = MEMBERS if role in ("root", "owner", "maintainer") else {role: None}
    return 200, {users[name].pk: EVENTS_OF[name] for name in people}


def client_of(users, role: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(users[role])
    return client


# --- each surface: (status, {user id: events seen}) about acme, and the status about the colleague ---


def kpi(client, acme, **params):
    response = client.get(
        "/api/analytics/metrics/values",
        {
            "metrics": "events",
            "start_timestamp": DAY_START.timestamp(),
            "end_timestamp": DAY_END.timestamp(),
            "bucket": "1d",
            "org_id": acme.pk,
            **params,
        },
    )
    return response.status_code, response.json()


def kpi_total(client, acme, users) -> tuple[int, int]:
    status, body = kpi(client, acme)
    return status, (body["metrics"][0]["aggregate"] if status == 200 else None)


def query_users(client, acme, **context) -> tuple[int, set[int] | None]:
    response = client.post(
        "/api/analytics/query",
        {
            "startTime": int(DAY_START.timestamp() * 1000),
            "endTime": int(DAY_END.timestamp() * 1000),
            "context": {"orgId": [acme.pk], **context},
            "measures": [{"measureType": "activeUsers", "pageSize": 0}],
        },
        format="json",
    )
    if response.status_code != 200:
        return response.status_code, None
    return 200, {record["userId"] for record in response.json()[0]["response"]}


def export_rows(flow: str, client, acme, **params) -> tuple[int, Counter | None]:
    """Either export flow (CVAT's `job` v2 and `classic` v1), started in acme's context."""
    query = urlencode({**ISO_RANGE, "org": acme.slug, **params})
    if flow == "job":
        started = client.post(f"/api/events/export?{query}")
        if started.status_code != 202:
            return started.status_code, None
        run_pending()
        download = client.get(f"/api/events/download?rq_id={started.json()['rq_id']}")
    else:
        started = client.get(f"/api/events?{query}")
        if started.status_code != 202:
            return started.status_code, None
        run_pending()
        query_id = started.json()["query_id"]
        download = client.get(f"/api/events?{query}&query_id={query_id}&action=download")
    assert download.status_code == 200, download.content
    rows = parse_csv(body(download))
    return 200, Counter(int(row["user_id"]) for row in rows)


def panel(client, acme, title: str, **variables):
    model = dashboards()["all-events"]
    panel_id = next(p["id"] for p in model["panels"] if p["title"] == title)
    return client.post(
        f"/analytics/api/d/all-events/panels/{panel_id}",
        {**ISO_RANGE, "variables": {"organization": [str(acme.pk)], **variables}},
        format="json",
    )


def panel_rows(client, acme, **variables) -> tuple[int, Counter | None]:
    response = panel(client, acme, "Latest events", **variables)
    if response.status_code != 200:
        return response.status_code, None
    body = response.json()
    column = [c["name"] for c in body["columns"]].index("User ID")
    return 200, Counter(row[column] for row in body["rows"])


def user_options(client, acme) -> tuple[int, set[int] | None]:
    response = client.post(
        "/analytics/api/d/all-events/variables/user",
        {**ISO_RANGE, "variables": {"organization": [str(acme.pk)]}},
        format="json",
    )
    if response.status_code != 200:
        return response.status_code, None
    return 200, {int(option["value"]) for option in response.json()["options"]}


@pytest.mark.parametrize("role", ROLES)
def test_every_surface_shows_a_role_the_same_rows(world, role):
    users, acme = world
    status, seen = expected(users, role)
    client = client_of(users, role)
    total = sum(seen.values()) if status == 200 else None

    assert kpi_total(client, acme, users) == (status, total), "KPI API"
    assert query_users(client, acme) == (status, set(seen) if status == 200 else None), "query API"
    for flow in ("job", "classic"):
        assert export_rows(flow, client, acme) == (status, Counter(seen) if status == 200 else None), flow
    assert panel_rows(client, acme) == (status, Counter(seen) if status == 200 else None), "raw panel"
    assert user_options(client, acme) == (status, set(seen) if status == 200 else None), "user options"
    over_time = panel(client, acme, "Events over time")
    assert over_time.status_code == status
    if status == 200:
        assert sum(row[1] for row in over_time.json()["rows"]) == total, "rollup panel"
    # Grafana cannot limit rows: only the role that sees every row everywhere gets in.
    session = APIClient()
    session.force_login(users[role])
    assert (session.get("/api/analytics/grafana-auth").status_code == 200) == (role == "root")


@pytest.mark.parametrize("role", ROLES)
def test_every_surface_answers_the_same_about_a_colleague(world, role):
    users, acme = world
    colleague = users["colleague"].pk
    sees_colleague = role in ("root", "owner", "maintainer")
    want = 200 if sees_colleague else 403
    client = client_of(users, role)

    status, body = kpi(client, acme, user_id=colleague)
    assert status == want, body
    if sees_colleague:
        assert body["metrics"][0]["aggregate"] == EVENTS_OF["colleague"]
    for endpoint in ("summary", "raw"):
        response = client.get(f"/api/analytics/users/{colleague}/{endpoint}", {"org_id": acme.pk, "days": 7})
        assert response.status_code == want, (endpoint, response.content)
    assert query_users(client, acme, userId=[colleague]) == (want, {colleague} if sees_colleague else None)
    for flow in ("job", "classic"):
        status, rows = export_rows(flow, client, acme, user_id=colleague)
        assert status == want and (rows == Counter({colleague: EVENTS_OF["colleague"]}) or not sees_colleague)
    status, rows = panel_rows(client, acme, user=[str(colleague)])
    assert status == want and (rows == Counter({colleague: EVENTS_OF["colleague"]}) or not sees_colleague)
    response = panel(client, acme, "Events over time", user=[str(colleague)])
    assert response.status_code == want
    if want == 403:
        assert response.json()["error"]["field"] in ("variables.user", "variables.organization")


def test_a_mixed_role_sees_only_their_own_rows_until_the_scope_is_narrowed(world, django_user_model):
    """Owner of `mine`, worker in `acme`: without an organization filter the answer covers both, so it
    is limited to their own rows; narrowed to `mine`, everybody's rows there."""
    users, _ = world
    mine = Organization.objects.create(slug="mine", name="Mine")
    Membership.objects.create(user=users["worker"], organization=mine, role=Role.OWNER)
    client = client_of(users, "worker")
    params = {"metrics": "events", "start_timestamp": DAY_START.timestamp()}
    params |= {"end_timestamp": DAY_END.timestamp(), "bucket": "1d"}
    response = client.get("/api/analytics/metrics/values", params)
    assert response.status_code == 200 and response.json()["metrics"][0]["aggregate"] == EVENTS_OF["worker"]
    response = client.get("/api/analytics/metrics/values", {**params, "user_id": users["colleague"].pk})
    assert response.status_code == 403 and response.json()["error"]["field"] == "user_id"
    response = client.get("/api/analytics/metrics/values", {**params, "org_id": mine.pk})
    assert response.status_code == 200 and response.json()["metrics"][0]["aggregate"] == 0
