"""A simulated annotation team, driven through the real API.

Everything goes through the server's own request paths, in this process: users register, the owner
builds the organization, projects, tasks and jobs; annotators post client event batches to
`POST /api/events` (so the server computes working time), save annotations, complete jobs; a
maintainer rejects some and raises issues, which annotators fix and a supervisor resolves. The
clock (events.clock) is moved through the simulated days so events land on those days; client
batches carry a send time equal to the moment they are received, so no clock correction applies.
Deterministic for a given seed and start date.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts.models import AccessToken
from events.clock import simulated_time

PASSWORD = "demo-pass-2026"
PROJECTS = [
    ("Street scenes", ["car", "pedestrian", "cyclist", "traffic light"]),
    ("Retail shelves", ["product", "price tag", "empty slot"]),
    ("Aerial imagery", ["building", "road", "tree", "vehicle"]),
    ("Medical scans", ["lesion", "organ"]),
]
# Browsers the team uses, one per annotator (by position, so the random sequence is untouched).
PLATFORMS = [
    {"name": "Chrome", "version": "142", "os": "Windows"},
    {"name": "Firefox", "version": "145", "os": "Linux"},
    {"name": "Chrome", "version": "142", "os": "macOS"},
    {"name": "Edge", "version": "142", "os": "Windows"},
    {"name": "Safari", "version": "19", "os": "macOS"},
]
SHAPES = ["rectangle", "rectangle", "rectangle", "polygon", "polyline", "points"]
POINTS = {"rectangle": 4, "polygon": 8, "polyline": 6, "points": 2}


@dataclass(frozen=True)
class DemoSize:
    days: int = 14
    annotators: int = 6
    projects: int = 2
    tasks_per_project: int = 4
    jobs_per_task: int = 5
    frames_per_job: int = 400


@dataclass
class Member:
    username: str
    role: str
    user_id: int = 0
    token: str = ""
    client: APIClient = field(default_factory=APIClient)


@dataclass
class JobState:
    id: int
    task_id: int
    project_id: int
    label_ids: list[int]
    assignee: str
    frames: int
    frame: int = 0
    state: str = "new"
    open_issues: list[int] = field(default_factory=list)


@dataclass
class Totals:
    requests: int = 0
    client_events: int = 0
    working_time_ms: int = 0
    jobs_completed: int = 0
    jobs_rejected: int = 0
    issues_raised: int = 0
    issues_resolved: int = 0
    api_errors: int = 0


class DemoError(RuntimeError):
    pass


class Simulation:
    def __init__(self, *, seed: int, size: DemoSize, start: date, org_slug: str = "demo") -> None:
        self.rng = random.Random(seed)
        self.size = size
        self.start = datetime(start.year, start.month, start.day, tzinfo=UTC)
        self.org_slug = org_slug
        self.members: dict[str, Member] = {}
        self.jobs: list[JobState] = []
        self.totals = Totals()
        self.now = self.start

    # --- requests --------------------------------------------------------------------------

    def call(
        self, who: str, method: str, path: str, body: Any = None, *, expect: tuple[int, ...] = (200, 201)
    ) -> Any:
        send = getattr(self.members[who].client, method)
        with simulated_time(self.now):
            response = send(path) if body is None else send(path, body, format="json")
        self.totals.requests += 1
        if response.status_code not in expect:
            raise DemoError(
                f"{method.upper()} {path} as {who}: {response.status_code} {response.content[:300]!r}"
            )
        return response.json() if response.content else None

    # --- set-up ----------------------------------------------------------------------------

    def build_team(self) -> None:
        prefix = self.org_slug
        team = [
            (f"{prefix}-owner", "owner"),
            (f"{prefix}-maintainer", "maintainer"),
            (f"{prefix}-supervisor", "supervisor"),
        ]
        team += [(f"{prefix}-annotator-{i + 1}", "worker") for i in range(self.size.annotators)]
        for username, role in team:
            member = Member(username=username, role=role)
            # Accounts are made as an instance admin makes them: self-registration is off by default.
            with simulated_time(self.now):
                user = get_user_model().objects.create_user(
                    username,
                    f"{username}@example.com",
                    PASSWORD,
                    first_name=username.split("-")[-1].capitalize(),
                )
            member.user_id = user.pk
            member.token = self._token(member)
            member.client.credentials(HTTP_AUTHORIZATION=f"Token {member.token}")
            self.members[username] = member
        owner = f"{prefix}-owner"
        org = self.call(
            owner, "post", "/api/organizations", {"slug": self.org_slug, "name": "Demo Annotation Co."}
        )
        for username, role in team[1:]:
            invitation = self.call(
                owner, "post", "/api/invitations", {"organization": org["id"], "user": username, "role": role}
            )
            self.call(username, "post", f"/api/invitations/{invitation['key']}/accept")
        for member in self.members.values():
            member.client.credentials(
                HTTP_AUTHORIZATION=f"Token {member.token}", HTTP_X_ORGANIZATION=self.org_slug
            )

    def _token(self, member: Member) -> str:
        user = get_user_model().objects.get(pk=member.user_id)
        return AccessToken.issue(user, "demo")[1]

    def build_work(self) -> None:
        owner, maintainer = f"{self.org_slug}-owner", f"{self.org_slug}-maintainer"
        annotators = self.annotators()
        turn = 0
        for p in range(self.size.projects):
            name, labels = PROJECTS[p % len(PROJECTS)]
            project = self.call(
                owner,
                "post",
                "/api/projects",
                {"name": name, "labels": [{"name": label} for label in labels]},
            )
            label_ids = [label["id"] for label in project["labels"]]
            for t in range(self.size.tasks_per_project):
                task = self.call(
                    maintainer,
                    "post",
                    "/api/tasks",
                    {"name": f"{name} batch {t + 1:02d}", "project_id": project["id"]},
                )
                for _ in range(self.size.jobs_per_task):
                    assignee = annotators[turn % len(annotators)]
                    turn += 1
                    job = self.call(
                        maintainer,
                        "post",
                        "/api/jobs",
                        {"task_id": task["id"], "assignee": self.members[assignee].user_id},
                    )
                    frames = self.rng.randint(
                        self.size.frames_per_job // 2, self.size.frames_per_job * 3 // 2
                    )
                    self.jobs.append(
                        JobState(job["id"], task["id"], project["id"], label_ids, assignee, frames)
                    )

    def annotators(self) -> list[str]:
        return [name for name, m in self.members.items() if m.role == "worker"]

    # --- the days --------------------------------------------------------------------------

    def days(self) -> Iterator[tuple[int, str]]:
        """(day index, annotator) pairs, in time order: the unit of progress."""
        for day in range(self.size.days):
            for annotator in self.annotators():
                yield day, annotator

    def simulate_day_for(self, day: int, annotator: str) -> None:
        weekday = (self.start + timedelta(days=day)).weekday()
        if self.rng.random() > (0.25 if weekday >= 5 else 0.85):
            return
        for session in range(self.rng.choice([1, 1, 2, 2, 3])):
            job = self.next_job(annotator)
            if job is None:
                return
            begin = self.start + timedelta(days=day, hours=8 + session * 3, minutes=self.rng.randint(0, 90))
            self.session(annotator, job, begin)
        if annotator == self.annotators()[-1]:
            self.review(day)

    def next_job(self, annotator: str) -> JobState | None:
        mine = [
            j for j in self.jobs if j.assignee == annotator and j.state in ("new", "in progress", "rejected")
        ]
        return mine[0] if mine else None

    def session(self, annotator: str, job: JobState, begin: datetime) -> None:
        ids = {"job_id": job.id}
        t = begin
        events: list[dict] = []
        previous: dict | None = None
        drawn: list[str] = []

        def add(scope: str, **fields: Any) -> None:
            events.append({"scope": scope, "timestamp": t.isoformat(), **ids, **fields})

        def flush() -> None:
            nonlocal events, previous
            if not events:
                return
            self.now = t
            body = {"events": events, "previous_event": previous, "timestamp": t.isoformat()}
            answer = self.call(annotator, "post", "/api/events", body)
            self.totals.client_events += len(answer["events"])
            self.totals.working_time_ms += sum(w["duration"] for w in answer["working_time"])
            previous, events = events[-1], []

        platform = PLATFORMS[self.annotators().index(annotator) % len(PLATFORMS)]
        add("load:cvat", payload=orjson.dumps({"platform": platform}).decode())
        add("load:job", payload=orjson.dumps({"mode": "annotation", "frame": job.frame}).decode())
        last_flush = t
        length = timedelta(minutes=self.rng.randint(20, 80))
        if job.state in ("new", "rejected"):
            job.state = "in progress"
            self.now = t
            self.call(annotator, "patch", f"/api/jobs/{job.id}", {"state": "in progress"})
        while t - begin < length and job.frame < job.frames:
            t += timedelta(seconds=self.rng.uniform(2, 12))
            step = self.rng.random()
            if step < 0.35:
                duration = self.rng.randint(150, 1500)
                add(
                    "change:frame",
                    duration=duration,
                    count=1,
                    payload=orjson.dumps({"from": job.frame, "to": job.frame + 1, "step": 1}).decode(),
                )
                job.frame += 1
                t += timedelta(milliseconds=duration)
            elif step < 0.70:
                shape = self.rng.choice(SHAPES)
                drawn.append(shape)
                add("draw:object", obj_name=shape, count=1)
            elif step < 0.82:
                add(self.rng.choice(["resize:object", "drag:object"]), count=1)
            elif step < 0.86:
                add("delete:object", count=1)
                if drawn:
                    drawn.pop()
            elif step < 0.92:
                add("zoom:image", count=self.rng.randint(1, 4))
            elif step < 0.95:
                add("user:activity")
            elif step < 0.97:
                t += timedelta(seconds=self.rng.randint(120, 600))  # a break: an idle gap
                add("fit:image")
            elif step < 0.975:
                add(
                    "send:exception",
                    payload=orjson.dumps(
                        {
                            "message": "Cannot read properties of undefined (reading 'points')",
                            "filename": "cvat-canvas.js",
                            "line": 1284,
                        }
                    ).decode(),
                )
            else:
                add("action:undo")
            if t - last_flush >= timedelta(seconds=90):
                flush()
                last_flush = t
        add("save:job", payload=orjson.dumps({"objects": len(drawn)}).decode())
        flush()
        self.save_annotations(annotator, job, drawn)
        if job.frame >= job.frames:
            self.call(annotator, "patch", f"/api/jobs/{job.id}", {"state": "completed"})
            job.state = "completed"
            self.totals.jobs_completed += 1
        if self.rng.random() < 0.05:
            # A stale link: the API answers 404 and records a server-side send:exception.
            self.call(annotator, "get", "/api/jobs/999999", expect=(404,))
            self.totals.api_errors += 1

    def save_annotations(self, annotator: str, job: JobState, drawn: list[str]) -> None:
        if not drawn:
            return
        shapes = []
        for index, shape in enumerate(drawn):
            x, y = self.rng.randint(0, 900), self.rng.randint(0, 600)
            points = [
                float(v) for v in ([x, y, x + 40, y + 30] + [x + 10 * i for i in range(POINTS[shape] - 4)])
            ]
            shapes.append(
                {
                    "type": shape,
                    "label_id": self.rng.choice(job.label_ids),
                    "frame": min(index, job.frames),
                    "points": points[: POINTS[shape]],
                }
            )
        self.call(
            annotator,
            "patch",
            f"/api/jobs/{job.id}/annotations?action=create",
            {"version": 0, "tags": [], "shapes": shapes, "tracks": []},
        )

    def review(self, day: int) -> None:
        """End of day: the maintainer reviews completed jobs; the supervisor resolves fixed issues."""
        maintainer, supervisor = f"{self.org_slug}-maintainer", f"{self.org_slug}-supervisor"
        self.now = self.start + timedelta(days=day, hours=18, minutes=self.rng.randint(0, 50))
        for job in self.jobs:
            if job.state == "completed" and job.open_issues:
                for issue in job.open_issues:
                    self.call(
                        supervisor, "post", "/api/comments", {"issue": issue, "message": "Fixed, thanks."}
                    )
                    self.call(supervisor, "patch", f"/api/issues/{issue}", {"resolved": True})
                    self.totals.issues_resolved += 1
                job.open_issues = []
                job.state = "accepted"
            elif job.state == "completed":
                if self.rng.random() < 0.3:
                    self.call(maintainer, "patch", f"/api/jobs/{job.id}", {"state": "rejected"})
                    self.totals.jobs_rejected += 1
                    for _ in range(self.rng.randint(1, 2)):
                        issue = self.call(
                            maintainer,
                            "post",
                            "/api/issues",
                            {
                                "job": job.id,
                                "frame": self.rng.randint(0, job.frames - 1),
                                "position": [10.0, 10.0, 60.0, 60.0],
                                "message": "Box is too loose here.",
                            },
                        )
                        job.open_issues.append(issue["id"])
                        self.totals.issues_raised += 1
                    job.state = "rejected"
                    job.frame = max(0, job.frames - self.rng.randint(3, 10))  # rework a few frames
                else:
                    job.state = "accepted"


def run(simulation: Simulation, progress: Callable[[int], None] = lambda n: None) -> Totals:
    simulation.build_team()
    simulation.build_work()
    for day, annotator in simulation.days():
        simulation.simulate_day_for(day, annotator)
        progress(1)
    return simulation.totals
