"""A simulated annotation team, driven through the real API.

Everything goes through the server's own request paths, in this process: an admin creates the users,
the owner builds the organization and opens projects over the weeks, the maintainer creates tasks
and jobs when annotators run out of work; annotators post client event batches to `POST /api/events`
(so the server computes working time), save annotations and complete jobs; the maintainer reviews
completed jobs each evening, rejecting some and raising issues, which annotators fix and a
supervisor resolves before the job is accepted.

The clock (events.clock) is moved through the simulated weeks, so events land on those days and
every row carries the moment of the request that made it: a project, task or job is created before
any event about it. Client batches carry a send time equal to the moment they are received, so no
clock correction applies. Each annotator follows a persona (demo.personas): speed, care and hours
differ enough for rankings to mean something. Deterministic for a given seed and start date.
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
from demo.personas import Persona, persona_for
from events.clock import simulated_time

PASSWORD = "demo-pass-2026"
PROJECTS = [
    ("Street scenes", ["car", "pedestrian", "cyclist", "traffic light"]),
    ("Retail shelves", ["product", "price tag", "empty slot"]),
    ("Aerial imagery", ["building", "road", "tree", "vehicle"]),
    ("Medical scans", ["lesion", "organ"]),
]
SHAPES = ["rectangle", "rectangle", "rectangle", "polygon", "polyline", "points"]
POINTS = {"rectangle": 4, "polygon": 8, "polyline": 6, "points": 2}
# Client events of one burst of work stay closer than the 100 s idle threshold, so the time
# between them counts as working time; a break is longer and does not.
BURST_SECONDS = (40.0, 95.0)
BATCH_SECONDS = 1800  # the demo client sends what it queued every half hour (fewer requests to seed)
TEAM_HOUR, PROJECT_HOUR, REVIEW_HOUR = 7.0, 7.25, 18.0


@dataclass(frozen=True)
class DemoSize:
    days: int = 28
    annotators: int = 6
    projects: int = 3
    jobs_per_task: int = 4
    frames_per_job: int = 400


@dataclass
class Member:
    username: str
    role: str
    persona: Persona | None = None
    user_id: int = 0
    token: str = ""
    client: APIClient = field(default_factory=APIClient)


@dataclass
class JobState:
    id: int
    project_id: int
    label_ids: list[int]
    assignee: str
    frames: int
    created_at: datetime
    frame: int = 0
    state: str = "new"
    completed_at: datetime | None = None
    rejected_at: datetime | None = None
    rejections: int = 0
    open_issues: list[int] = field(default_factory=list)
    unsaved: list[str] = field(default_factory=list)  # shapes drawn since the last save


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
    projects: int = 0
    tasks: int = 0
    jobs: int = 0


class DemoError(RuntimeError):
    pass


class Simulation:
    def __init__(self, *, seed: int, size: DemoSize, start: date, org_slug: str = "demo") -> None:
        self.rng = random.Random(seed)
        self.size = size
        self.start = datetime(start.year, start.month, start.day, tzinfo=UTC)
        self.org_slug = org_slug
        self.members: dict[str, Member] = {}
        self.projects: list[tuple[int, list[int], str]] = []  # (id, label ids, name) in creation order
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

    def at(self, day: int, hour: float) -> datetime:
        return self.start + timedelta(days=day, hours=hour)

    # --- set-up ----------------------------------------------------------------------------

    def build_team(self) -> None:
        """Day 0, before anyone works: an admin creates the accounts; the owner builds the
        organization and invites the team."""
        prefix = self.org_slug
        self.now = self.at(0, TEAM_HOUR)
        team = [
            (f"{prefix}-owner", "owner", None),
            (f"{prefix}-maintainer", "maintainer", None),
            (f"{prefix}-supervisor", "supervisor", None),
        ]
        team += [
            (f"{prefix}-annotator-{i + 1}", "worker", persona_for(i)) for i in range(self.size.annotators)
        ]
        users = get_user_model().objects
        for username, role, persona in team:
            member = Member(username=username, role=role, persona=persona)
            first, last = (persona.first_name, persona.last_name) if persona else (role.capitalize(), "")
            # Accounts are made as an instance admin makes them: self-registration is off by default.
            with simulated_time(self.now):
                user = users.create_user(
                    username, f"{username}@example.com", PASSWORD, first_name=first, last_name=last
                )
                # Django's User stamps date_joined with the wall clock; the team joined on day 0.
                users.filter(pk=user.pk).update(date_joined=self.now)
                member.user_id = user.pk
                member.token = AccessToken.issue(user, "demo")[1]
            member.client.credentials(HTTP_AUTHORIZATION=f"Token {member.token}")
            self.members[username] = member
        owner = f"{prefix}-owner"
        org = self.call(
            owner, "post", "/api/organizations", {"slug": self.org_slug, "name": "Demo Annotation Co."}
        )
        for username, role, _ in team[1:]:
            invitation = self.call(
                owner, "post", "/api/invitations", {"organization": org["id"], "user": username, "role": role}
            )
            self.call(username, "post", f"/api/invitations/{invitation['key']}/accept")
        for member in self.members.values():
            member.client.credentials(
                HTTP_AUTHORIZATION=f"Token {member.token}", HTTP_X_ORGANIZATION=self.org_slug
            )

    def annotators(self) -> list[str]:
        return [name for name, m in self.members.items() if m.role == "worker"]

    def project_opening(self, index: int) -> datetime:
        """Projects open one after another, evenly over the simulated weeks."""
        return self.at(index * self.size.days // self.size.projects, PROJECT_HOUR)

    def current_project(self, moment: datetime) -> tuple[int, list[int], str]:
        """The newest project opened by `moment`, opening any whose day has come."""
        while len(self.projects) < self.size.projects and self.project_opening(len(self.projects)) <= moment:
            index = len(self.projects)
            name, labels = PROJECTS[index % len(PROJECTS)]
            self.now = self.project_opening(index)
            project = self.call(
                f"{self.org_slug}-owner",
                "post",
                "/api/projects",
                {"name": name, "labels": [{"name": label} for label in labels]},
            )
            self.projects.append((project["id"], [label["id"] for label in project["labels"]], name))
            self.totals.projects += 1
        return self.projects[-1]

    def create_task(self, requester: str, moment: datetime) -> None:
        """The maintainer creates a task shortly before `moment`: its first job for the annotator who
        ran out of work, the others for whoever has the fewest unfinished jobs."""
        created = moment - timedelta(minutes=self.rng.uniform(3, 25))
        project_id, label_ids, name = self.current_project(created)
        self.now = created
        tasks_in_project = sum(1 for job in self.jobs if job.project_id == project_id) // max(
            1, self.size.jobs_per_task
        )
        task = self.call(
            f"{self.org_slug}-maintainer",
            "post",
            "/api/tasks",
            {"name": f"{name} batch {tasks_in_project + 1:02d}", "project_id": project_id},
        )
        self.totals.tasks += 1
        for n in range(self.size.jobs_per_task):
            assignee = requester if n == 0 else min(self.annotators(), key=self.unfinished)
            job = self.call(
                f"{self.org_slug}-maintainer",
                "post",
                "/api/jobs",
                {"task_id": task["id"], "assignee": self.members[assignee].user_id},
            )
            frames = self.rng.randint(self.size.frames_per_job // 2, self.size.frames_per_job * 3 // 2)
            self.jobs.append(JobState(job["id"], project_id, label_ids, assignee, max(1, frames), created))
            self.totals.jobs += 1

    def unfinished(self, annotator: str) -> int:
        return sum(1 for j in self.jobs if j.assignee == annotator and j.state != "completed")

    def next_job(self, annotator: str, moment: datetime) -> JobState:
        """Rework first, then the job in progress, then the oldest new one; a new task if none."""
        mine = [j for j in self.jobs if j.assignee == annotator and j.created_at <= moment]
        for state in ("rejected", "in progress", "new"):
            for job in mine:
                if job.state == state and (job.rejected_at is None or job.rejected_at <= moment):
                    return job
        self.create_task(annotator, moment)
        return self.jobs[-(self.size.jobs_per_task)]

    # --- the days --------------------------------------------------------------------------

    def days(self) -> Iterator[tuple[int, str]]:
        """(day index, annotator) pairs, in day order: the unit of progress."""
        for day in range(self.size.days):
            for annotator in self.annotators():
                yield day, annotator

    def simulate_day_for(self, day: int, annotator: str) -> None:
        persona = self.members[annotator].persona
        assert persona is not None
        works = (self.start + timedelta(days=day)).weekday() in persona.days
        if works and self.rng.random() < persona.attendance:
            begin = self.at(day, self.rng.uniform(*persona.start_hour))
            end = begin + timedelta(hours=self.rng.uniform(*persona.hours))
            t = begin
            while end - t > timedelta(minutes=15):
                length = timedelta(minutes=self.rng.uniform(45, 120))
                last = end - (t + length) <= timedelta(minutes=15)
                t = self.session(annotator, t, min(t + length, end), save=last)
                t += timedelta(minutes=self.rng.choice([10, 15, 20, 45]))  # a break between sessions
        if annotator == self.annotators()[-1]:
            self.review(day)

    def session(self, annotator: str, begin: datetime, until: datetime, *, save: bool) -> datetime:
        """One sitting in the annotation UI, from `begin` until about `until`; returns its end. The
        annotator saves when a job is done and, with `save`, at the end of the sitting."""
        persona = self.members[annotator].persona
        assert persona is not None
        t = begin
        events: list[dict] = []
        previous: dict | None = None
        last_flush = t
        job = self.next_job(annotator, t)

        def add(scope: str, **fields: Any) -> None:
            events.append({"scope": scope, "timestamp": t.isoformat(), "job_id": job.id, **fields})

        def flush() -> None:
            nonlocal events, previous, last_flush
            if events:
                self.now = t
                body = {"events": events, "previous_event": previous, "timestamp": t.isoformat()}
                answer = self.call(annotator, "post", "/api/events", body)
                self.totals.client_events += len(answer["events"])
                self.totals.working_time_ms += sum(w["duration"] for w in answer["working_time"])
                previous, events = events[-1], []
            last_flush = t

        def open_job() -> None:
            add("load:job", payload=orjson.dumps({"mode": "annotation", "frame": job.frame}).decode())
            if job.state in ("new", "rejected"):
                job.state = "in progress"
                self.now = t
                self.call(annotator, "patch", f"/api/jobs/{job.id}", {"state": "in progress"})

        add("load:cvat", payload=orjson.dumps({"platform": persona.platform}).decode())
        open_job()
        while t < until:
            if job.frame >= job.frames:
                add("save:job", payload=orjson.dumps({"objects": len(job.unsaved)}).decode())
                flush()
                self.save_annotations(annotator, job, t)
                self.complete(annotator, job, t)
                job = self.next_job(annotator, t)
                open_job()
            # A burst of work on a run of frames: drawing (or, on rework, fixing) objects, then
            # moving on. Reported as the client logger would merge it: one draw event counting
            # the objects, adjustments, one change:frame counting the frames.
            fixing = job.rejections > 0
            per_frame = (1, 2) if fixing else persona.objects_per_frame
            objects, frames, seconds = 0, 0, 0.0
            target = self.rng.uniform(*BURST_SECONDS)
            while job.frame + frames < job.frames:
                n = self.rng.randint(*per_frame)
                cost = n * persona.seconds_per_object * self.rng.uniform(0.8, 1.25)
                if frames and seconds + cost > target:
                    break
                objects, frames, seconds = objects + n, frames + 1, seconds + min(cost, BURST_SECONDS[1])
            t += timedelta(seconds=seconds)
            shape = self.rng.choice(SHAPES)
            job.unsaved.extend([shape] * objects)
            add("draw:object", obj_name=shape, count=objects)
            adjustments = round(objects * self.rng.uniform(0.05, 0.3) * persona.seconds_per_object / 6)
            if adjustments and self.rng.random() < 0.5:
                add(self.rng.choice(["resize:object", "drag:object"]), count=adjustments)
            if self.rng.random() < 0.1:
                add("zoom:image", count=self.rng.randint(1, 4))
            if self.rng.random() < 0.01:
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
            loading = sum(self.rng.randint(150, 1200) for _ in range(frames))
            add(
                "change:frame",
                duration=loading,
                count=frames,
                payload=orjson.dumps({"from": job.frame, "to": job.frame + frames, "step": 1}).decode(),
            )
            job.frame += frames
            t += timedelta(milliseconds=loading)
            if self.rng.random() < 0.04:
                t += timedelta(seconds=self.rng.uniform(150, 600))  # a pause: idle, not work
                add("fit:image")
            if (t - last_flush).total_seconds() >= BATCH_SECONDS:
                flush()
        done = job.frame >= job.frames
        if save or done:
            add("save:job", payload=orjson.dumps({"objects": len(job.unsaved)}).decode())
        flush()
        if save or done:
            self.save_annotations(annotator, job, t)
        if done:
            self.complete(annotator, job, t)
        if self.rng.random() < 0.05:
            # A stale link: the API answers 404 and records a server-side send:exception.
            self.now = t
            self.call(annotator, "get", "/api/jobs/999999", expect=(404,))
            self.totals.api_errors += 1
        return t

    def complete(self, annotator: str, job: JobState, moment: datetime) -> None:
        self.now = moment
        self.call(annotator, "patch", f"/api/jobs/{job.id}", {"state": "completed"})
        job.state, job.completed_at = "completed", moment
        self.totals.jobs_completed += 1

    def save_annotations(self, annotator: str, job: JobState, moment: datetime) -> None:
        """The objects drawn since the last save, through the annotations API (a sample of their
        geometry: the demo keeps the shape rows few, the counts come from the client events)."""
        drawn, job.unsaved = job.unsaved, []
        if not drawn:
            return
        shapes = []
        for index, shape in enumerate(drawn[:: max(1, len(drawn) // 20)][:20]):
            x, y = self.rng.randint(0, 900), self.rng.randint(0, 600)
            points = [
                float(v) for v in ([x, y, x + 40, y + 30] + [x + 10 * i for i in range(POINTS[shape] - 4)])
            ]
            shapes.append(
                {
                    "type": shape,
                    "label_id": self.rng.choice(job.label_ids),
                    "frame": min(job.frame, job.frames) - 1 - index % max(1, job.frame),
                    "points": points[: POINTS[shape]],
                }
            )
        self.now = moment
        self.call(
            annotator,
            "patch",
            f"/api/jobs/{job.id}/annotations?action=create",
            {"version": 0, "tags": [], "shapes": shapes, "tracks": []},
        )

    def review(self, day: int) -> None:
        """Each evening the maintainer reviews the jobs completed since; a reworked job's issues are
        resolved by the supervisor and the job is accepted. The chance of a rejection is the
        annotator's (halved for a reworked job)."""
        maintainer, supervisor = f"{self.org_slug}-maintainer", f"{self.org_slug}-supervisor"
        self.now = moment = self.at(day, REVIEW_HOUR + self.rng.uniform(0, 0.8))
        for job in self.jobs:
            if job.state != "completed" or job.completed_at is None or job.completed_at > moment:
                continue
            persona = self.members[job.assignee].persona
            assert persona is not None
            job.completed_at = None  # reviewed
            for issue in job.open_issues:
                self.call(supervisor, "post", "/api/comments", {"issue": issue, "message": "Fixed, thanks."})
                self.call(supervisor, "patch", f"/api/issues/{issue}", {"resolved": True})
                self.totals.issues_resolved += 1
            job.open_issues = []
            if self.rng.random() < persona.rejection / (2**job.rejections):
                self.call(maintainer, "patch", f"/api/jobs/{job.id}", {"state": "rejected"})
                self.totals.jobs_rejected += 1
                job.rejections += 1
                for _ in range(self.rng.randint(1, 2)):
                    issue = self.call(
                        maintainer,
                        "post",
                        "/api/issues",
                        {
                            "job": job.id,
                            "frame": self.rng.randint(0, job.frames - 1),
                            "position": [10.0, 10.0, 60.0, 60.0],
                            "message": self.rng.choice(
                                ["Box is too loose here.", "Missed objects on this frame.", "Wrong label."]
                            ),
                        },
                    )
                    job.open_issues.append(issue["id"])
                    self.totals.issues_raised += 1
                job.state, job.rejected_at = "rejected", moment
                job.frame = max(0, job.frames - self.rng.randint(3, 10))  # rework a few frames
            else:
                # The state given too: a stage change alone resets the state to "new", as in CVAT.
                self.call(
                    maintainer, "patch", f"/api/jobs/{job.id}", {"stage": "acceptance", "state": "completed"}
                )


def run(simulation: Simulation, progress: Callable[[int], None] = lambda n: None) -> Totals:
    simulation.build_team()
    for day, annotator in simulation.days():
        simulation.simulate_day_for(day, annotator)
        progress(1)
    return simulation.totals
