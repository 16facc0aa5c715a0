"""Durable, idempotent shipping: spool -> flusher -> ClickHouse (or Vector), against real chDB."""

from __future__ import annotations

import io
import sqlite3
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
from django.core.management.base import CommandError
from django.db import transaction

from events.emit import emit
from events.record import EventRecord
from shipping.flusher import Flusher
from shipping.sinks import ClickHouseSink, VectorSink
from shipping.spool import Spool, batch_token


def make_rows(n: int, scope: str = "create:task") -> list[bytes]:
    base = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    return [EventRecord(scope=scope, timestamp=base, obj_id=i, org_id=1).to_row() for i in range(n)]


def count(clickhouse, where: str = "1") -> int:
    return clickhouse.query(f"SELECT count() FROM events WHERE {where}").result_rows[0][0]


class SwitchableSink:
    """The real ClickHouse sink behind a link that can be cut, as a network outage would."""

    name = "clickhouse"

    def __init__(self) -> None:
        self.inner = ClickHouseSink()
        self.reachable = False
        self.calls = 0

    def send(self, payload: bytes, token: str) -> None:
        self.calls += 1
        if not self.reachable:
            raise ConnectionRefusedError("clickhouse:8123 unreachable")
        self.inner.send(payload, token)


def write_old_layout(path, rows: list[bytes]) -> None:
    """A spool file as written before entries held several rows: one SQLite row per event."""
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE spool_rows (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at REAL NOT NULL,"
            " row BLOB NOT NULL)"
        )
        old.executemany("INSERT INTO spool_rows (created_at, row) VALUES (0, ?)", [(r,) for r in rows])


def flusher_for(spool: Spool, sink, batch_size: int = 100) -> Flusher:
    return Flusher(spool, sink, batch_size=batch_size, interval=0.01, max_backoff=0.05, lease_seconds=5)


