"""seed_demo: a deterministic simulated team whose numbers land in ClickHouse as the server computed
them, whose rows are created at the simulated moments before their events, and whose annotators
differ enough for a ranking to mean something."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from annotation.models import Job, Project, Task
from conftest import rows
from demo.simulation import DemoSize, Simulation, run

START = date(2026, 10, 5)  # a Monday
# Four annotators: fast and careless, slow and accurate, a part-timer, a night shift.
SMALL = DemoSize(days=6, annotators=4, projects=2, jobs_per_task=3, frames_per_job=150)
# With this size, seed 5 walks every path: rejections, issues raised and resolved, API errors.
SEED = 5


def simulate(org: str, seed: int = SEED, size: DemoSize = SMALL):
    return run(Simulation(seed=seed, size=size, start=START, org_slug=org))


@pytest.fixture
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_same_seed_gives_the_same_team_activity(transactional_db, fast_hashing):
    size = DemoSize(days=1, annotators=2, projects=1, jobs_per_task=2, frames_per_job=100)
    first, second = simulate("alpha", size=size), simulate("beta", size=size)
    assert first == second
    assert first.client_events > 100 and first.jobs_completed > 0 and first.working_time_ms > 0
    assert simulate("gamma", seed=SEED + 1, size=size) != first


@pytest.fixture
def seeded(transactional_db, fast_hashing, ship, clickhouse):
    totals = simulate("demo")
    ship()
    return totals


def test_seeded_numbers_are_what_clickhouse_holds(seeded, clickhouse):
    totals = seeded
    assert min(totals.jobs_rejected, totals.issues_raised, totals.issues_resolved, totals.api_errors) > 0

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
    assert one("SELECT count() AS n FROM events WHERE scope = 'create:project'") == totals.projects == 2
    assert one("SELECT count() AS n FROM events WHERE scope = 'create:job'") == totals.jobs
    # Accepted jobs are in the acceptance stage and stay completed (a stage change alone would
    # reset the state to "new").
    accepted = Job.objects.filter(stage="acceptance")
    assert accepted.exists() and not accepted.exclude(state="completed").exists()
    # Events land on the simulated days (a night shift runs into the morning after the last one).
    days = rows(
        clickhouse,
        "SELECT min(toDate(timestamp)) AS first, max(toDate(timestamp)) AS last FROM events",
    )[0]
    assert days["first"] == START and days["last"] <= START + timedelta(days=SMALL.days)


def ms(moment: datetime) -> datetime:
    """A moment at ClickHouse's DateTime64(3) precision."""
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=None)


