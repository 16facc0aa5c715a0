"""The provisioned dashboards: generated JSON is up to date and well formed, and every panel and
variable query, expanded exactly as Grafana and the ClickHouse plugin expand it (All, specific
values, an organization restriction, an empty database), runs on the embedded engine over data
made through the real API, with key numbers checked against what was posted."""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from conftest import create_project_tree, join_by_invitation, rows
from dashboards.macros import (
    ALL,
    ORG_FILTER,
    MacroError,
    NothingVisible,
    OrgRestriction,
    all_values,
    check_org_filtered,
    dashboard_panels,
    dashboard_variables,
    expand,
)
from store.client import database_name

REPO = Path(settings.REPO_DIR)
DASHBOARD_DIR = REPO / "grafana" / "dashboards"
DASHBOARDS = {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARD_DIR.glob("*.json"))}
ALLOWED_PANELS = {"timeseries", "table", "stat", "barchart"}
INTERVAL = 300
BUILTINS = {"__timezone"}  # Grafana's global variables the queries use


def _generator():
    sys.path.insert(0, str(REPO / "grafana"))
    try:
        from generator import render
    finally:
        sys.path.remove(str(REPO / "grafana"))
    return render


# --- the JSON itself ---------------------------------------------------------------------------------


def test_generated_json_is_up_to_date():
    render = _generator()
    rendered = render.build_all()
    assert set(rendered) == set(DASHBOARDS), "grafana/dashboards/ holds exactly the generated files"
    assert render.stale(rendered) == [], "run: python grafana/generate.py"
    assert render.build_all() == rendered, "generation is deterministic"


def test_the_four_dashboards_have_cvats_panels_and_more():
    titles = {d["title"]: {p["title"] for p in dashboard_panels(d)} for d in DASHBOARDS.values()}
    assert titles == {
        "All Events": {"Events over time", "Latest events", "Browsers", "Operating systems"},
        "Management": {"Events per user", "Events over time", "Working time", "Working hours per user"},
        "Monitoring": {
            "Active users (last 15 minutes)",
            "Active users",
            "Duration of events",
            "Number of events",
            "Exceptions over time",
            "Exceptions per 1k events",
            "Exceptions",
        },
        "Annotators": {
            "Working hours",
            "Objects per working hour",
            "Jobs completed",
            "Job rejection rate",
            "Annotators",
            "Working hours per annotator per day",
            "Annotators per day",
            "Objects per working hour by annotator",
        },
    }
    assert len({d["uid"] for d in DASHBOARDS.values()}) == 4


def _queries(dashboard: dict) -> Iterator[tuple[str, str]]:
    for variable in dashboard_variables(dashboard):
        if variable.type == "query":
            yield f"variable {variable.name}", variable.query
    for panel in dashboard_panels(dashboard):
        for target in panel["targets"]:
            yield f"panel {panel['title']}", target["rawSql"]


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_rules(name):
    dashboard = DASHBOARDS[name]
    variables = {v.name: v for v in dashboard_variables(dashboard)}
    assert variables["org_ids"].hidden and variables["org_ids"].all_value == "-1"
    for variable in variables.values():
        # No IN () on an empty option list: All is always a custom all value.
        assert variable.include_all and variable.multi and variable.all_value in ("-1", "'__all__'")
    panels = list(dashboard_panels(dashboard))
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        assert panel["type"] in ALLOWED_PANELS, panel["title"]
        assert panel["datasource"] == {"type": "grafana-clickhouse-datasource", "uid": "clickhouse"}
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "clickhouse"
            assert target["editorType"] == "sql" and target["format"] in (0, 1)
    for where, sql in _queries(dashboard):
        references = re.findall(r"\$\{(\w+)(?::(\w+))?\}|\$(?!__)(\w+)", sql)
        for braced, fmt, bare in references:
            assert not bare, f"{where}: write ${{{bare}:singlequote}}"
            assert braced in variables or braced in BUILTINS, f"{where}: unknown variable {braced}"
            assert fmt == "singlequote", f"{where}: ${{{braced}}} without :singlequote"
        assert not re.search(r"\b(?:FROM|JOIN)\s+[\w`\"]+\.", sql, re.I), f"{where}: database name"
        check_org_filtered(sql)
        assert sql.count(ORG_FILTER) >= 1, where
        assert not re.search(r'AS\s+"?Activity"?', sql), f"{where}: say what is counted"
        assert "SELECT *\n    FROM events" in sql or "SELECT * " not in sql, where


