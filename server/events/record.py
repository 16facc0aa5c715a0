"""The event record: one row of the ClickHouse `events` table, and its wire form."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

# Column order of the `events` table (clickhouse/migrations/0001_events.sql).
EVENT_COLUMNS: tuple[str, ...] = (
    "scope",
    "obj_name",
    "obj_id",
    "obj_val",
    "source",
    "timestamp",
    "count",
    "duration",
    "project_id",
    "task_id",
    "job_id",
    "user_id",
    "user_name",
    "user_email",
    "org_id",
    "org_slug",
    "payload",
    "access_token_id",
    "remote_addr",
    "event_id",
)


def format_timestamp(moment: datetime) -> str:
    """DateTime64(3) text form that ClickHouse parses in any input format: UTC, millisecond precision."""
    if moment.tzinfo is None:
        raise ValueError("event timestamps must be timezone-aware")
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    # isoformat is C code; this is the hot path of every stored event.
    return moment.replace(tzinfo=None).isoformat(" ", "milliseconds")


class _RandomPool(threading.local):
    """Random bytes drawn from the OS 64 KiB at a time, per thread: one syscall per 4,096 ids
    instead of one per event (ids are made for every event on the ingest hot path)."""

    def __init__(self) -> None:
        self.buffer = b""
        self.offset = 0

    def take16(self) -> bytearray:
        if self.offset + 16 > len(self.buffer):
            self.buffer, self.offset = os.urandom(65536), 0
        chunk = bytearray(self.buffer[self.offset : self.offset + 16])
        self.offset += 16
        return chunk


_random = _RandomPool()


def new_event_id() -> str:
    """A random RFC 4122 version-4 UUID as text; several times cheaper than str(uuid.uuid4())."""
    raw = _random.take16()
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


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