def test_projects_tasks_and_jobs_are_created_at_their_simulated_moment_before_their_events(
    seeded, clickhouse
):
    end = datetime(START.year, START.month, START.day, tzinfo=UTC) + timedelta(days=SMALL.days + 1)
    for model, key, kind in (
        (Project, "project_id", "project"),
        (Task, "task_id", "task"),
        (Job, "job_id", "job"),
    ):
        objects = list(model.objects.all())
        assert objects
        created_events = {
            row["id"]: row["at"]
            for row in rows(
                clickhouse,
                f"SELECT {key} AS id, timestamp AS at FROM events WHERE scope = 'create:{kind}'",
            )
        }
        first_events = {
            row["id"]: row["first"]
            for row in rows(
                clickhouse,
                f"SELECT {key} AS id, min(timestamp) AS first FROM events "
                f"WHERE {key} IS NOT NULL AND scope != 'create:{kind}' GROUP BY {key}",
            )
        }
        for obj in objects:
            # The row and the event that announced it carry the same simulated moment...
            assert created_events[obj.pk] == ms(obj.created_date), (kind, obj.pk)
            assert obj.created_date < end and obj.created_date <= obj.updated_date < end
            # ...which comes before anything else that happened to it.
            if obj.pk in first_events:
                assert ms(obj.created_date) <= first_events[obj.pk], (kind, obj.pk)
    # Projects open one after another over the simulated days, not all at the start.
    opened = sorted(project.created_date.date() for project in Project.objects.all())
    assert opened == [START, START + timedelta(days=SMALL.days // 2)]
    joined = {user.date_joined for user in get_user_model().objects.filter(username__startswith="demo-")}
    assert joined == {datetime(START.year, START.month, START.day, 7, tzinfo=UTC)}


def test_annotators_differ_in_speed_quality_and_hours(seeded, clickhouse):
    names = dict(get_user_model().objects.values_list("id", "first_name"))
    per_user = {
        names[row["user_id"]]: row
        for row in rows(
            clickhouse,
            "SELECT user_id, sumIf(count, scope = 'draw:object') AS objects, "
            "sumIf(duration, scope = 'send:working_time') / 3600000 AS hours, "
            "uniqExactIf(toDate(timestamp), scope = 'send:working_time') AS days, "
            "groupUniqArrayIf(toDayOfWeek(timestamp), scope = 'send:working_time') AS weekdays, "
            "sumIf(duration, scope = 'send:working_time' AND NOT toHour(timestamp) BETWEEN 6 AND 20) "
            "/ greatest(1, sumIf(duration, scope = 'send:working_time')) AS night_share "
            "FROM events WHERE source = 'client' OR scope = 'send:working_time' GROUP BY user_id",
        )
    }
    assert set(per_user) == {"Ava", "Ben", "Chloe", "Dev"}
    speed = {name: row["objects"] / row["hours"] for name, row in per_user.items()}
    # Objects per working hour rank the fast one first and the slow one last, far apart.
    assert speed["Ava"] > speed["Chloe"] > speed["Ben"] and speed["Ava"] > 2.5 * speed["Ben"]

    assignee = {job.pk: names[job.assignee_id] for job in Job.objects.all()}
    outcome: dict[str, dict[str, int]] = {name: {"completed": 0, "rejected": 0} for name in per_user}
    for row in rows(
        clickhouse,
        "SELECT job_id, obj_val FROM events WHERE scope = 'update:job' AND obj_name = 'state' "
        "AND obj_val IN ('completed', 'rejected')",
    ):
        outcome[assignee[row["job_id"]]][row["obj_val"]] += 1
    rejection = {name: o["rejected"] / max(1, o["completed"]) for name, o in outcome.items()}
    assert rejection["Ava"] >= 0.3 > 0.1 >= rejection["Ben"]

    # Working patterns: the part-timer works fewer, shorter days on her weekdays only (Mon, Wed,
    # Thu); the night shift works mostly between 21:00 and 06:00 UTC; the others by day.
    assert set(per_user["Chloe"]["weekdays"]) <= {1, 3, 4}
    hours_per_day = {name: row["hours"] / row["days"] for name, row in per_user.items()}
    assert hours_per_day["Chloe"] < 0.6 * min(hours_per_day["Ava"], hours_per_day["Ben"])
    assert per_user["Dev"]["night_share"] > 0.8
    assert max(per_user[name]["night_share"] for name in ("Ava", "Ben", "Chloe")) < 0.1


def test_the_command_seeds_once_and_can_be_switched_off(transactional_db, fast_hashing, settings, capsys):
    args = [
        "--days",
        "1",
        "--annotators",
        "1",
        "--projects",
        "1",
        "--jobs-per-task",
        "1",
        "--frames-per-job",
        "200",
        "--start-date",
        "2026-10-05",
    ]
    settings.SEED_DEMO = False
    call_command("seed_demo", "--once", *args)
    assert "SEED_DEMO is off" in capsys.readouterr().out
    settings.SEED_DEMO = True
    call_command("seed_demo", "--once", *args)
    out = capsys.readouterr().out
    assert "seeded organization 'demo'" in out and "demo-annotator-1: Ava Moreno, fast and careless" in out
    call_command("seed_demo", "--once", *args)
    assert "exists: not seeding again" in capsys.readouterr().out
    with pytest.raises(Exception, match="exists already"):
        call_command("seed_demo", *args)
