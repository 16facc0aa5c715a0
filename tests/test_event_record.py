"""The event record's wire form: what the spool stores and every sink receives."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from events.record import EVENT_COLUMNS, EventRecord, format_timestamp, new_event_id, new_event_ids


def test_new_event_ids_are_distinct_rfc4122_version4_uuids():
    ids = {new_event_id() for _ in range(1000)} | set(new_event_ids(1000))
    assert len(ids) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text
    # Only the version digit and two bits of the variant digit are fixed; the rest stays random.
    assert {text[19] for text in ids} == set("89ab")
    assert len({text[:8] for text in ids}) > 1990


def test_timestamps_are_utc_with_milliseconds_whatever_the_input_zone():
    moment = datetime(2026, 3, 1, 12, 30, 15, 123999, tzinfo=UTC)
    assert format_timestamp(moment) == "2026-03-01 12:30:15.123"
    shifted = moment.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert format_timestamp(shifted) == "2026-03-01 12:30:15.123"
    assert format_timestamp(datetime(2026, 3, 1, tzinfo=UTC)) == "2026-03-01 00:00:00.000"
    with pytest.raises(ValueError):
        format_timestamp(datetime(2026, 3, 1))


def test_a_row_has_exactly_the_events_columns_and_a_json_string_payload():
    record = EventRecord(scope="create:task", timestamp=datetime.now(UTC), payload={"a": 1})
    row = orjson.loads(record.to_row())
    assert set(row) == set(EVENT_COLUMNS)
    assert orjson.loads(row["payload"]) == {"a": 1}
    assert row["source"] == "server" and row["duration"] == 0


def test_event_ids_stay_unique_across_threads_and_pool_refills():
    import threading

    found: list[list[str]] = [[] for _ in range(4)]

    def make(slot: int) -> None:
        found[slot] = [new_event_id() for _ in range(6000)]  # more than one 4,096-id pool each

    threads = [threading.Thread(target=make, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for ids in found for i in ids]
    assert len(set(everything)) == len(everything) == 24_000
