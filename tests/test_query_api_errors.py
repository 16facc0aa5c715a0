"""POST /api/analytics/query: every malformed request is a 400 in the analytics envelope naming the
field; context ids outside the caller's organizations are 403 (never an empty answer), with the
KPI API's rules; role and assignee measures read the domain."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Membership, Organization, Role
from annotation.models import Job, Project, Task
from events.record import EventRecord
from test_analytics_support import World, in_range, insert_events, random_events

START = datetime(2026, 11, 2, tzinfo=UTC)
T0 = int(START.timestamp())
DAY = 86_400
OK_MEASURE = {"measureType": "userStatsTotalActivityTime"}


def post(client, body, **extra):
    response = client.post("/api/analytics/query", body, format="json", **extra)
    return response.status_code, response.json()


def body(**changes):
    out = {"startTime": T0 * 1000, "endTime": (T0 + DAY) * 1000, "measures": [OK_MEASURE]}
    out.update(changes)
    return {k: v for k, v in out.items() if v is not ...}


def measure(**fields):
    return body(measures=[{"measureType": "annotationTimeline", **fields}])


BAD_REQUESTS = [
    ("a list body", [OK_MEASURE], "invalid_parameter", None),
    ("no startTime", body(startTime=...), "missing_start_time", "startTime"),
    ("null startTime", body(startTime=None), "missing_start_time", "startTime"),
    ("unparsable startTime", body(startTime="last tuesday"), "invalid_parameter", "startTime"),
    ("boolean startTime", body(startTime=True), "invalid_parameter", "startTime"),
    ("negative startTime", body(startTime=-5), "invalid_parameter", "startTime"),
    ("startTime after 2106", body(startTime=2**33 * 1000), "invalid_parameter", "startTime"),
    ("unparsable endTime", body(endTime="2026-13-01T00:00:00Z"), "invalid_parameter", "endTime"),
    ("endTime as an object", body(endTime={"ms": 5}), "invalid_parameter", "endTime"),
    (
        "reversed times",
        body(startTime="2026-11-03T00:00:00Z", endTime="2026-11-02T00:00:00Z"),
        "invalid_parameter",
        "startTime",
    ),
    ("equal times", body(startTime=T0 * 1000, endTime=str(T0 * 1000)), "invalid_parameter", "startTime"),
    ("an unknown top-level key", body(timezone="UTC"), "invalid_parameter", "timezone"),
    ("context not an object", body(context=[1]), "invalid_parameter", "context"),
    ("a context value not a list", body(context={"projectId": 100}), "context_not_list", "context.projectId"),
    ("a context value a string", body(context={"userId": "12"}), "context_not_list", "context.userId"),
    ("a context id not a number", body(context={"taskId": ["abc"]}), "invalid_parameter", "context.taskId"),
    ("a context id of 0", body(context={"jobId": [0]}), "invalid_parameter", "context.jobId"),
    ("a context id as a float", body(context={"jobId": [1.5]}), "invalid_parameter", "context.jobId"),
    (
        "too many context ids",
        body(context={"jobId": list(range(1, 1002))}),
        "invalid_parameter",
        "context.jobId",
    ),
    (
        "a datasetId not a number",
        body(context={"datasetId": ["x"]}),
        "invalid_parameter",
        "context.datasetId",
    ),
    ("itemId in context", body(context={"itemId": ["7"]}), "unsupported_dimension", "context.itemId"),
    (
        "pipelineId, even empty",
        body(context={"pipelineId": []}),
        "unsupported_dimension",
        "context.pipelineId",
    ),
    ("an unknown dimension", body(context={"labelId": [1]}), "unknown_dimension", "context.labelId"),
    (
        "a dimension in another case",
        body(context={"projectid": [1]}),
        "unknown_dimension",
        "context.projectid",
    ),
    (
        "jobId and assignmentId",
        body(context={"jobId": [1], "assignmentId": [2]}),
        "duplicate_dimension",
        "context.assignmentId",
    ),
    (
        "taskId and datasetId",
        body(context={"datasetId": [1], "taskId": [2]}),
        "duplicate_dimension",
        "context.taskId",
    ),
    ("no measures", body(measures=...), "invalid_parameter", "measures"),
    ("empty measures", body(measures=[]), "invalid_parameter", "measures"),
    ("measures not a list", body(measures=OK_MEASURE), "invalid_parameter", "measures"),
    ("too many measures", body(measures=[OK_MEASURE] * 51), "invalid_parameter", "measures"),
    ("a measure not an object", body(measures=["activeUsers"]), "invalid_parameter", "measures[0]"),
    ("no measureType", body(measures=[{"page": 0}]), "unknown_measure", "measures[0].measureType"),
    (
        "an unknown measure",
        body(measures=[OK_MEASURE, {"measureType": "activeUser"}]),
        "unknown_measure",
        "measures[1].measureType",
    ),
    (
        "a measure that does not apply",
        body(measures=[{"measureType": "avgAnnotationTimePerLabel"}]),
        "measure_not_supported",
        "measures[0].measureType",
    ),
    (
        "a FaaS measure",
        body(measures=[{"measureType": "serviceUsage"}]),
        "measure_not_supported",
        "measures[0].measureType",
    ),
    ("an unknown measure field", measure(sortBy="time"), "invalid_parameter", "measures[0].sortBy"),
    ("a bad granularity", measure(timeGranularity="year"), "bad_granularity", "measures[0].timeGranularity"),
    (
        "a granularity in capitals",
        measure(timeGranularity="HOUR"),
        "bad_granularity",
        "measures[0].timeGranularity",
    ),
    (
        "a bad granularity in a list",
        measure(timeGranularity=["hour", "fortnight"]),
        "bad_granularity",
        "measures[0].timeGranularity",
    ),
    (
        "an empty granularity list",
        measure(timeGranularity=[]),
        "bad_granularity",
        "measures[0].timeGranularity",
    ),
    (
        "a granularity twice",
        measure(timeGranularity=["day", "day"]),
        "bad_granularity",
        "measures[0].timeGranularity",
    ),
    (
        "seconds over a month",
        body(
            startTime=T0 * 1000,
            endTime=(T0 + 30 * DAY) * 1000,
            measures=[{"measureType": "issueTimeline", "timeGranularity": "second"}],
        ),
        "too_many_buckets",
        "measures[0].timeGranularity",
    ),
    (
        "hours over a year",
        body(
            startTime="2025-11-01",
            endTime="2026-11-01",
            measures=[OK_MEASURE, {"measureType": "annotationTimeline"}],
        ),
        "too_many_buckets",
        "measures[1].timeGranularity",
    ),
    (
        "raw events by second over a day, even for a list",
        body(measures=[{"measureType": "activeUsers", "timeGranularity": ["hour", "second"]}]),
        "too_many_buckets",
        "measures[0].timeGranularity",
    ),
    ("a negative page", measure(page=-1), "invalid_parameter", "measures[0].page"),
    ("a page as a string", measure(page="1"), "invalid_parameter", "measures[0].page"),
    ("a page size too large", measure(pageSize=10_001), "invalid_parameter", "measures[0].pageSize"),
    ("a negative page size", measure(pageSize=-1), "invalid_parameter", "measures[0].pageSize"),
    ("a boolean page size", measure(pageSize=True), "invalid_parameter", "measures[0].pageSize"),
    ("page 1 of pageSize 0", measure(page=1, pageSize=0), "invalid_parameter", "measures[0].page"),
    ("page 1 without a pageSize", measure(page=1), "invalid_parameter", "measures[0].page"),
    ("a bad sort direction", measure(sortDirection="desc"), "invalid_parameter", "measures[0].sortDirection"),
    ("params not an object", measure(params=["x"]), "invalid_parameter", "measures[0].params"),
    (
        "an unknown param",
        measure(params={"groupByFields": ["userId"]}),
        "invalid_parameter",
        "measures[0].params.groupByFields",
    ),
    (
        "groupByFields missing",
        body(measures=[{"measureType": "userStatsActivityTimeByField"}]),
        "invalid_parameter",
        "measures[0].params.groupByFields",
    ),
    (
        "groupByFields not a list",
        body(
            measures=[{"measureType": "userStatsActivityTimeByField", "params": {"groupByFields": "userId"}}]
        ),
        "invalid_parameter",
        "measures[0].params.groupByFields",
    ),
    (
        "an unknown groupByField",
        body(
            measures=[
                {
                    "measureType": "userStatsActivityTimeByField",
                    "params": {"groupByFields": ["userId", "podId"]},
                }
            ]
        ),
        "invalid_parameter",
        "measures[0].params.groupByFields",
    ),
    (
        "bad histogram edges",
        body(
            measures=[{"measureType": "countItemInAnnotationTimeBucket", "params": {"edgesMs": [5000, 1000]}}]
        ),
        "invalid_parameter",
        "measures[0].params.edgesMs",
    ),
]


@pytest.fixture
def root(api, django_user_model):
    api.force_authenticate(django_user_model.objects.create_superuser("root", "root@example.com", None))
    return api


@pytest.mark.parametrize(
    ("payload", "code", "field"), [case[1:] for case in BAD_REQUESTS], ids=[case[0] for case in BAD_REQUESTS]
)
def test_bad_requests_are_400_naming_the_field(root, clickhouse, payload, code, field):
    status, answer = post(root, payload)
    assert status == 400, answer
    assert set(answer) == {"error"} and set(answer["error"]) == {"code", "message", "field"}
    assert (answer["error"]["code"], answer["error"]["field"]) == (code, field), answer
    assert answer["error"]["message"]


def test_accepted_time_forms_and_lenient_values(root, clickhouse):
    for start, end in [
        (T0 * 1000, (T0 + DAY) * 1000),
        (str(T0 * 1000), float((T0 + DAY) * 1000)),
        ("2026-11-02T00:00:00Z", "2026-11-03T00:00:00+00:00"),
        ("2026-11-02T01:00:00+01:00", "2026-11-03"),
        ("2026-11-02 00:00:00.000", None),
    ]:
        status, answer = post(
            root, body(startTime=start, endTime=end, context={"projectId": [], "userId": ["11"]})
        )
        assert status == 200, (start, end, answer)
        assert answer[0]["startTime"] == "2026-11-02T00:00:00Z"
    # an unbucketed measure may span years by the hour (it reads the rollups, no bucket to fill)
    status, _ = post(root, body(startTime=0, measures=[{"measureType": "activeUsers"}]))
    assert status == 200


def test_other_content_types_and_anonymous_callers(api, root, clickhouse):
    response = root.post(
        "/api/analytics/query", "startTime=1", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"
    response = root.post("/api/analytics/query", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_parameter"
    api.force_authenticate(None)
    status, answer = post(api, body())
    assert status in (401, 403) and answer["error"]["code"] in ("not_authenticated", "forbidden")


# --- permissions ----------------------------------------------------------------------------------


@pytest.fixture
def world(transactional_db, django_user_model):
    """Organizations A (1) and B (2), a project/task/job in each and one in no organization; an
    owner and a worker of A, an annotator working in both, an outsider."""
    make = django_user_model.objects.create_user
    org_a = Organization.objects.create(id=1, slug="org-a")
    org_b = Organization.objects.create(id=2, slug="org-b")
    users = {
        name: make(name, f"{name}@example.com", None, id=uid)
        for name, uid in (
            ("owner_a", 21),
            ("worker_a", 22),
            ("annotator", 23),
            ("outsider", 24),
            ("maintainer_b", 25),
        )
    }
    for org, name, role in [
        (org_a, "owner_a", Role.OWNER),
        (org_a, "worker_a", Role.WORKER),
        (org_a, "annotator", Role.WORKER),
        (org_b, "annotator", Role.SUPERVISOR),
        (org_b, "maintainer_b", Role.MAINTAINER),
    ]:
        Membership.objects.create(user=users[name], organization=org, role=role)
    objects = {}
    for key, org in (("a", org_a), ("b", org_b), ("none", None)):
        project = Project.objects.create(name=f"P{key}", organization=org, owner=users["owner_a"])
        task = Task.objects.create(name=f"T{key}", project=project)
        job = Job.objects.create(task=task, assignee=users["annotator"] if key == "a" else None)
        objects[key] = {"project": project.pk, "task": task.pk, "job": job.pk}
    return users, objects


@pytest.fixture
def events(clickhouse, world):
    users, objects = world
    ids = tuple(u.pk for u in users.values())
    records = random_events(random.Random(3), 1500, START, timedelta(days=1), World(users=ids))
    # events on the domain's own objects (for the 403 checks, the role and assignee measures)
    for key, org in (("a", 1), ("b", 2)):
        o = objects[key]
        for k in range(5):
            for scope, duration in (("send:working_time", 60_000 * (k + 1)), ("create:issue", 0)):
                records.append(
                    EventRecord(
                        scope,
                        START + timedelta(hours=k, minutes=5),
                        duration=duration,
                        org_id=org,
                        project_id=o["project"],
                        task_id=o["task"],
                        job_id=o["job"],
                        user_id=users["annotator"].pk,
                    )
                )
    insert_events(clickhouse, records)
    return records


def as_user(api, users, name, org=None):
    api.force_authenticate(users[name] if name else None)
    if org:
        api.credentials(HTTP_X_ORGANIZATION=org)
    return api


def active_user_ids(api, **context):
    status, answer = post(
        api, body(context=context, measures=[{"measureType": "activeUsers", "pageSize": 0}])
    )
    return status, (sorted(r["userId"] for r in answer[0]["response"]) if status == 200 else answer["error"])


def expected_users(records, org_ids, **filters):
    kept = in_range(records, T0, T0 + DAY)
    kept = [r for r in kept if r.org_id in org_ids and r.user_id]
    for column, ids in filters.items():
        kept = [r for r in kept if getattr(r, column) in ids]
    return sorted({r.user_id for r in kept})


def test_members_see_their_organizations_only(api, world, events):
    # Owners see every member's per-user records; workers and supervisors only their own
    # (accounts.privacy, as on every other analytics surface).
    users, objects = world
    status, seen = active_user_ids(as_user(api, users, "owner_a"))
    assert status == 200 and seen == expected_users(events, {1}) and len(seen) > 1
    status, seen = active_user_ids(as_user(api, users, "worker_a"))
    assert status == 200 and seen == expected_users(events, {1}, user_id={22})
    status, seen = active_user_ids(as_user(api, users, "annotator"))
    assert status == 200 and seen == expected_users(events, {1, 2}, user_id={23})
    status, seen = active_user_ids(as_user(api, users, "owner_a"), orgId=[1])
    assert status == 200 and seen == expected_users(events, {1})
    status, seen = active_user_ids(as_user(api, users, "owner_a"), projectId=[objects["a"]["project"]])
    assert status == 200 and seen == [users["annotator"].pk]
    status, seen = active_user_ids(as_user(api, users, "annotator"), projectId=[objects["a"]["project"]])
    assert status == 200 and seen == [users["annotator"].pk]
    # an id the domain does not know (a deleted project): not an error, and still only org A's data
    status, seen = active_user_ids(as_user(api, users, "owner_a"), projectId=[100, 987_654])
    assert status == 200 and seen == expected_users(events, {1}, project_id={100})
    # a user without organizations sees nothing (no error without filters, as the KPI API)
    status, seen = active_user_ids(as_user(api, users, "outsider"))
    assert status == 200 and seen == []


@pytest.mark.parametrize(
    ("caller", "org", "context", "field"),
    [
        ("outsider", None, {"orgId": [1]}, "context.orgId"),
        ("worker_a", None, {"orgId": [1, 2]}, "context.orgId"),
        ("worker_a", None, {"projectId": "b"}, "context.projectId"),
        ("worker_a", None, {"taskId": "b"}, "context.taskId"),
        ("worker_a", None, {"jobId": "b"}, "context.jobId"),
        ("worker_a", None, {"assignmentId": "b"}, "context.assignmentId"),
        ("worker_a", None, {"datasetId": "b"}, "context.datasetId"),
        ("owner_a", None, {"projectId": "none"}, "context.projectId"),  # no organization: outside
        ("annotator", "org-b", {"jobId": "a"}, "context.jobId"),  # outside the organization context
        ("worker_a", None, {"userId": [23]}, "context.userId"),  # somebody else, not an admin
        ("annotator", None, {"userId": [21]}, "context.userId"),  # admin of neither organization
        ("maintainer_b", None, {"userId": [23], "orgId": [1]}, "context.orgId"),
    ],
)
def test_context_ids_outside_the_callers_organizations_are_403(
    api, world, events, caller, org, context, field
):
    users, objects = world
    context = {
        key: [objects[value][key.removesuffix("Id").replace("assignment", "job").replace("dataset", "task")]]
        if isinstance(value, str)
        else value
        for key, value in context.items()
    }
    status, answer = post(as_user(api, users, caller, org), body(context=context))
    assert status == 403, answer
    assert answer["error"]["code"] == "forbidden" and answer["error"]["field"] == field, answer


def test_allowed_filters_on_people_and_contexts(api, world, events):
    users, objects = world
    annotator = users["annotator"].pk
    # yourself: always
    status, seen = active_user_ids(as_user(api, users, "worker_a"), userId=[22])
    assert status == 200 and seen == ([22] if 22 in expected_users(events, {1}) else [])
    # an owner filtering a member of their organization
    status, seen = active_user_ids(as_user(api, users, "owner_a"), userId=[annotator])
    assert status == 200 and seen == [annotator]
    # the organization context narrows the scope; a disagreeing orgId is 400
    status, seen = active_user_ids(as_user(api, users, "maintainer_b", "org-b"))
    assert status == 200 and seen == expected_users(events, {2})
    status, seen = active_user_ids(as_user(api, users, "annotator", "org-b"))  # a supervisor there
    assert status == 200 and seen == expected_users(events, {2}, user_id={23})
    status, answer = active_user_ids(as_user(api, users, "annotator", "org-b"), orgId=[1])
    assert status == 400 and answer["field"] == "context.orgId"
    # superusers: anything, including objects of no organization
    api.credentials()
    api.force_authenticate(type(users["outsider"]).objects.create_superuser("root", "r@example.com", None))
    status, _ = active_user_ids(api, projectId=[objects["none"]["project"], objects["b"]["project"]])
    assert status == 200
    # a 400 comes before a 403
    status, answer = post(
        as_user(api, users, "outsider"), body(context={"orgId": [1]}, measures=[{"measureType": "nope"}])
    )
    assert status == 400 and answer["error"]["code"] == "unknown_measure"


def test_activity_by_role_and_issues_per_assignee(api, world, events):
    users, objects = world
    status, (by_role, per_assignee) = post(
        as_user(api, users, "owner_a"),
        body(measures=[{"measureType": "userStatsActivityTimeByRole"}, {"measureType": "issuePerAnnotator"}]),
    )
    assert status == 200
    roles = {(1, 21): "owner", (1, 22): "worker", (1, 23): "worker"}
    expected: dict = {}
    for r in in_range(events, T0, T0 + DAY):
        if r.scope == "send:working_time" and r.org_id == 1:
            entry = expected.setdefault(roles.get((r.org_id, r.user_id)), [set(), 0])
            if r.user_id:
                entry[0].add(r.user_id)
            entry[1] += r.duration
    assert sorted(
        (r["role"] or "", r["users"], r["activityDuration"]) for r in by_role["response"]
    ) == sorted((role or "", len(ids), total) for role, (ids, total) in expected.items())
    durations = [r["activityDuration"] for r in by_role["response"]]
    assert durations == sorted(durations, reverse=True)
    issues = [r for r in in_range(events, T0, T0 + DAY) if r.scope == "create:issue" and r.org_id == 1]
    on_job_a = sum(1 for r in issues if r.job_id == objects["a"]["job"])
    assignee_row = next(r for r in per_assignee["response"] if r["assigneeId"] == users["annotator"].pk)
    assert assignee_row == {
        "assigneeId": users["annotator"].pk,
        "assigneeName": "annotator",
        "jobs": 1,
        "issues": on_job_a,
    }
    assert sum(r["issues"] for r in per_assignee["response"]) == len(issues)


def test_the_openapi_schema_documents_the_query(root):
    response = root.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    (path,) = [p for p in paths if p.rstrip("/") == "/api/analytics/query"]
    operation = paths[path]["post"]
    assert "requestBody" in operation and "200" in operation["responses"]


def test_the_measure_tables_of_the_docs_are_current():
    """docs/query-api.md's tables are generated from the measures (regenerate: see the doc)."""
    from analytics.query import docs

    text = docs.DOC_PATH.read_text()
    assert docs.updated(text) == text
