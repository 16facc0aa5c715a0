from datetime import date, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from accounts.models import Organization
from demo.simulation import PASSWORD, DemoError, DemoSize, Simulation, run


class Command(BaseCommand):
    help = (
        "Create a demo organization (owner, maintainer, supervisor, annotators), projects, tasks and jobs, "
        "and simulate days of annotation through the real API: client event batches (working time computed "
        "by the server), annotation saves, jobs completed and rejected, issues raised and resolved, errors. "
        "Events go to the spool; the server ships them."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="random seed (same seed, same data)")
        parser.add_argument("--days", type=int, default=14, help="days to simulate, ending yesterday")
        parser.add_argument("--annotators", type=int, default=6)
        parser.add_argument("--projects", type=int, default=2)
        parser.add_argument("--tasks-per-project", type=int, default=4)
        parser.add_argument("--jobs-per-task", type=int, default=5)
        parser.add_argument("--frames-per-job", type=int, default=400)
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
        for name in (
            "days",
            "annotators",
            "projects",
            "tasks_per_project",
            "jobs_per_task",
            "frames_per_job",
        ):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        size = DemoSize(
            days=options["days"],
            annotators=options["annotators"],
            projects=options["projects"],
            tasks_per_project=options["tasks_per_project"],
            jobs_per_task=options["jobs_per_task"],
            frames_per_job=options["frames_per_job"],
        )
        start = options["start_date"] or (timezone.now().date() - timedelta(days=size.days))
        simulation = Simulation(seed=options["seed"], size=size, start=start, org_slug=org)
        with tqdm(total=size.days * size.annotators, desc="simulating annotator-days", unit="day") as bar:
            try:
                totals = run(simulation, progress=bar.update)
            except DemoError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(
            f"seeded organization {org!r}: {totals.client_events:,} client events "
            f"in {totals.requests:,} requests, {totals.working_time_ms / 3_600_000:.1f} working hours, "
            f"{totals.jobs_completed} jobs completed, "
            f"{totals.jobs_rejected} rejected, {totals.issues_raised} issues raised, "
            f"{totals.issues_resolved} resolved, {totals.api_errors} API errors"
        )
        self.stdout.write(
            f"users: {org}-owner, {org}-maintainer, {org}-supervisor, {org}-annotator-N; "
            f"password {PASSWORD!r}"
        )