# --- data through the real API ----------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class Client:
    """An API client signed in as `user` in organization `slug`, posting client batches."""

    def __init__(self, user, slug: str) -> None:
        self.user = user
        self.api = APIClient()
        self.api.force_authenticate(user)
        self.api.credentials(HTTP_X_ORGANIZATION=slug)
        self.clock = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # the client's (wrong) clock
        self.working_time_ms = 0

    def post(self, events: list[dict]) -> dict:
        body = []
        for offset, scope, fields in events:
            body.append({"scope": scope, "timestamp": iso(self.clock + timedelta(seconds=offset)), **fields})
        last = max(offset for offset, _, _ in events)
        response = self.api.post(
            "/api/events",
            {"events": body, "timestamp": iso(self.clock + timedelta(seconds=last + 1))},
            format="json",
        )
        assert response.status_code == 201, response.content
        answer = response.json()
        self.working_time_ms += sum(group["duration"] for group in answer["working_time"])
        self.clock += timedelta(seconds=last + 600)
        return answer

    def annotate(self, job: dict, *, frames: int, objects: int) -> None:
        platform = {"platform": {"name": "Firefox", "version": "128", "os": "Linux"}}
        events: list[tuple[float, str, dict]] = [
            (0, "load:cvat", {"payload": platform}),
            (1, "load:job", {"job_id": job["id"]}),
        ]
        for i in range(frames):
            events.append((2 + 10 * i, "change:frame", {"job_id": job["id"], "duration": 3000, "count": 1}))
        for i in range(objects):
            events.append((5 + 10 * i, "draw:object", {"job_id": job["id"], "count": 1, "duration": 2000}))
        self.post(events)


@pytest.fixture
def world(org_api, make_user, ship, clickhouse) -> dict[str, Any]:
    """acme: owner + annotators annie and bert, project Cars (renamed Cars v2) with 2 tasks x 2 jobs,
    annotation sessions, a completed and a rejected job, a client exception. globex: another
    organization with its own owner, project Boats and an annotation session."""
    acme = org_api.org
    tree = create_project_tree(org_api, "Cars", tasks=2, jobs_per_task=2)
    assert (
        org_api.patch(
            f"/api/projects/{tree['project']['id']}", {"name": "Cars v2"}, format="json"
        ).status_code
        == 200
    )
    annotators = {}
    for name in ("annie", "bert"):
        user = make_user(name)
        join_by_invitation(org_api, user)
        annotators[name] = Client(user, "acme")
    jobs = tree["jobs"]
    annotators["annie"].annotate(jobs[0], frames=6, objects=4)
    annotators["annie"].annotate(jobs[1], frames=3, objects=2)
    annotators["bert"].annotate(jobs[2], frames=5, objects=1)
    annotators["bert"].post(
        [
            (
                0,
                "send:exception",
                {"job_id": jobs[2]["id"], "payload": {"message": "It's broken \\o/", "stack": "at x"}},
            )
        ]
    )
    for job, state in ((jobs[0], "completed"), (jobs[1], "rejected"), (jobs[2], "completed")):
        response = org_api.patch(f"/api/jobs/{job['id']}", {"state": state}, format="json")
        assert response.status_code == 200, response.content

    gowner = make_user("gowner")
    other = APIClient()
    other.force_authenticate(gowner)
    response = other.post("/api/organizations", {"slug": "globex", "name": "Globex"}, format="json")
    assert response.status_code == 201, response.content
    globex = response.json()
    other.credentials(HTTP_X_ORGANIZATION="globex")
    boats = create_project_tree(other, "Boats", tasks=1, jobs_per_task=1)
    rival = Client(gowner, "globex")
    rival.annotate(boats["jobs"][0], frames=4, objects=3)

    ship()
    return {
        "acme": acme,
        "globex": globex,
        "tree": tree,
        "boats": boats,
        "working_time_ms": {name: c.working_time_ms for name, c in annotators.items()},
        "globex_working_time_ms": rival.working_time_ms,
        "users": {name: c.user for name, c in annotators.items()},
    }


def time_range() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(hours=2), now + timedelta(hours=1)


