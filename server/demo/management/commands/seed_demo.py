from datetime import date, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone
from tqdm import tqdm

from accounts.models import Organization
from demo.personas import persona_for
from demo.simulation import PASSWORD, DemoError, DemoSize, Simulation, run


class Command(BaseCommand):
    help = (
        "Create a demo organization (owner, maintainer, supervisor, annotators with distinct personas) and "
        "simulate weeks of annotation through the real API, at the simulated times: projects opened over "
        "the weeks, tasks and jobs created when annotators need work, client event batches (working time "
        "computed by the server), annotation saves, jobs completed, rejected and accepted, issues raised "
        "and resolved, errors. Events go to the spool; the server ships them."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="random seed (same seed, same data)")
        default = DemoSize()
        parser.add_argument(
            "--days", type=int, default=default.days, help="days to simulate, ending yesterday"
        )
        parser.add_argument("--annotators", type=int, default=default.annotators)
        parser.add_argument(
            "--projects", type=int, default=default.projects, help="opened one after another over the days"
        )
        parser.add_argument("--jobs-per-task", type=int, default=default.jobs_per_task)
        parser.add_argument(
            "--frames-per-job", type=int, default=default.frames_per_job, help="on average (±50%%)"
        )
        parser.add_argument("--org", default="demo", help="organization slug (also the user name prefix)")
        parser.add_argument("--start-date", type=date.fromisoformat, help="first simulated day (YYYY-MM-DD)")
        parser.add_argument(
            "--once",
            action="store_true",
            help="do nothing if the organization exists or SEED_DEMO is off (what `make run` uses)",
        )

    def handle(self, *args, **options) -> None:
        org = options["org"]
        if options["once"]:
            if not settings.SEED_DEMO:
                self.stdout.write("SEED_DEMO is off: not seeding demo data")
                return
            if Organization.objects.filter(slug=org).exists():
                self.stdout.write(f"demo organization {org!r} exists: not seeding again")
                return
        elif Organization.objects.filter(slug=org).exists():
            raise CommandError(f"organization {org!r} exists already; pass another --org")
        for name in ("days", "annotators", "projects", "jobs_per_task", "frames_per_job"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        size = DemoSize(
            days=options["days"],
            annotators=options["annotators"],
            projects=options["projects"],
            jobs_per_task=options["jobs_per_task"],
            frames_per_job=options["frames_per_job"],
        )
        start = options["start_date"] or (timezone.now().date() - timedelta(days=size.days))
        if connection.vendor == "sqlite":
            # Thousands of short transactions: in WAL mode, NORMAL skips the fsync of each commit and
            # still survives a crash of this process, which is all a one-off seed needs.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")
        simulation = Simulation(seed=options["seed"], size=size, start=start, org_slug=org)
        self.stdout.write(
            f"seeding the {org!r} organization: {size.annotators} annotators, {size.days} days "
            f"from {start} (SEED_DEMO=false skips this)"
        )
        bar = tqdm(
            total=size.days * size.annotators,
            desc="simulating annotator-days",
            unit="day",
            mininterval=1.0,
        )
        with bar:
            try:
                totals = run(simulation, progress=bar.update)
            except DemoError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(
            f"seeded organization {org!r}: {totals.projects} projects, {totals.tasks} tasks, "
            f"{totals.jobs} jobs; {totals.client_events:,} client events "
            f"in {totals.requests:,} requests, {totals.working_time_ms / 3_600_000:.1f} working hours, "
            f"{totals.jobs_completed} jobs completed, "
            f"{totals.jobs_rejected} rejected, {totals.issues_raised} issues raised, "
            f"{totals.issues_resolved} resolved, {totals.api_errors} API errors"
        )
        self.stdout.write(
            f"users: {org}-owner, {org}-maintainer, {org}-supervisor, {org}-annotator-N; "
            f"password {PASSWORD!r}"
        )
        for index in range(size.annotators):
            persona = persona_for(index)
            self.stdout.write(
                f"  {org}-annotator-{index + 1}: {persona.first_name} {persona.last_name}, {persona.style}"
            )
