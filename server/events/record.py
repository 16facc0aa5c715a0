"""The event record: one row of the ClickHouse `events` table, and its wire form."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from store.schema import EVENTS

# Column order of the `events` table, from its one definition (store/schema.py). The record's
# fields and to_row's keys are the same names (tests/test_schema.py checks).
EVENT_COLUMNS: tuple[str, ...] = EVENTS.column_names()


def format_timestamp(moment: datetime) -> str:
    """DateTime64(3) text form that ClickHouse parses in any input format: UTC, millisecond precision."""
    # isoformat is C code, and slicing off "+00:00" is cheaper than replace(tzinfo=None): this runs
    # for every stored event.
    if moment.tzinfo is not UTC:
        if moment.tzinfo is None:
            raise ValueError("event timestamps must be timezone-aware")
        moment = moment.astimezone(UTC)
    return moment.isoformat(" ", "milliseconds")[:23]


class _RandomPool(threading.local):
    """Random bytes drawn from the OS 64 KiB at a time, per thread: one syscall per 4,096 ids
    instead of one per event (ids are made for every event on the ingest hot path)."""

    def __init__(self) -> None:
        self.buffer = b""
        self.offset = 0

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.buffer):
            self.buffer, self.offset = os.urandom(max(65536, size)), 0
        chunk = self.buffer[self.offset : self.offset + size]
        self.offset += size
        return chunk


_random = _RandomPool()
# The variant digit of a version-4 UUID is 8, 9, a or b: the top two bits of a random digit, forced.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_event_ids(n: int) -> list[str]:
    """n random RFC 4122 version-4 UUIDs as text, from one hex() of 16n random bytes: ~4 times
    cheaper per id than str(uuid.uuid4()) (the version and variant digits are set in the text)."""
    h = _random.take(16 * n).hex()
    return [
        f"{h[o : o + 8]}-{h[o + 8 : o + 12]}-4{h[o + 13 : o + 16]}-{_VARIANT[h[o + 16]]}{h[o + 17 : o + 20]}"
        f"-{h[o + 20 : o + 32]}"
        for o in range(0, 32 * n, 32)
    ]


def new_event_id() -> str:
    return new_event_ids(1)[0]


@dataclass(slots=True)
class EventRecord:
    scope: str
    timestamp: datetime
    source: str = "server"
    obj_name: str | None = None
    obj_id: int | None = None
    obj_val: str | None = None
    count: int | None = None
    duration: int = 0
    project_id: int | None = None
    task_id: int | None = None
    job_id: int | None = None
    user_id: int | None = None
    user_name: str | None = None
    user_email: str | None = None
    org_id: int | None = None
    org_slug: str | None = None
    payload: dict[str, Any] | None = None
    access_token_id: int | None = None
    remote_addr: str | None = None
    event_id: str = field(default_factory=new_event_id)

    def to_row(self) -> bytes:
        """One JSONEachRow line, keyed by column name: what the spool stores and every sink accepts."""
        return orjson.dumps(
            {
                "event_id": self.event_id,
                "scope": self.scope,
                "obj_name": self.obj_name,
                "obj_id": self.obj_id,
                "obj_val": self.obj_val,
                "source": self.source,
                "timestamp": format_timestamp(self.timestamp),
                "count": self.count,
                "duration": self.duration,
                "project_id": self.project_id,
                "task_id": self.task_id,
                "job_id": self.job_id,
                "user_id": self.user_id,
                "user_name": self.user_name,
                "user_email": self.user_email,
                "org_id": self.org_id,
                "org_slug": self.org_slug,
                "payload": None if self.payload is None else orjson.dumps(self.payload).decode(),
                "access_token_id": self.access_token_id,
                "remote_addr": self.remote_addr,
            }
        )
