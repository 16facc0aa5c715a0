"""The export file itself, against real chDB: CVAT's columns and order, rows in timestamp order,
NULL as an empty field, CVAT's timestamps, exclusions, windows, and the three formats."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from events.record import EventRecord
from exports.query import CSV_HEADER, EXPORT_COLUMNS, ExportSpec, plan, write_export

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CVAT_HEADER = (
    "scope,obj_name,obj_id,obj_val,source,timestamp,count,duration,project_id,task_id,job_id,"
    "user_id,user_name,user_email,org_id,org_slug,payload,access_token_id"
)


def insert(client, records: list[EventRecord]) -> None:
    client.raw_insert("events", None, b"\n".join(r.to_row() for r in records), fmt="JSONEachRow")


def event(scope: str, at: datetime, **fields) -> EventRecord:
    defaults = {"source": "server", "org_id": 1, "org_slug": "acme", "user_id": 7, "user_name": "ann"}
    return EventRecord(scope=scope, timestamp=at, **{**defaults, **fields})


def spec(**kwargs) -> ExportSpec:
    kwargs.setdefault("since", T0 - timedelta(days=1))
    kwargs.setdefault("to", T0 + timedelta(days=1))
    return ExportSpec(**kwargs)


def export_csv(tmp_path, **kwargs) -> tuple[bytes, list[dict]]:
    path = tmp_path / "out.csv"
    rows = write_export(spec(**kwargs), path)
    data = path.read_bytes()
    parsed = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
    assert rows == len(parsed)
    return data, parsed


def test_csv_has_cvats_header_order_nulls_timestamps_and_exclusions(clickhouse, tmp_path):
    insert(
        clickhouse,
        [
            event(
                "create:task",
                T0 + timedelta(seconds=2),
                obj_name="task",
                obj_id=5,
                project_id=3,
                task_id=5,
                user_email="ann@example.com",
                payload={"request": {"id": "r-1"}},
                access_token_id=9,
                remote_addr="203.0.113.77",
                count=1,
                duration=15,
            ),
            event("create:project", T0 + timedelta(milliseconds=1), obj_name=None, project_id=3),
            event("send:exception", T0 + timedelta(seconds=1), payload={"message": "boom"}),
            event(
                "draw:object", T0 + timedelta(seconds=3), source="client", obj_val='rectangle, "big"\nline 2'
            ),
            event("internal:thing", T0 + timedelta(seconds=4), source="vector"),
        ],
    )
    data, parsed = export_csv(tmp_path)

    assert data.startswith(CVAT_HEADER.encode() + b"\r\n")
    assert CSV_HEADER.decode().strip() == CVAT_HEADER
    assert tuple(parsed[0].keys()) == EXPORT_COLUMNS
    assert b"remote_addr" not in data and b"203.0.113.77" not in data and b"event_id" not in data
    # send:exception and sources other than server/client are left out; the rest in time order.
    assert [row["scope"] for row in parsed] == ["create:project", "create:task", "draw:object"]
    project, task, draw = parsed
    # str() of an aware datetime, as CVAT writes it: microseconds, and none when they are 0.
    assert project["timestamp"] == "2026-03-01 12:00:00.001000+00:00"
    assert task["timestamp"] == "2026-03-01 12:00:02+00:00"
    # NULL is an empty field; values are CVAT's.
    assert project["obj_name"] == "" and project["task_id"] == "" and project["user_email"] == ""
    assert task["obj_id"] == "5" and task["count"] == "1" and task["duration"] == "15"
    assert task["access_token_id"] == "9" and task["user_email"] == "ann@example.com"
    assert orjson.loads(task["payload"]) == {"request": {"id": "r-1"}}
    assert draw["obj_val"] == 'rectangle, "big"\nline 2' and draw["source"] == "client"
    assert data.count(b"\r\n") == 4  # header + 3 rows (the quoted field keeps its bare \n)


def test_rows_come_out_in_timestamp_order_across_windows(clickhouse, tmp_path, monkeypatch):
    # Three orgs interleaved over ten minutes, inserted shuffled; windows of ~5 rows.
    records = [
        event("change:frame", T0 + timedelta(seconds=37 * i, milliseconds=i), org_id=1 + i % 3, obj_id=i)
        for i in range(15)
    ]
    insert(clickhouse, records[::2] + records[1::2])
    monkeypatch.setattr("exports.query.WINDOW_ROWS", 5)
    windows = plan(clickhouse, spec())
    assert len(windows) > 1 and sum(w.rows for w in windows) == 15
    assert all(a.until == b.since for a, b in itertools.pairwise(windows))
    _, parsed = export_csv(tmp_path)
    assert [int(row["obj_id"]) for row in parsed] == list(range(15))


def test_filters_and_both_ends_of_the_time_range(clickhouse, tmp_path):
    insert(
        clickhouse,
        [
            event("a", T0, project_id=1, task_id=10, job_id=100, user_id=7, org_id=1),
            event("b", T0 + timedelta(seconds=1), project_id=1, task_id=11, job_id=101, user_id=8, org_id=1),
            event("c", T0 + timedelta(seconds=2), project_id=2, task_id=12, job_id=102, user_id=7, org_id=2),
            event("d", T0 + timedelta(seconds=3), project_id=1, task_id=10, job_id=100, user_id=7, org_id=1),
        ],
    )

    def scopes(**kwargs) -> list[str]:
        return [row["scope"] for row in export_csv(tmp_path, **kwargs)[1]]

    assert scopes(filters={"project_id": 1}) == ["a", "b", "d"]
    assert scopes(filters={"project_id": 1, "user_id": 7}) == ["a", "d"]
    assert scopes(filters={"task_id": 11}) == ["b"]
    assert scopes(filters={"job_id": 100}) == ["a", "d"]
    assert scopes(filters={"org_id": 2}) == ["c"]
    assert scopes(filters={"project_id": 999}) == []
    # `from` and `to` are both included, to the millisecond.
    assert scopes(since=T0 + timedelta(seconds=1), to=T0 + timedelta(seconds=2)) == ["b", "c"]
    assert scopes(since=T0 + timedelta(seconds=1, microseconds=999), to=T0 + timedelta(seconds=1)) == ["b"]


def test_empty_csv_export_is_just_the_header(clickhouse, tmp_path):
    data, parsed = export_csv(tmp_path)
    assert data == CSV_HEADER and parsed == []


def test_jsonl_export(clickhouse, tmp_path):
    insert(
        clickhouse,
        [
            event("create:job", T0 + timedelta(seconds=1), job_id=2**40, remote_addr="198.51.100.1"),
            event("create:task", T0, task_id=4, obj_name=None),
        ],
    )
    path = tmp_path / "out.jsonl"
    assert write_export(spec(format="jsonl"), path) == 2
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [line["scope"] for line in lines] == ["create:task", "create:job"]
    assert list(lines[0].keys()) == list(EXPORT_COLUMNS)
    assert lines[1]["job_id"] == 2**40  # a number, not a quoted string
    assert lines[0]["obj_name"] is None and lines[0]["timestamp"] == "2026-03-01T12:00:00.000Z"
    assert b"198.51.100.1" not in path.read_bytes()


def test_parquet_export_in_order_across_windows(clickhouse, tmp_path, monkeypatch):
    records = [
        event("create:job", T0 + timedelta(seconds=13 * i), job_id=i, org_id=1 + i % 3) for i in range(30)
    ]
    insert(clickhouse, records[::-1])
    monkeypatch.setattr("exports.query.WINDOW_ROWS", 4)
    path = tmp_path / "out.parquet"
    assert write_export(spec(format="parquet"), path) == 30
    data = path.read_bytes()
    assert data[:4] == b"PAR1" and data[-4:] == b"PAR1"
    result = clickhouse.query(f"SELECT * FROM file('{path}', Parquet)")
    assert tuple(result.column_names) == EXPORT_COLUMNS
    assert [row[EXPORT_COLUMNS.index("job_id")] for row in result.result_rows] == list(range(30))
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]  # the Native spool is gone

    empty = tmp_path / "empty.parquet"
    assert write_export(spec(format="parquet", filters={"org_id": 999}), empty) == 0
    assert empty.read_bytes()[:4] == b"PAR1"
    assert clickhouse.query(f"SELECT count() FROM file('{empty}', Parquet)").result_rows == [(0,)]


def test_progress_is_reported_per_window(clickhouse, tmp_path, monkeypatch):
    insert(clickhouse, [event("x", T0 + timedelta(minutes=i)) for i in range(6)])
    monkeypatch.setattr("exports.query.WINDOW_ROWS", 2)
    seen: list[tuple[int, int]] = []
    write_export(spec(), tmp_path / "out.csv", progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 6) and seen[-1] == (6, 6)
    assert len({done for done, _ in seen}) >= 4


@pytest.mark.parametrize("bad", ["xml", "CSV;DROP"])
def test_unknown_format_is_refused(bad):
    with pytest.raises(ValueError):
        spec(format=bad)