def run(clickhouse, sql: str, *, restriction: OrgRestriction | None = None) -> list[dict]:
    settings_ = restriction.query_settings(database_name()) if restriction else {}
    result = clickhouse.query(sql, settings=settings_)
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


def expand_for(dashboard: dict, sql: str, selection: dict[str, Any], **kwargs) -> str:
    start, end = time_range()
    return expand(
        sql,
        time_from=start,
        time_to=end,
        interval_seconds=kwargs.pop("interval", INTERVAL),
        variables=selection,
        all_values=all_values(dashboard_variables(dashboard)),
        **kwargs,
    )


def everything(dashboard: dict) -> dict[str, Any]:
    return {v.name: ALL for v in dashboard_variables(dashboard)}


def panel_rows(clickhouse, dashboard: dict, title: str, selection=None, **kwargs) -> list[dict]:
    panel = next(p for p in dashboard_panels(dashboard) if p["title"] == title)
    sql = expand_for(dashboard, panel["targets"][0]["rawSql"], selection or everything(dashboard), **kwargs)
    return run(clickhouse, sql, restriction=kwargs.get("restriction"))


def options(clickhouse, dashboard: dict, name: str, selection: dict[str, Any]) -> list[tuple[str, str]]:
    """(value, text) options of a query variable, as Grafana lists them."""
    variable = next(v for v in dashboard_variables(dashboard) if v.name == name)
    result = clickhouse.query(expand_for(dashboard, variable.query, selection))
    if len(result.column_names) == 1:
        return [(str(row[0]), str(row[0])) for row in result.result_rows]
    return [(str(row[0]), str(row[1])) for row in result.result_rows]


# --- every query runs ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_query_runs_with_all_and_with_specific_values(name, world, clickhouse):
    dashboard = DASHBOARDS[name]
    selection = everything(dashboard)
    for _where, sql in _queries(dashboard):
        run(clickhouse, expand_for(dashboard, sql, selection))  # All everywhere

    # Each variable on its own set to specific values (one, then two), the others All.
    for variable in dashboard_variables(dashboard):
        if variable.type != "query":
            continue
        found = options(clickhouse, dashboard, variable.name, selection)
        assert found, f"{name}: variable {variable.name} has no options on the test data"
        for take in (1, 2):
            chosen = selection | {variable.name: [value for value, _ in found[:take]]}
            for _where, sql in _queries(dashboard):
                run(clickhouse, expand_for(dashboard, sql, chosen))

    # All variables set the way a user would: each from its own options with the variables before
    # it already set (the cascade); a variable left without options stays at All. Both quotings.
    chosen = dict(selection)
    for variable in dashboard_variables(dashboard):
        if variable.type == "query":
            found = options(clickhouse, dashboard, variable.name, chosen)
            chosen[variable.name] = [value for value, _ in found[:2]] or ALL
    for where, sql in _queries(dashboard):
        for quoting in ("clickhouse", "grafana"):
            expanded = expand_for(dashboard, sql, chosen, quoting=quoting)
            assert "${" not in expanded and "$__" not in expanded, f"{where}: unexpanded {expanded}"
            run(clickhouse, expanded)


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_query_runs_on_an_empty_database(name, clickhouse):
    """No data at all: every option list is empty, All still expands to valid SQL."""
    dashboard = DASHBOARDS[name]
    for where, sql in _queries(dashboard):
        assert run(clickhouse, expand_for(dashboard, sql, everything(dashboard))) is not None, where
        # An empty selection (what a cleared multi-select sends) is All, never IN ().
        empty = {v.name: [] for v in dashboard_variables(dashboard)}
        run(clickhouse, expand_for(dashboard, sql, empty))


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_restricted_queries_never_see_another_organization(name, world, clickhouse):
    dashboard = DASHBOARDS[name]
    acme_only = OrgRestriction.of([world["acme"]["id"]])
    globex_only = OrgRestriction.of([world["globex"]["id"]])
    # Even a request that asks for globex explicitly gets only acme's rows.
    hostile = everything(dashboard) | {"org_ids": [str(world["globex"]["id"])], "organization": ALL}
    seen_acme = seen_globex = 0
    for where, sql in _queries(dashboard):
        acme_rows = run(
            clickhouse, expand_for(dashboard, sql, hostile, restriction=acme_only), restriction=acme_only
        )
        text = json.dumps(acme_rows, default=str)
        assert "Boats" not in text and "gowner" not in text and "Globex" not in text, where
        seen_acme += bool(acme_rows)
        globex_rows = run(clickhouse, expand_for(dashboard, sql, hostile, restriction=globex_only))
        text = json.dumps(globex_rows, default=str)
        assert "Cars" not in text and "annie" not in text and "Acme" not in text, where
        seen_globex += bool(globex_rows)
    assert seen_acme and seen_globex


