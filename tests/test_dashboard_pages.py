"""The built-in dashboard pages: login, listing, and panel queries limited to the viewer's
organizations whatever the request says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from accounts.models import Organization
from conftest import create_project_tree
from dashboards.catalog import dashboards


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def post_events(api, job_id: int, count: int) -> None:
    now = datetime.now(UTC)
    events = [
        {
            "scope": "draw:object",
            "timestamp": iso(now - timedelta(seconds=count - i)),
            "job_id": job_id,
            "count": 1,
        }
        for i in range(count)
    ]
    response = api.post("/api/events", {"events": events, "timestamp": iso(now)}, format="json")
    assert response.status_code == 201, response.content


@pytest.fixture
def two_orgs(org_api, make_user, ship, clickhouse):
    """acme (org_api's) with 3 drawn objects; rival with 5, invisible to acme's owner."""
    acme = create_project_tree(org_api, tasks=1, jobs_per_task=1)
    post_events(org_api, acme["jobs"][0]["id"], 3)
    rival = APIClient()
    rival.force_authenticate(make_user("rival-owner"))
    assert (
        rival.post("/api/organizations", {"slug": "rival", "name": "Rival"}, format="json").status_code == 201
    )
    rival.credentials(HTTP_X_ORGANIZATION="rival")
    tree = create_project_tree(rival, name="Secret", tasks=1, jobs_per_task=1)
    post_events(rival, tree["jobs"][0]["id"], 5)
    ship()
    viewer = APIClient()
    viewer.force_login(org_api.user)
    return {"viewer": viewer, "acme_org": org_api.org["id"], "rival_job": tree["jobs"][0]["id"]}


def panel(client, uid: str, title: str, **body):
    model = dashboards()[uid]
    panel_id = next(p["id"] for p in model["panels"] if p["title"] == title)
    return client.post(
        f"/analytics/api/d/{uid}/panels/{panel_id}", {"from": "now-1h", "to": "now", **body}, format="json"
    )


def test_pages_need_a_login_and_list_every_dashboard(api, make_user):
    assert api.get("/analytics/").status_code == 302
    assert api.get("/analytics/")["Location"].startswith("/analytics/login/")
    api.force_login(make_user("viewer"))
    page = api.get("/analytics/").content.decode()
    for title in ("All Events", "Management", "Monitoring", "Annotators"):
        assert title in page
    dashboard = api.get("/analytics/d/management/")
    assert dashboard.status_code == 200 and b'id="dashboard-json"' in dashboard.content
    assert api.get("/analytics/d/nope/").status_code == 404


def test_the_login_form_signs_in(api, make_user):
    make_user("viewer", password="pw-12345")
    response = api.post(
        "/analytics/login/", {"username": "viewer", "password": "pw-12345", "next": "/analytics/"}
    )
    assert response.status_code == 302 and response["Location"] == "/analytics/"


def test_panel_data_is_limited_to_the_viewers_organizations(two_orgs):
    viewer = two_orgs["viewer"]
    events = panel(viewer, "all-events", "Latest events")
    assert events.status_code == 200, events.content
    body = events.json()
    names = [c["name"] for c in body["columns"]]
    job_column = names.index(next(n for n in names if "job" in n.lower() and "id" in n.lower()))
    jobs = {row[job_column] for row in body["rows"]}
    assert jobs and two_orgs["rival_job"] not in jobs


def test_choosing_another_organization_shows_nothing_of_it(two_orgs):
    # 403 naming the variable, as `org_id` on the KPI API (it used to be an empty 200).
    rival = Organization.objects.get(slug="rival").id
    chosen = panel(
        two_orgs["viewer"], "all-events", "Latest events", variables={"organization": [str(rival)]}
    )
    assert chosen.status_code == 403 and chosen.json()["error"]["field"] == "variables.organization"
    assert "rows" not in chosen.json()


def test_a_request_cannot_set_the_organization_restriction(two_orgs):
    response = panel(two_orgs["viewer"], "all-events", "Latest events", variables={"org_ids": ["-1"]})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "variables.org_ids"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"from": "yesterday"}, 400, "from"),
        ({"from": "now", "to": "now-1h"}, 400, "from"),
        ({"variables": {"nope": ["1"]}}, 400, "variables.nope"),
        ({"variables": "user=1"}, 400, "variables"),
    ],
)
def test_bad_requests_get_400_naming_the_field(two_orgs, body, status, field):
    response = panel(two_orgs["viewer"], "management", "Working time", **body)
    assert response.status_code == status
    assert response.json()["error"]["field"] == field


def test_unknown_panels_and_variables_get_404_and_anonymous_gets_403(two_orgs, api):
    viewer = two_orgs["viewer"]
    assert viewer.post("/analytics/api/d/management/panels/999", {}, format="json").status_code == 404
    assert viewer.post("/analytics/api/d/management/variables/nope", {}, format="json").status_code == 404
    options = viewer.post("/analytics/api/d/management/variables/user", {"from": "now-1h"}, format="json")
    assert options.status_code == 200 and any("owner" in o["text"] for o in options.json()["options"])
    api.logout()
    assert api.post("/analytics/api/d/management/panels/1", {}, format="json").status_code in (401, 403)


def test_the_root_leads_to_the_dashboards(client, db):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/analytics/"


def test_swagger_ui_is_served_by_the_app_itself(client, make_user):
    client.force_login(make_user("reader"))
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html


def test_panels_bucket_days_in_the_requested_timezone(two_orgs):
    viewer = two_orgs["viewer"]
    answer = panel(viewer, "annotators", "Annotators per day", timezone="Asia/Kolkata", **{"from": "now-7d"})
    assert answer.status_code == 200, answer.content
    meta = answer.json()["meta"]
    assert meta["timezone"] == "Asia/Kolkata" and meta["interval_s"] == 86400
    assert meta["to"] - meta["from"] == 7 * 86_400_000 and meta["no_organization"] is False
    bad = panel(viewer, "annotators", "Annotators per day", timezone="Mars/Olympus")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "timezone"
    weeks = panel(viewer, "annotators", "Annotators per day", **{"from": "now-90d"})
    assert weeks.json()["meta"]["interval_s"] == 7 * 86400


def test_an_expired_session_is_told_apart_from_a_refusal(two_orgs):
    anonymous = APIClient()
    answer = panel(anonymous, "annotators", "Annotators")
    assert answer.status_code in (401, 403) and answer.json()["error"]["code"] == "not_authenticated"


def test_a_user_in_no_organization_gets_a_page_that_says_so(client, make_user, clickhouse):
    client.force_login(make_user("loner"))
    page = client.get("/analytics/d/annotators/")
    assert page.status_code == 200 and 'data-no-organization="true"' in page.content.decode()
    answer = panel(client, "annotators", "Annotators")
    assert answer.status_code == 200 and answer.json()["meta"]["no_organization"] is True
