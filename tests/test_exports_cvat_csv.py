"""The CSV export is byte-for-byte the file CVAT writes for the same rows.

The reference is CVAT's own algorithm (cvat/apps/events/export.py, `_create_csv`): the rows read
with clickhouse-connect (`SELECT * EXCEPT(remote_addr)`, timestamps as aware datetimes) and
written by `csv.writer` into a text file; on Linux that is exactly csv.writer's output. The rows
exercise every rule that decides bytes: quoting (commas, quotes, CR, LF, none), empty strings
versus NULLs, unicode, zero and non-zero milliseconds, the largest ids.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from events.record import EventRecord
from exports.query import EXPORT_COLUMNS, ExportSpec, TsvUnescaper, write_export

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def cvat_csv(client, since: datetime, to: datetime) -> bytes:
    """What CVAT's _create_csv writes for these rows (its query, its writer)."""
    result = client.query(
        "SELECT * EXCEPT(remote_addr, event_id) FROM events"
        " WHERE source IN ('server', 'client') AND scope != 'send:exception'"
        " AND timestamp >= {since:DateTime64(3, 'UTC')} AND timestamp <= {to:DateTime64(3, 'UTC')}"
        " ORDER BY timestamp ASC",
        parameters={"since": since.replace(tzinfo=None), "to": to.replace(tzinfo=None)},
    )
    # chDB names no columns for an empty result; a ClickHouse server names them all.
    names = result.column_names or EXPORT_COLUMNS
    assert tuple(names) == EXPORT_COLUMNS
    rows = []
    for row in result.result_rows:
        # CVAT's client reads the column's time zone (tz_mode="schema"): aware UTC datetimes.
        rows.append([v.replace(tzinfo=UTC) if isinstance(v, datetime) else v for v in row])
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(names)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_csv_export_is_byte_identical_to_cvats(clickhouse, tmp_path):
    def event(scope: str, at: datetime, **fields) -> EventRecord:
        return EventRecord(scope=scope, timestamp=at, source=fields.pop("source", "server"), **fields)

    records = [
        event("create:project", T0, obj_name="project", obj_id=1, org_id=1, org_slug="acme", user_id=7),
        event(
            "update:task",
            T0 + timedelta(milliseconds=1),
            obj_name="name",
            obj_val='Cars, "big" ones',
            obj_id=2**64 - 1,
            task_id=5,
            project_id=3,
            user_id=7,
            user_name="ann",
            user_email="ann@example.com",
            payload={"old_value": "a,b", "request": {"id": "r-1"}},
            access_token_id=9,
            remote_addr="203.0.113.7",
            count=65535,
            duration=4294967295,
        ),
        event("draw:object", T0 + timedelta(seconds=1, milliseconds=120), source="client", obj_val="a\nb"),
        event("draw:object", T0 + timedelta(seconds=2), source="client", obj_val="cr\rhere", obj_name=""),
        event(
            "change:frame", T0 + timedelta(seconds=3, milliseconds=999), source="client", user_name="Zoë 東京"
        ),
        event("load:job", T0 + timedelta(seconds=4), source="client", obj_val='"', payload={}),
        event(
            "debug:info",
            T0 + timedelta(seconds=4, milliseconds=500),
            source="client",
            obj_val="tab\there, back\\slash\\ 'single' \x08\x0c\x07\x0b end\\",
            payload={"path": "C:\\data\\n", "quote": "it's"},
        ),
        event("send:exception", T0 + timedelta(seconds=5), payload={"message": "left out"}),
        event("debug:info", T0 + timedelta(seconds=6), source="vector"),
    ]
    clickhouse.raw_insert("events", None, b"\n".join(r.to_row() for r in records), fmt="JSONEachRow")
    since, to = T0 - timedelta(hours=1), T0 + timedelta(hours=1)

    path = tmp_path / "ours.csv"
    rows = write_export(ExportSpec(since=since, to=to, format="csv"), path)
    ours = path.read_bytes()

    expected = cvat_csv(clickhouse, since, to)
    assert rows == 7
    assert ours == expected
    # What the rules above produce, spelled out for the reader.
    lines = ours.split(b"\r\n")
    assert lines[1].startswith(b"create:project,project,1,,server,2026-03-01 12:00:00+00:00,,0,")
    assert b',"Cars, ""big"" ones",' in lines[2] and b",2026-03-01 12:00:00.001000+00:00,65535," in lines[2]
    assert b"2026-03-01 12:00:03.999000+00:00" in ours and "Zoë 東京".encode() in ours


def test_empty_export_is_cvats_header_line(clickhouse, tmp_path):
    since, to = T0, T0 + timedelta(minutes=1)
    path = tmp_path / "empty.csv"
    write_export(ExportSpec(since=since, to=to, format="csv"), path)
    assert path.read_bytes() == cvat_csv(clickhouse, since, to)


def tsv_escape(line: bytes) -> bytes:
    """ClickHouse's TabSeparated escaping of a String (what the engine sends for a CSV line)."""
    table = {
        b"\\": b"\\\\",
        b"\n": b"\\n",
        b"\r": b"\\r",
        b"\t": b"\\t",
        b"\0": b"\\0",
        b"\b": b"\\b",
        b"\f": b"\\f",
        b"'": b"\\'",
    }
    return b"".join(table.get(bytes([c]), bytes([c])) for c in line)


@given(
    st.lists(st.binary(max_size=40), min_size=1, max_size=8),
    st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=20),
)
def test_tsv_unescaper_restores_crlf_lines_however_the_stream_is_cut(lines, cuts):
    stream = b"".join(tsv_escape(line) + b"\n" for line in lines)
    unescaper, out, position = TsvUnescaper(), [], 0
    for size in cuts * (len(stream) // max(sum(cuts), 1) + 1):
        out.append(unescaper.feed(stream[position : position + size]))
        position += size
        if position >= len(stream):
            break
    out.append(unescaper.feed(stream[position:]))
    out.append(unescaper.flush())
    assert b"".join(out) == b"".join(line + b"\r\n" for line in lines)