def test_the_restriction_is_also_enforced_by_clickhouse(world, clickhouse):
    restriction = OrgRestriction.of([world["acme"]["id"]])
    unfiltered = "SELECT DISTINCT org_id FROM events UNION ALL SELECT DISTINCT org_id FROM rollup_5m"
    assert {row["org_id"] for row in run(clickhouse, unfiltered, restriction=restriction)} == {
        world["acme"]["id"]
    }
    with pytest.raises(MacroError, match="organization filter"):
        expand(unfiltered, time_from=0, time_to=1, interval_seconds=1, restriction=restriction)
    with pytest.raises(NothingVisible):
        expand(ORG_FILTER, time_from=0, time_to=1, interval_seconds=1, restriction=OrgRestriction.of([]))


# --- key numbers ---------------------------------------------------------------------------------


def test_management_working_time_equals_the_working_time_posted(world, clickhouse):
    dashboard = DASHBOARDS["management.json"]
    table = panel_rows(clickhouse, dashboard, "Working time")
    posted = world["working_time_ms"]
    assert sum(posted.values()) > 0
    total_ms = sum(row["Working time (h)"] for row in table) * 3_600_000
    assert total_ms == pytest.approx(sum(posted.values()) + world["globex_working_time_ms"], rel=1e-9)
    by_user: dict[str, float] = {}
    for row in table:
        by_user[row["User"]] = by_user.get(row["User"], 0) + row["Working time (h)"] * 3_600_000
    assert by_user["annie"] == pytest.approx(posted["annie"], rel=1e-9)
    assert by_user["bert"] == pytest.approx(posted["bert"], rel=1e-9)
    # Names beside ids, the renamed project under its new name.
    # (load:cvat, before a job is opened, counts too: a row without a job, kept.)
    annie_rows = [row for row in table if row["User"] == "annie" and row["Job ID"]]
    assert {row["Project"] for row in annie_rows} == {"Cars v2"}
    assert {row["Task"] for row in annie_rows} == {"Cars task 0"}
    jobs = {job["id"]: job for job in world["tree"]["jobs"]}
    assert {row["Job"] for row in annie_rows} == {f"Job #{job_id}" for job_id in list(jobs)[:2]}
    # Filtered to one user and one job, through the variables.
    job = world["tree"]["jobs"][0]
    only = everything(dashboard) | {"user": [str(world["users"]["annie"].id)], "job": [str(job["id"])]}
    one = panel_rows(clickhouse, dashboard, "Working time", only)
    assert [row["Job ID"] for row in one] == [job["id"]]
    bars = panel_rows(clickhouse, dashboard, "Working hours per user")
    assert {row["User"] for row in bars} >= {"annie", "bert"}


def test_event_counts_equal_the_events_table(world, clickhouse):
    start, end = time_range()
    (count,) = rows(clickhouse, "SELECT count() AS n FROM events")
    assert count["n"] > 0
    monitoring = DASHBOARDS["monitoring.json"]
    by_scope = panel_rows(clickhouse, monitoring, "Number of events")
    assert sum(row["Events"] for row in by_scope) == count["n"]
    expected = {
        (row["scope"], row["source"]): row["n"]
        for row in rows(clickhouse, "SELECT scope, source, count() AS n FROM events GROUP BY scope, source")
    }
    assert {(row["Scope"], row["Source"]): row["Events"] for row in by_scope} == expected
    for name in ("all_events.json", "management.json"):
        series = panel_rows(clickhouse, DASHBOARDS[name], "Events over time")
        assert sum(row["Events"] for row in series) == count["n"], name
    latest = panel_rows(clickhouse, DASHBOARDS["all_events.json"], "Latest events")
    assert len(latest) == min(count["n"], 1000)
    assert [row["Time"] for row in latest] == sorted((row["Time"] for row in latest), reverse=True)
    cars = [row for row in latest if row["Project ID"] == world["tree"]["project"]["id"]]
    assert cars and {row["Project"] for row in cars} == {"Cars v2"}
    assert {row["Organization"] for row in cars} == {"Acme"}
    assert {row["Task"] for row in cars if row["Task ID"]} <= {"Cars task 0", "Cars task 1"}
    # The scope variable narrows both the series and the table.
    only_draws = everything(DASHBOARDS["all_events.json"]) | {"scope": ["draw:object"]}
    draws = panel_rows(clickhouse, DASHBOARDS["all_events.json"], "Latest events", only_draws)
    assert draws and {row["Scope"] for row in draws} == {"draw:object"}
    (n_draws,) = rows(clickhouse, "SELECT count() AS n FROM events WHERE scope = 'draw:object'")
    series = panel_rows(clickhouse, DASHBOARDS["all_events.json"], "Events over time", only_draws)
    assert sum(row["Events"] for row in series) == n_draws["n"]
    assert start < datetime.now(UTC) < end


