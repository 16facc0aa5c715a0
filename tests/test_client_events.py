"""POST /api/events: CVAT's contract, validation, normalization and working time, into ClickHouse."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from conftest import create_project_tree, rows
from shipping.service import get_spool

CLIENT_NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)  # the client's clock is far behind the server's


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def event(scope: str, seconds: float, **fields) -> dict:
    return {"scope": scope, "timestamp": iso(CLIENT_NOW + timedelta(seconds=seconds)), **fields}


def post(api, events: list[dict], *, previous=None, sent_after: float = 300, **headers):
    body = {
        "events": events,
        "previous_event": previous,
        "timestamp": iso(CLIENT_NOW + timedelta(seconds=sent_after)),
    }
    return api.post("/api/events", body, format="json", **headers)


@pytest.fixture
def job(org_api):
    return create_project_tree(org_api, tasks=1, jobs_per_task=2)


def test_anonymous_clients_get_401(api):
    assert post(api, [event("load:cvat", 0)]).status_code == 401


def test_a_batch_is_stored_with_corrected_clock_and_the_senders_identity(org_api, job, ship, clickhouse):
    job_id = job["jobs"][0]["id"]
    spoofed = {"user_id": 999, "user_name": "mallory", "org_id": 12345, "org_slug": "evil"}
    before = datetime.now(UTC)
    response = post(
        org_api,
        [event("load:job", 0, job_id=job_id, payload='{"mode": "annotation"}', **spoofed)],
        sent_after=10,
    )
    assert response.status_code == 201, response.content
    stored = response.json()["events"][0]
    assert (stored["user_id"], stored["user_name"]) == (org_api.user.id, "owner")
    assert (stored["org_id"], stored["org_slug"]) == (org_api.org["id"], "acme")
    # Sent 10 s after the event by the client's clock, so it happened ~10 s before it arrived.
    shifted = datetime.fromisoformat(stored["timestamp"])
    assert before - timedelta(seconds=11) <= shifted <= datetime.now(UTC) - timedelta(seconds=9)
    assert (stored["task_id"], stored["project_id"]) == (job["tasks"][0]["id"], job["project"]["id"])
    ship()
    found = rows(clickhouse, "SELECT * FROM events WHERE scope = 'load:job'")
    assert len(found) == 1
    assert found[0]["source"] == "client" and found[0]["user_id"] == org_api.user.id
    assert json.loads(found[0]["payload"]) == {"mode": "annotation"}
    assert found[0]["remote_addr"] == "127.0.0.1"


def test_a_payload_object_is_accepted_too(org_api, ship, clickhouse):
    assert post(org_api, [event("debug:info", 0, payload={"a": 1})]).status_code == 201
    ship()
    assert json.loads(
        rows(clickhouse, "SELECT payload FROM events WHERE scope='debug:info'")[0]["payload"]
    ) == {"a": 1}


@pytest.mark.parametrize(
    ("events", "field", "fragment"),
    [
        ([event("load:cvat", 0), event("hack:server", 1)], "events[1].scope", "not allowed"),
        ([event("load:cvat", 0, payload="{not json")], "events[0].payload", "JSON"),
        ([{"scope": "load:cvat", "timestamp": "yesterday"}], "events[0].timestamp", "Cannot parse"),
        ([{"scope": "load:cvat"}], "events[0].timestamp", "required"),
        ([event("load:cvat", 0, duration=-5)], "events[0].duration", "between"),
        ([event("load:cvat", 0, job_id="7")], "events[0].job_id", "integer"),
        ([event("create:task", 0)], "events[0].scope", "not allowed"),
        ([event("load:cvat", 0, source="server")], "events[0].scope", "not allowed"),
    ],
)
def test_invalid_events_get_400_naming_the_field_and_store_nothing(org_api, events, field, fragment):
    response = post(org_api, events)
    assert response.status_code == 400
    assert fragment in response.json()[field][0]
    assert spooled_client_events() == 0


def spooled_client_events() -> int:
    """Client events waiting in the spool (server events such as send:exception do not count)."""
    conn = get_spool()._connect()
    return sum(row.count(b'"source":"client"') for (row,) in conn.execute("SELECT row FROM spool_rows"))


def test_body_without_send_timestamp_gets_400(org_api):
    response = org_api.post("/api/events", {"events": []}, format="json")
    assert response.status_code == 400 and "timestamp" in response.json()


def test_malformed_json_gets_400(org_api):
    response = org_api.generic("POST", "/api/events", b"{nope", content_type="application/json")
    assert response.status_code == 400 and "body" in response.json()


def test_too_many_events_get_400(org_api, settings):
    settings.EVENTS_MAX_PER_REQUEST = 3
    response = post(org_api, [event("load:cvat", i) for i in range(4)])
    assert response.status_code == 400
    assert "at most 3" in response.json()["events"][0]


def test_a_body_over_the_size_limit_gets_413(org_api, settings):
    settings.EVENTS_MAX_BODY_BYTES = 2048
    response = post(org_api, [event("debug:info", i, payload="{}") for i in range(100)])
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert spooled_client_events() == 0


def test_ids_of_another_organization_are_rejected(org_api, job, make_user, api):
    from rest_framework.test import APIClient

    other = APIClient()
    other.force_authenticate(make_user("rival"))
    assert (
        other.post("/api/organizations", {"slug": "rival", "name": "Rival"}, format="json").status_code == 201
    )
    other.credentials(HTTP_X_ORGANIZATION="rival")
    response = post(other, [event("load:job", 0, job_id=job["jobs"][0]["id"])])
    assert response.status_code == 400
    assert "not visible" in response.json()["events[0].job_id"][0]


@pytest.mark.django_db
def test_the_id_check_without_a_verified_membership_looks_it_up(org_api, job, make_user):
    from rest_framework.exceptions import ValidationError

    from accounts.models import Organization
    from events.client_batch import parse_batch
    from events.ingest import check_and_complete_ids

    acme = Organization.objects.get(slug="acme")
    body = json.dumps(
        {"events": [event("load:job", 0, job_id=job["jobs"][0]["id"])], "timestamp": iso(CLIENT_NOW)}
    )
    outsider = make_user("outsider")  # not a member of acme
    with pytest.raises(ValidationError, match="not visible"):
        check_and_complete_ids(parse_batch(body.encode(), max_events=10), outsider, acme)
    batch = parse_batch(body.encode(), max_events=10)
    check_and_complete_ids(batch, org_api.user, acme)  # a member, looked up
    assert batch.events[0].task_id == job["tasks"][0]["id"]


def test_unknown_and_inconsistent_ids_are_rejected(org_api, job):
    assert "events[0].task_id" in post(org_api, [event("load:cvat", 0, task_id=424242)]).json()
    wrong_task = job["tasks"][0]["id"] + 1000
    response = post(org_api, [event("load:job", 0, job_id=job["jobs"][0]["id"], task_id=wrong_task)])
    assert response.status_code == 400 and "belongs to task" in response.json()["events[0].task_id"][0]


def test_working_time_is_computed_and_stored_per_job(org_api, job, ship, clickhouse):
    first, second = job["jobs"][0]["id"], job["jobs"][1]["id"]
    response = post(
        org_api,
        [
            event("load:job", 0, job_id=first),
            event("draw:object", 20, job_id=first),
            event("user:activity", 50, job_id=first),  # keeps the gap under 100 s, never stored
            event("change:frame", 60, job_id=second, duration=5000),
            event("draw:object", 400, job_id=second),  # after an idle gap: no time
        ],
    )
    assert response.status_code == 201, response.content
    assert len(response.json()["events"]) == 4
    ship()
    working = rows(
        clickhouse,
        "SELECT job_id, task_id, project_id, duration, count, source, user_id, payload FROM events "
        "WHERE scope = 'send:working_time' ORDER BY job_id",
    )
    assert [(w["job_id"], w["duration"]) for w in working] == [(first, 60_000), (second, 5_000)]
    assert all(
        w["count"] == 1 and w["source"] == "server" and w["user_id"] == org_api.user.id for w in working
    )
    assert [json.loads(w["payload"])["working_time"] for w in working] == [60_000, 5_000]
    assert {w["project_id"] for w in working} == {job["project"]["id"]}
    assert rows(clickhouse, "SELECT count() AS n FROM events WHERE scope = 'user:activity'")[0]["n"] == 0


def test_previous_event_continues_the_cursor_across_batches(org_api, job, ship, clickhouse):
    job_id = job["jobs"][0]["id"]
    previous = event("change:frame", 0, job_id=job_id, duration=10_000)
    response = post(org_api, [event("draw:object", 40, job_id=job_id)], previous=previous)
    assert response.status_code == 201
    ship()
    # 30 s from the end of the previous change:frame to the draw, credited to its job.
    assert (
        rows(clickhouse, "SELECT sum(duration) AS ms FROM events WHERE scope = 'send:working_time'")[0]["ms"]
        == 30_000
    )


def test_a_retried_batch_with_the_same_idempotency_key_is_stored_and_counted_once(
    org_api, job, ship, clickhouse
):
    job_id = job["jobs"][0]["id"]
    batch = [event("load:job", 0, job_id=job_id), event("draw:object", 30, job_id=job_id, count=2)]
    first = post(org_api, batch, HTTP_IDEMPOTENCY_KEY="batch-1")
    # A retry carries a new send time (the client's clock moved on), but the same events.
    again = post(org_api, batch, sent_after=900, HTTP_IDEMPOTENCY_KEY="batch-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    ship()
    assert (
        rows(clickhouse, "SELECT count() AS n FROM events WHERE scope IN ('load:job', 'draw:object')")[0]["n"]
        == 2
    )
    assert (
        rows(clickhouse, "SELECT sum(duration) AS ms FROM events WHERE scope = 'send:working_time'")[0]["ms"]
        == 30_000
    )

    reused = post(org_api, [event("load:job", 5, job_id=job_id)], HTTP_IDEMPOTENCY_KEY="batch-1")
    assert reused.status_code == 400 and "Idempotency-Key" in reused.json()


def test_only_user_activity_gives_working_time_but_stores_no_client_events(org_api, job, ship, clickhouse):
    job_id = job["jobs"][0]["id"]
    response = post(
        org_api, [event("user:activity", 0, job_id=job_id), event("user:activity", 60, job_id=job_id)]
    )
    assert response.status_code == 201 and response.json()["events"] == []
    ship()
    found = rows(
        clickhouse,
        "SELECT scope, duration FROM events WHERE source != 'server' OR scope = 'send:working_time'",
    )
    assert found == [{"scope": "send:working_time", "duration": 60_000}]


def test_idempotency_records_are_purged_after_their_ttl(org_api, settings):
    from events.housekeeping import purge_idempotency_records

    assert post(org_api, [event("load:cvat", 0)], HTTP_IDEMPOTENCY_KEY="old").status_code == 201
    assert post(org_api, [event("load:cvat", 0)], HTTP_IDEMPOTENCY_KEY="new").status_code == 201
    with get_spool().transaction() as conn:  # the records live in the spool, next to their batches
        conn.execute(
            "UPDATE idempotency_keys SET created_at = created_at - ? WHERE key = 'old'",
            ((settings.IDEMPOTENCY_KEY_TTL_HOURS + 1) * 3600,),
        )
    assert purge_idempotency_records() == 1
    assert idempotency_keys() == ["new"]
    # A purged key is free again: the same key stores a new batch.
    assert post(org_api, [event("load:cvat", 0)], HTTP_IDEMPOTENCY_KEY="old").status_code == 201


def idempotency_keys() -> list[str]:
    return [key for (key,) in get_spool()._connect().execute("SELECT key FROM idempotency_keys ORDER BY key")]


def test_with_analytics_off_nothing_new_is_recorded(org_api, job, settings, ship, clickhouse):
    ship()
    before = rows(clickhouse, "SELECT count() AS n FROM events")[0]["n"]
    settings.ANALYTICS_ENABLED = False
    job_id = job["jobs"][0]["id"]
    assert (
        post(
            org_api, [event("load:job", 0, job_id=job_id), event("draw:object", 20, job_id=job_id)]
        ).status_code
        == 201
    )
    assert org_api.patch(f"/api/jobs/{job_id}", {"state": "completed"}, format="json").status_code == 200
    assert org_api.get("/api/projects/987654").status_code == 404
    ship()
    assert rows(clickhouse, "SELECT count() AS n FROM events")[0]["n"] == before


def test_a_failed_spool_write_leaves_no_idempotency_record_so_the_retry_is_stored(
    org_api, job, ship, clickhouse
):
    from shipping.service import get_spool

    job_id = job["jobs"][0]["id"]
    batch = [event("load:job", 0, job_id=job_id), event("draw:object", 30, job_id=job_id)]
    spool = get_spool()
    real_append = spool.append

    def broken(rows, key=None):
        raise OSError("disk full")

    spool.append = broken
    org_api.raise_request_exception = False
    try:
        failed = post(org_api, batch, HTTP_IDEMPOTENCY_KEY="k-1")
    finally:
        spool.append = real_append
    assert failed.status_code == 500
    assert get_spool().key_record(org_api.user.id, "k-1") is None
    retried = post(org_api, batch, HTTP_IDEMPOTENCY_KEY="k-1")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    ship()
    assert (
        rows(clickhouse, "SELECT count() AS n FROM events WHERE scope IN ('load:job', 'draw:object')")[0]["n"]
        == 2
    )


def raw_post(api, events: list[dict], sent: str):
    return api.post("/api/events", {"events": events, "timestamp": sent}, format="json")


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z", "1800-01-01"]
)
def test_out_of_range_event_times_get_400_naming_the_event_not_500(org_api, moment):
    now = iso(datetime.now(UTC))
    response = raw_post(org_api, [event("load:cvat", 0), {"scope": "load:cvat", "timestamp": moment}], now)
    assert response.status_code == 400, response.content
    assert "events[1].timestamp" in response.json()
    # The same time as the batch's send time: named as the body's field.
    response = raw_post(org_api, [{"scope": "load:cvat", "timestamp": now}], moment)
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["timestamp"]
    assert spooled_client_events() == 0


def test_a_decade_of_monthly_events_is_refused_at_the_edge(org_api):
    """The reproduction of issue 12: 120 events one per month from 2000-01, sent from a clock
    that agrees with them, would have produced an insert spanning 120 partitions."""
    now = datetime.now(UTC)
    events = [
        {"scope": "load:cvat", "timestamp": iso(datetime(2000 + m // 12, m % 12 + 1, 1, tzinfo=UTC))}
        for m in range(120)
    ]
    response = raw_post(org_api, events, iso(now))
    assert response.status_code == 400
    assert "EVENTS_MAX_AGE_DAYS" in response.json()["events[0].timestamp"][0]
    assert spooled_client_events() == 0


def test_event_times_are_checked_after_clock_correction(org_api, settings):
    settings.EVENTS_MAX_AGE_DAYS = 30
    settings.EVENTS_MAX_FUTURE_SECONDS = 300
    # The client's clock is a year behind: its events are corrected to now and accepted.
    assert post(org_api, [event("load:cvat", 0)]).status_code == 201
    # 31 days before the send time: too old once corrected.
    old = post(org_api, [event("load:cvat", 0), event("load:cvat", -31 * 86400)], sent_after=0)
    assert old.status_code == 400 and "EVENTS_MAX_AGE_DAYS" in old.json()["events[1].timestamp"][0]
    # 10 minutes after the send time: in the future once corrected.
    future = post(org_api, [event("load:cvat", 600)], sent_after=0)
    assert (
        future.status_code == 400 and "EVENTS_MAX_FUTURE_SECONDS" in future.json()["events[0].timestamp"][0]
    )
    previous = post(org_api, [event("load:cvat", 0)], previous=event("load:cvat", -40 * 86400), sent_after=0)
    assert previous.status_code == 400 and "previous_event.timestamp" in previous.json()
    assert post(org_api, [event("load:cvat", 200)], sent_after=0).status_code == 201  # within 300 s


def test_a_client_clock_beyond_the_skew_limit_is_refused(org_api, settings):
    settings.EVENTS_MAX_CLOCK_SKEW_DAYS = 30
    response = post(org_api, [event("load:cvat", 0)])  # CLIENT_NOW is far more than 30 days behind
    assert response.status_code == 400 and "EVENTS_MAX_CLOCK_SKEW_DAYS" in response.json()["timestamp"][0]


@pytest.mark.parametrize("as_text", [False, True])
def test_a_payload_nested_deeper_than_the_limit_gets_400_not_500(org_api, as_text):
    from events.client_batch import MAX_PAYLOAD_DEPTH

    def send(depth: int, **headers):
        # Written by hand: JSON encoders (the test client's too) stop long before 1,000 levels.
        payload = '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)
        if as_text:
            payload = json.dumps(payload)
        sent = iso(CLIENT_NOW + timedelta(seconds=300))
        body = f'{{"events": [{{"scope": "debug:info", "timestamp": "{sent}", "payload": {payload}}}],'
        body += f' "timestamp": "{sent}"}}'
        return org_api.generic(
            "POST", "/api/events", body.encode(), content_type="application/json", **headers
        )

    assert send(MAX_PAYLOAD_DEPTH, HTTP_IDEMPOTENCY_KEY=f"deep-{as_text}").status_code == 201
    for depth in (MAX_PAYLOAD_DEPTH + 1, 300, 1000):  # orjson writes at most 254 levels back
        response = send(depth, HTTP_IDEMPOTENCY_KEY=f"deeper-{as_text}-{depth}")
        assert response.status_code == 400, response.content
        assert "nested deeper" in response.json()["events[0].payload"][0]


def test_the_upgrade_moves_idempotency_records_into_the_spool(transactional_db, django_user_model):
    """Migration events.0002: a key remembered before the upgrade is still a replay after it."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    user = django_user_model.objects.create_user("retrier", password="pw")
    executor = MigrationExecutor(connection)
    executor.migrate([("events", "0001_initial")])
    try:
        old = executor.loader.project_state([("events", "0001_initial")]).apps
        record = old.get_model("events", "IdempotencyRecord")
        record.objects.create(user_id=user.pk, key="before", fingerprint="f" * 64, response={"events": []})
        executor = MigrationExecutor(connection)
        executor.migrate([("events", "0002_idempotency_records_move_to_the_spool")])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    moved = get_spool().key_record(user.pk, "before")
    assert moved is not None and moved.fingerprint == "f" * 64 and moved.response == {"events": []}
    assert "events_idempotencyrecord" not in connection.introspection.table_names()
