"""seed_demo: a deterministic simulated team whose numbers land in ClickHouse as the server computed them."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command

from conftest import rows
from demo.simulation import DemoSize, Simulation, run

SMALL = DemoSize(days=6, annotators=3, projects=1, tasks_per_project=2, jobs_per_task=3, frames_per_job=25)
# With this size, seed 5 walks every path: rejections, issues raised and resolved, API errors.
SEED = 5


def simulate(org: str, seed: int = SEED):
    return run(Simulation(seed=seed, size=SMALL, start=date(2026, 10, 5), org_slug=org))


def test_the_same_seed_gives_the_same_team_activity(transactional_db):
    first, second = simulate("alpha"), simulate("beta")
    assert first == second
    assert first.client_events > 300 and first.jobs_completed > 0 and first.working_time_ms > 0
    assert simulate("gamma", seed=SEED + 1) != first


def test_seeded_numbers_are_what_clickhouse_holds(transactional_db, ship, clickhouse):
    totals = simulate("demo")
    assert min(totals.jobs_rejected, totals.issues_raised, totals.issues_resolved, totals.api_errors) > 0
    ship()

    def one(sql: str) -> int:
        return rows(clickhouse, sql)[0]["n"]

    assert (
        one("SELECT sum(duration) AS n FROM events WHERE scope = 'send:working_time'")
        == totals.working_time_ms
    )
    assert one("SELECT count() AS n FROM events WHERE source = 'client'") == totals.client_events
    assert (
        one(
            "SELECT count() AS n FROM events WHERE scope = 'update:job' AND obj_name = 'state' "
            "AND obj_val = 'completed'"
        )
        == totals.jobs_completed
    )
    assert (
        one(
            "SELECT count() AS n FROM events WHERE scope = 'update:job' AND obj_name = 'state' "
            "AND obj_val = 'rejected'"
        )
        == totals.jobs_rejected
    )
    assert one("SELECT count() AS n FROM events WHERE scope = 'create:issue'") == totals.issues_raised
    assert (
        one(
            "SELECT count() AS n FROM events WHERE scope = 'update:issue' AND obj_name = 'resolved' "
            "AND obj_val = 'true'"
        )
        == totals.issues_resolved
    )
    assert (
        one("SELECT count() AS n FROM events WHERE scope = 'send:exception' AND source = 'server'")
        == totals.api_errors
    )
    # Events land on the simulated days, not on the day the seed ran.
    days = rows(
        clickhouse,
        "SELECT min(toDate(timestamp)) AS first, max(toDate(timestamp)) AS last FROM events "
        "WHERE scope = 'send:working_time'",
    )[0]
    assert days["first"] >= date(2026, 10, 5) and days["last"] <= date(2026, 10, 10)


def test_the_command_seeds_once_and_can_be_switched_off(transactional_db, settings, capsys):
    args = [
        "--days",
        "1",
        "--annotators",
        "1",
        "--projects",
        "1",
        "--tasks-per-project",
        "1",
        "--jobs-per-task",
        "1",
        "--frames-per-job",
        "5",
        "--start-date",
        "2026-10-05",
    ]
    settings.SEED_DEMO = False
    call_command("seed_demo", "--once", *args)
    assert "SEED_DEMO is off" in capsys.readouterr().out
    settings.SEED_DEMO = True
    call_command("seed_demo", "--once", *args)
    assert "seeded organization 'demo'" in capsys.readouterr().out
    call_command("seed_demo", "--once", *args)
    assert "exists: not seeding again" in capsys.readouterr().out
    with pytest.raises(Exception, match="exists already"):
        call_command("seed_demo", *args)