def test_monitoring_numbers(world, clickhouse):
    monitoring = DASHBOARDS["monitoring.json"]
    (active,) = panel_rows(clickhouse, monitoring, "Active users (last 15 minutes)")
    (expected,) = rows(clickhouse, "SELECT uniqExact(user_id) AS n FROM events WHERE user_id IS NOT NULL")
    assert active["Active users"] == expected["n"]
    exceptions = panel_rows(clickhouse, monitoring, "Exceptions")
    client_errors = [row for row in exceptions if row["Source"] == "client"]
    assert [row["Error"] for row in client_errors] == ["It's broken \\o/"]
    assert client_errors[0]["User"] == "bert" and client_errors[0]["Project"] == "Cars v2"
    # The error-message variable, with its quote and backslash, selects it exactly.
    chosen = everything(monitoring) | {"error": ["It's broken \\o/"]}
    assert len(panel_rows(clickhouse, monitoring, "Exceptions", chosen)) == 1
    over_time = panel_rows(clickhouse, monitoring, "Exceptions over time")
    assert sum(row["Client exceptions"] for row in over_time) == 1
    durations = {
        (r["Scope"], r["Source"]): r for r in panel_rows(clickhouse, monitoring, "Duration of events")
    }
    assert durations[("draw:object", "client")]["Shortest (ms)"] == 2000
    browsers = panel_rows(clickhouse, DASHBOARDS["all_events.json"], "Browsers")
    assert browsers == [{"Browser": "Firefox 128", "Users": 3}]
    systems = panel_rows(clickhouse, DASHBOARDS["all_events.json"], "Operating systems")
    assert systems == [{"Operating system": "Linux", "Users": 3}]


def test_annotator_kpis(world, clickhouse):
    annotators = DASHBOARDS["annotators.json"]
    acme = OrgRestriction.of([world["acme"]["id"]])
    table = {
        row["Annotator"]: row for row in panel_rows(clickhouse, annotators, "Annotators", restriction=acme)
    }
    assert set(table) == {"annie", "bert"}
    annie, bert = table["annie"], table["bert"]
    posted = world["working_time_ms"]
    assert annie["Working hours"] == pytest.approx(posted["annie"] / 3_600_000, rel=1e-9)
    assert annie["Objects drawn"] == 6 and bert["Objects drawn"] == 1
    assert annie["Objects per working hour"] == pytest.approx(6 / (posted["annie"] / 3_600_000), rel=1e-9)
    assert annie["Jobs worked on"] == 2 and bert["Jobs worked on"] == 1
    # annie's jobs: one completed, one rejected (by the owner); bert's: one completed.
    assert (annie["Jobs completed"], annie["Jobs rejected"]) == (1, 1)
    assert annie["Job rejection rate (%)"] == pytest.approx(50.0)
    assert (bert["Jobs completed"], bert["Jobs rejected"], bert["Job rejection rate (%)"]) == (1, 0, 0.0)
    (hours,) = panel_rows(clickhouse, annotators, "Working hours", restriction=acme)
    assert hours["Working hours"] == pytest.approx(sum(posted.values()) / 3_600_000, rel=1e-9)
    (completed,) = panel_rows(clickhouse, annotators, "Jobs completed", restriction=acme)
    assert completed["Jobs completed"] == 2
    (rate,) = panel_rows(clickhouse, annotators, "Job rejection rate", restriction=acme)
    assert rate["Job rejection rate (%)"] == pytest.approx(100 / 3)
    only_bert = everything(annotators) | {"user": [str(world["users"]["bert"].id)]}
    (rate,) = panel_rows(clickhouse, annotators, "Job rejection rate", only_bert, restriction=acme)
    assert rate["Job rejection rate (%)"] == 0
    bars = panel_rows(clickhouse, annotators, "Objects per working hour by annotator", restriction=acme)
    assert sorted(row["Annotator"] for row in bars) == ["annie", "bert"]