def test_rows_are_spooled_durably_and_survive_reopening(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    spool.append(make_rows(5))
    spool.close()
    reopened = Spool(tmp_path / "s.sqlite3")
    assert reopened.stats().depth == 5


def test_a_failed_batch_is_retried_with_identical_rows_and_token(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    for n in (4, 4, 4):  # three requests: three entries
        spool.append(make_rows(n, scope=f"create:task{n}"))
    first = spool.claim(10, lease_seconds=5)
    assert first.row_count == 8  # the first two entries
    spool.fail(first, "boom", retry_in=0)
    spool.append(make_rows(3, scope="update:task"))  # arrives meanwhile: must not join the retry
    again = spool.claim(100, lease_seconds=5)
    assert again.id == first.id
    assert again.payload == first.payload and again.row_count == 8
    assert again.token == first.token == batch_token(first.rows)
    assert again.attempts == 2


def test_a_batch_claimed_before_the_upgrade_is_retried_as_it_was(tmp_path):
    path = tmp_path / "s.sqlite3"
    rows = make_rows(5)
    write_old_layout(path, rows)
    with sqlite3.connect(path) as old:  # ... with a batch claimed and failed before the upgrade
        old.execute(
            "CREATE TABLE spool_batches (id INTEGER PRIMARY KEY AUTOINCREMENT, first_id INTEGER NOT NULL,"
            " last_id INTEGER NOT NULL, row_count INTEGER NOT NULL, token TEXT NOT NULL,"
            " attempts INTEGER NOT NULL DEFAULT 0, lease_until REAL NOT NULL DEFAULT 0,"
            " next_attempt_at REAL NOT NULL DEFAULT 0, last_error TEXT)"
        )
        old.execute(
            "INSERT INTO spool_batches (first_id, last_id, row_count, token, attempts)"
            " VALUES (1, 3, 3, ?, 1)",
            (batch_token(rows[:3]),),
        )
    spool = Spool(path)
    retry = spool.claim(100, lease_seconds=5)
    assert retry.rows == rows[:3] and retry.token == batch_token(rows[:3]) and retry.attempts == 2
    spool.ack(retry)
    rest = spool.claim(100, lease_seconds=5)
    assert rest.rows == rows[3:] and not rest.more_waiting


def test_an_append_larger_than_a_batch_is_stored_as_several_entries(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3", max_entry_rows=4)
    rows = make_rows(10)  # e.g. the server events of deleting a large project
    spool.append(rows)
    shipped = []
    while (batch := spool.claim(4, lease_seconds=5)) is not None:
        assert batch.row_count <= 4
        shipped += batch.rows
        spool.ack(batch)
    assert shipped == rows


def test_a_batch_takes_whole_entries_up_to_the_row_limit(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    for n in (4, 4, 4):  # three requests of 4 rows: three entries
        spool.append(make_rows(n))
    first = spool.claim(10, lease_seconds=5)
    assert first.row_count == 8 and len(first.rows) == 8  # a third entry would exceed 10 rows
    assert first.more_waiting  # so the flusher ships the next batch without waiting
    assert first.token == batch_token(first.rows)
    spool.ack(first)
    assert spool.stats().depth == 4
    spool.append(make_rows(6))
    second = spool.claim(2, lease_seconds=5)  # one entry alone is over the limit: it goes whole
    assert second.row_count == 4 and second.more_waiting
    spool.ack(second)
    assert not spool.claim(100, lease_seconds=5).more_waiting


def test_a_spool_file_written_with_one_row_per_entry_is_shipped(clickhouse, tmp_path):
    path = tmp_path / "s.sqlite3"
    write_old_layout(path, make_rows(5))
    spool = Spool(path)
    assert spool.stats().depth == 5
    assert flusher_for(spool, ClickHouseSink()).drain(timeout=10) == 5
    assert count(clickhouse) == 5


def test_a_batch_in_backoff_blocks_new_batches_until_due(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    spool.append(make_rows(3))
    batch = spool.claim(10, lease_seconds=5)
    spool.fail(batch, "down", retry_in=60)
    spool.append(make_rows(2))
    assert spool.claim(10, lease_seconds=5) is None


def test_a_leased_batch_is_taken_over_when_its_flusher_dies(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    spool.append(make_rows(3))
    crashed = spool.claim(10, lease_seconds=0.05)  # claimed, then the process died: no ack, no fail
    time.sleep(0.1)
    taken_over = spool.claim(10, lease_seconds=5)
    assert taken_over.id == crashed.id and taken_over.token == crashed.token


def test_the_same_batch_delivered_twice_is_stored_once(clickhouse):
    rows = make_rows(50)
    sink = ClickHouseSink()
    sink.send(b"\n".join(rows), batch_token(rows))
    sink.send(b"\n".join(rows), batch_token(rows))
    assert count(clickhouse) == 50


def test_a_crash_between_insert_and_ack_does_not_duplicate(clickhouse, tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    spool.append(make_rows(20))
    batch = spool.claim(100, lease_seconds=0.05)
    ClickHouseSink().send(batch.payload, batch.token)  # inserted, but the ack is lost
    time.sleep(0.1)
    flusher_for(spool, ClickHouseSink()).drain(timeout=10)
    assert count(clickhouse) == 20
    assert spool.stats().depth == 0


def test_events_wait_in_the_spool_while_clickhouse_is_unreachable_and_arrive_exactly_once(
    clickhouse, tmp_path
):
    spool = Spool(tmp_path / "s.sqlite3")
    sink = SwitchableSink()
    flusher = flusher_for(spool, sink, batch_size=7)
    spool.append(make_rows(30))
    for _ in range(5):
        flusher.ship_once()
        time.sleep(0.06)
    assert sink.calls >= 2
    assert count(clickhouse) == 0
    stats = spool.stats()
    assert stats.depth == 30
    assert "unreachable" in stats.last_batch_error
    assert "unreachable" in flusher.state.last_error

    sink.reachable = True
    flusher.drain(timeout=10)
    assert count(clickhouse) == 30
    assert clickhouse.query("SELECT uniqExact(obj_id) FROM events").result_rows[0][0] == 30
    assert spool.stats().depth == 0


def test_background_flusher_ships_on_its_own(clickhouse, tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    flusher = flusher_for(spool, ClickHouseSink())
    flusher.start()
    try:
        spool.append(make_rows(25))
        deadline = time.monotonic() + 10
        while count(clickhouse) < 25 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        flusher.stop()
    assert count(clickhouse) == 25


class _FakeVector(BaseHTTPRequestHandler):
    """Stands in for Vector's http_server source: JSON array in, rows into the real ClickHouse."""

    up = False
    client = None

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if not _FakeVector.up:
            self.send_response(503)
            self.end_headers()
            return
        events = orjson.loads(body)
        _FakeVector.client.raw_insert(
            "events", None, b"\n".join(orjson.dumps(e) for e in events), fmt="JSONEachRow"
        )
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_through_vector_events_wait_while_it_is_down_and_arrive_once(clickhouse, tmp_path):
    _FakeVector.client, _FakeVector.up = clickhouse, False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeVector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        spool = Spool(tmp_path / "s.sqlite3")
        flusher = flusher_for(spool, VectorSink(f"http://127.0.0.1:{server.server_port}/events", timeout=5))
        spool.append(make_rows(12))
        flusher.ship_once()
        assert "503" in flusher.state.last_error
        assert spool.stats().depth == 12
        _FakeVector.up = True
        time.sleep(0.06)
        flusher.drain(timeout=10)
        assert count(clickhouse) == 12
        assert spool.stats().depth == 0
    finally:
        server.shutdown()


def test_events_are_emitted_only_after_commit(transactional_db, spool_path):
    from shipping.service import get_spool

    record = EventRecord(scope="create:project", timestamp=datetime.now(UTC))
    with pytest.raises(RuntimeError), transaction.atomic():
        emit(record)
        raise RuntimeError("rolled back")
    assert get_spool().stats().depth == 0
    with transaction.atomic():
        emit(EventRecord(scope="create:project", timestamp=datetime.now(UTC)))
        assert get_spool().stats().depth == 0  # not before the commit
    assert get_spool().stats().depth == 1


def test_health_reports_spool_depth_age_and_last_error(api, clickhouse, django_user_model):
    from shipping.service import get_flusher, get_spool

    user = django_user_model.objects.create_user("ops", password="pw", is_staff=True)  # emits create:user
    api.force_authenticate(user)
    get_flusher().drain(timeout=10)
    get_spool().append(make_rows(3))
    time.sleep(0.02)
    body = api.get("/api/server/health").json()
    assert body["spool"]["depth"] == 3
    assert body["spool"]["oldest_unshipped_age_seconds"] > 0
    assert body["shipping"]["last_error"] is None
    get_flusher().drain(timeout=10)
    body = api.get("/api/server/health").json()
    assert body["spool"]["depth"] == 0 and body["shipping"]["shipped_rows"] == 4
    assert api.get("/healthz").json() == {"status": "ok", "reasons": []}
    api.force_authenticate(None)
    assert api.get("/api/server/health").status_code == 401
    # Instance-wide details are for instance administrators only.
    api.force_authenticate(django_user_model.objects.create_user("worker", password="pw"))
    assert api.get("/api/server/health").status_code == 403


def test_the_flusher_can_be_built_before_anything_touched_the_spool(spool_path):
    from shipping import service

    service.reset()
    built = []
    # get_flusher() builds the spool under the same lock: it must not deadlock (a thread, so a
    # regression fails in 5 s instead of hanging the suite).
    worker = threading.Thread(target=lambda: built.append(service.get_flusher()), daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert built, "get_flusher() deadlocked"
    assert built[0].spool is service.get_spool()


def test_concurrent_appends_share_commits_and_lose_nothing(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    commits = []
    write = spool._write
    spool._write = lambda group: (commits.append(len(group)), write(group))  # count groups written

    def writer(n: int) -> None:
        for i in range(50):
            spool.append(make_rows(3, scope=f"t{n}:{i}"))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert spool.stats().depth == 8 * 50 * 3
    assert sum(commits) == 400  # every append written exactly once
    batch = spool.claim(10_000, lease_seconds=5)
    assert len(batch.rows) == 1200


# --- Refusals: split, quarantine, replay; health and metrics ---------------------------------


def monthly_rows(months: int) -> list[bytes]:
    """One row per month from 2000-01: one insert of them all spans `months` partitions."""
    return [
        EventRecord(
            scope="create:task", timestamp=datetime(2000 + m // 12, m % 12 + 1, 1, tzinfo=UTC), obj_id=m
        ).to_row()
        for m in range(months)
    ]


def bad_row(marker: int) -> bytes:
    """A row ClickHouse refuses for good (a value its column cannot hold)."""
    row = orjson.loads(make_rows(1)[0])
    row.update(obj_id=marker, duration=-1)
    return orjson.dumps(row)


class RecordingSink:
    """The real ClickHouse sink, noting what was sent (and failing transiently on demand)."""

    name = "clickhouse"

    def __init__(self, fail_after: int | None = None) -> None:
        self.inner, self.sent, self.fail_after = ClickHouseSink(), [], fail_after

    def send(self, payload: bytes, token: str) -> None:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise TimeoutError("clickhouse:8123 timed out")
        self.sent.append((payload.count(b"\n") + 1, token))
        self.inner.send(payload, token)


def test_a_batch_spanning_too_many_partitions_is_split_and_every_row_stored_once(clickhouse, tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    spool.append(monthly_rows(120))  # what one request could spool before the time window
    spool.append(make_rows(5))  # a request behind it
    flusher = flusher_for(spool, ClickHouseSink(), batch_size=1000)
    flusher.drain(timeout=30)
    assert count(clickhouse) == 125
    stats = spool.stats()
    assert stats.depth == 0 and stats.quarantined_rows == 0
    assert stats.counters["batches_split"] == 1 and stats.counters["rows_shipped"] == 125


def test_refused_rows_are_quarantined_and_the_rest_of_the_batch_is_stored(clickhouse, tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    good = make_rows(40)
    spool.append([*good[:17], bad_row(1001), *good[17:30]])
    spool.append([bad_row(1002), *good[30:]])
    sink = RecordingSink()
    flusher = flusher_for(spool, sink, batch_size=1000)
    flusher.drain(timeout=30)
    assert count(clickhouse) == 40
    assert count(clickhouse, "obj_id >= 1000") == 0
    quarantined = spool.quarantined()
    assert sorted(orjson.loads(q.row)["obj_id"] for q in quarantined) == [1001, 1002]
    assert all("CANNOT_PARSE_NUMBER" in q.error or "Code: 72" in q.error for q in quarantined)
    stats = spool.stats()
    assert stats.depth == 0 and stats.quarantined_rows == 2 and stats.counters["rows_quarantined"] == 2
    assert stats.counters["batches_quarantining"] == 1 and stats.counters["batches_shipped"] == 1
    # Every send after the first was a proper part of a refused range, each with its own rows' token.
    assert len({token for _, token in sink.sent}) == len(sink.sent)


def test_after_a_crash_during_splitting_a_refused_range_is_never_sent_whole_again(clickhouse, tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    rows = make_rows(16)
    rows[11] = bad_row(1003)
    spool.append(rows)
    crashing = RecordingSink(fail_after=2)  # whole batch refused, left half stored, then a timeout
    flusher_for(spool, crashing, batch_size=100).ship_once()
    assert count(clickhouse) == 8
    assert spool.stats().failing_batches == 1  # the timeout: retried later, not quarantined
    time.sleep(0.06)
    retry = RecordingSink()
    flusher_for(spool, retry, batch_size=100).drain(timeout=30)
    assert all(n < 16 for n, _ in retry.sent)  # the refused whole was not sent again
    assert count(clickhouse) == 15 and count(clickhouse, "obj_id >= 1000") == 0
    assert clickhouse.query("SELECT uniqExact(obj_id) FROM events").result_rows[0][0] == 15
    assert [orjson.loads(q.row)["obj_id"] for q in spool.quarantined()] == [1003]


def test_a_transient_failure_retries_the_whole_batch_and_quarantines_nothing(clickhouse, tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    spool.append(make_rows(10))
    sink = SwitchableSink()
    flusher = flusher_for(spool, sink)
    flusher.ship_once()
    stats = spool.stats()
    assert stats.quarantined_rows == 0 and stats.counters["batches_retried"] == 1
    assert stats.counters["batches_split"] == 0 and sink.calls == 1


def test_quarantined_rows_are_replayed_by_the_command_after_a_fix(clickhouse, tmp_path, settings):
    from django.core.management import call_command

    from shipping import service

    settings.SPOOL_PATH = tmp_path / "s.sqlite3"
    service.reset()
    spool = service.get_spool()
    row = orjson.loads(make_rows(1)[0])
    row["ticket"] = "T-1"  # a column the table does not have (yet): refused as INCORRECT_DATA
    spool.append([orjson.dumps(row), *make_rows(3)])
    flusher = flusher_for(spool, ClickHouseSink())
    flusher.drain(timeout=30)
    assert count(clickhouse) == 3 and spool.stats().quarantined_rows == 1
    listed = io.StringIO()
    call_command("shipping_quarantine", "list", "--rows", stdout=listed)
    assert "1 quarantined row(s)" in listed.getvalue() and '"ticket":"T-1"' in listed.getvalue()
    exported = tmp_path / "q.jsonl"
    call_command("shipping_quarantine", "export", str(exported), stdout=io.StringIO())
    assert orjson.loads(exported.read_bytes())["ticket"] == "T-1"
    clickhouse.command("ALTER TABLE events ADD COLUMN ticket Nullable(String)")  # the fix
    try:
        out = io.StringIO()
        call_command("shipping_quarantine", "replay", "--all", stdout=out)
        assert "replayed 1 row(s)" in out.getvalue()
        flusher.drain(timeout=30)
        assert count(clickhouse, "ticket = 'T-1'") == 1
    finally:
        clickhouse.command("ALTER TABLE events DROP COLUMN ticket")
    stats = spool.stats()
    assert stats.quarantined_rows == 0 and stats.counters["rows_replayed"] == 1
    with pytest.raises(CommandError, match="No quarantined row with id 99"):
        call_command("shipping_quarantine", "discard", "--id", "99")


def test_a_stuck_pipeline_shows_within_one_flush_interval_and_healthz_says_503(api, clickhouse, settings):
    from shipping import service

    settings.SHIP_FLUSH_INTERVAL_SECONDS = 0.05
    service.reset()
    flusher = service.get_flusher()
    sink = SwitchableSink()
    flusher.sink = sink
    flusher.drain(timeout=1)
    assert api.get("/healthz").status_code == 200
    service.get_spool().append(make_rows(3))
    flusher.ship_once()  # one flush: the sink is down
    response = api.get("/healthz")  # ... and health says so at once, not after a staleness timeout
    assert response.status_code == 503
    assert response.json() == {"status": "stuck", "reasons": ["shipping_failing"]}
    sink.reachable = True
    flusher.start()  # the background flusher retries after its backoff and recovers
    try:
        deadline = time.monotonic() + 10
        while api.get("/healthz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert api.get("/healthz").json() == {"status": "ok", "reasons": []}
        assert count(clickhouse, "scope = 'create:task'") == 3
    finally:
        flusher.stop(drain_timeout=1)


def test_an_old_unshipped_row_means_stuck_and_quarantined_rows_mean_degraded(api, clickhouse, settings):
    from shipping.service import get_flusher, get_spool

    spool = get_spool()
    spool.append([bad_row(1004)])
    get_flusher().drain(timeout=10)
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "reasons": ["rows_quarantined"]}
    spool.append(make_rows(1))
    settings.SHIP_STALE_AFTER_SECONDS = 1
    time.sleep(1.05)
    assert api.get("/healthz").json() == {"status": "stuck", "reasons": ["spool_stale", "rows_quarantined"]}


def test_metrics_are_exported_for_a_scraper_token_or_an_instance_admin(api, clickhouse, settings, make_user):
    from prometheus_client.parser import text_string_to_metric_families

    from shipping.service import get_flusher, get_spool

    get_spool().append([*make_rows(4), bad_row(1005)])
    get_flusher().drain(timeout=10)
    get_spool().append(make_rows(2))
    assert api.get("/api/server/metrics").status_code in (401, 403)
    settings.METRICS_TOKEN = "scrape-secret"
    assert api.get("/api/server/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code in (401, 403)
    response = api.get("/api/server/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }
    assert samples[("analytics_shipping_spool_depth_rows", ())] == get_spool().stats().depth >= 2
    assert samples[("analytics_shipping_quarantined_rows", ())] == 1
    assert samples[("analytics_shipping_rows_quarantined_total", ())] == 1
    assert samples[("analytics_shipping_rows_shipped_total", ())] >= 4
    assert samples[("analytics_shipping_batches_shipped_total", ())] >= 1
    assert samples[("analytics_shipping_oldest_unshipped_age_seconds", ())] >= 0
    assert samples[("analytics_shipping_problem", (("reason", "rows_quarantined"),))] == 1
    assert samples[("analytics_shipping_stuck", ())] == 0
    api.force_authenticate(make_user("worker"))
    assert api.get("/api/server/metrics").status_code == 403
    api.force_authenticate(make_user("root", superuser=True))
    assert api.get("/api/server/metrics").status_code == 200


def test_an_idempotency_key_and_its_rows_commit_together_or_not_at_all(tmp_path):
    from shipping.spool import KeyRecord

    spool = Spool(tmp_path / "s.sqlite3")
    key = KeyRecord(7, "k", "f" * 64, {"events": [], "working_time": []})
    with spool.transaction() as conn:  # the disk fills up between the key and the rows
        conn.execute(
            "CREATE TRIGGER full BEFORE INSERT ON spool_rows BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        spool.append(make_rows(2), key)
    assert spool.key_record(7, "k") is None and spool.stats().depth == 0
    with spool.transaction() as conn:
        conn.execute("DROP TRIGGER full")
    assert spool.append(make_rows(2), key) is None
    assert spool.append(make_rows(2), key).response == key.response  # the retry: nothing written
    assert spool.stats().depth == 2


def test_the_last_error_is_exported_by_kind_without_its_text(api, clickhouse, make_user):
    from prometheus_client.parser import text_string_to_metric_families

    from shipping.refusals import error_kind
    from shipping.service import get_spool

    spool = get_spool()
    spool.append(make_rows(2))
    flusher_for(spool, SwitchableSink()).ship_once()  # unreachable: the batch is failing
    api.force_authenticate(make_user("root", superuser=True))
    text = api.get("/api/server/metrics").content.decode()
    (family,) = [
        f for f in text_string_to_metric_families(text) if f.name == "analytics_shipping_last_error_info"
    ]
    assert [(s.labels, s.value) for s in family.samples] == [({"kind": "ConnectionRefusedError"}, 1)]
    assert "unreachable" not in text
    message = (
        "DatabaseError: Code: 72. DB::Exception: Unsigned type must not contain '-' (CANNOT_PARSE_NUMBER)"
    )
    assert error_kind(message) == "DatabaseError 72 CANNOT_PARSE_NUMBER"


def test_a_batch_is_bounded_in_bytes_too(tmp_path):
    spool = Spool(tmp_path / "s.sqlite3")
    big = [make_rows(1, scope="x" * 400)[0] for _ in range(5)]  # five requests of one large row
    for row in big:
        spool.append([row])
    sizes = []
    while (batch := spool.claim(10_000, lease_seconds=5, max_bytes=3 * len(big[0]))) is not None:
        sizes.append(batch.row_count)
        assert len(batch.payload) <= 3 * len(big[0]) + 2
        spool.ack(batch)
    assert sizes == [3, 2]
    spool.append([b"{" + b" " * 2000 + b"}"])  # one entry over the limit still goes, alone
    assert spool.claim(10_000, lease_seconds=5, max_bytes=1000).row_count == 1