def test_time_series_have_a_zero_for_every_interval_of_the_range(world, clickhouse):
    start, end = time_range()
    first = int(start.timestamp()) // INTERVAL * INTERVAL
    expected = len(range(first, int(end.timestamp()) + 1, INTERVAL))
    rows = panel_rows(clickhouse, DASHBOARDS["all_events.json"], "Events over time")
    assert len(rows) == expected and any(row["Events"] == 0 for row in rows)
    per_user = panel_rows(clickhouse, DASHBOARDS["management.json"], "Events per user")
    users = {row["User"] for row in per_user}
    assert len(users) >= 3 and len(per_user) == expected * len(users)
    assert [row["time"] for row in per_user] == sorted(row["time"] for row in per_user)


@pytest.mark.parametrize("timezone", ["utc", "Pacific/Kiritimati", "America/Adak"])
def test_per_day_panels_add_up_to_the_annotators_table(world, clickhouse, timezone):
    annotators = DASHBOARDS["annotators.json"]
    acme = OrgRestriction.of([world["acme"]["id"]])
    day = 86_400
    table = {
        row["Annotator"]: row for row in panel_rows(clickhouse, annotators, "Annotators", restriction=acme)
    }
    # annie's completed job was never rejected; her rejected job was never completed.
    assert (
        table["annie"]["First-pass acceptance (%)"] == 100
        and table["bert"]["First-pass acceptance (%)"] == 100
    )
    bars = panel_rows(
        clickhouse,
        annotators,
        "Working hours per annotator per day",
        restriction=acme,
        interval=day,
        timezone=timezone,
    )
    per_day = panel_rows(
        clickhouse, annotators, "Annotators per day", restriction=acme, interval=day, timezone=timezone
    )
    zone = ZoneInfo("UTC" if timezone == "utc" else timezone)
    for found, time_column in ((bars, "time"), (per_day, "Period")):
        for row in found:
            local = row[time_column].astimezone(zone)
            assert (local.hour, local.minute) == (0, 0), (
                f"{time_column} {local} is not a midnight in {timezone}"
            )
    for name, total in table.items():
        hours = [row["Working hours"] for row in bars if row["Annotator"] == name]
        assert 1 <= len(hours) <= 2  # the 3-hour range spans one or two calendar days
        assert math.fsum(hours) == pytest.approx(total["Working hours"], rel=1e-12)
        days = [row for row in per_day if row["Annotator"] == name]
        for column in ("Working hours", "Objects drawn", "Jobs completed", "Jobs rejected"):
            assert math.fsum(row[column] for row in days) == pytest.approx(total[column], rel=1e-12), column
    # Weeks (Mondays) when the interval is a week.
    weeks = panel_rows(clickhouse, annotators, "Annotators per day", restriction=acme, interval=7 * day)
    assert {row["Period"].weekday() for row in weeks} == {0}


def test_variable_options_show_names_beside_ids(world, clickhouse):
    dashboard = DASHBOARDS["management.json"]
    selection = everything(dashboard)
    projects = dict(options(clickhouse, dashboard, "project", selection))
    assert projects[str(world["tree"]["project"]["id"])] == f"Cars v2 (#{world['tree']['project']['id']})"
    organizations = dict(options(clickhouse, dashboard, "organization", selection))
    assert organizations[str(world["acme"]["id"])] == f"Acme (#{world['acme']['id']})"
    # Cascade: with globex selected, only Boats is offered.
    only_globex = selection | {"organization": [str(world["globex"]["id"])]}
    offered = options(clickhouse, dashboard, "project", only_globex)
    assert [text for _, text in offered] == [f"Boats (#{world['boats']['project']['id']})"]
    users = {text for _, text in options(clickhouse, dashboard, "user", selection)}
    assert {f"annie (#{world['users']['annie'].id})", f"bert (#{world['users']['bert'].id})"} <= users
