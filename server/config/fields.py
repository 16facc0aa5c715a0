"""Strict readers for numbers and times that arrive as text (query strings, paths, JSON strings).

They exist because the obvious spellings fail open: `"²".isdigit()` is true and `int("²")`
raises; `datetime.fromisoformat("0001-01-01T00:00:00+01:00")` parses but `.timestamp()` overflows;
`datetime.fromtimestamp(10**20)` raises OverflowError, OSError or ValueError by platform. Each
reader returns None for "not this kind of value" and leaves the message (naming the field) to the
caller, so no such exception reaches a view.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

# The event store's DateTime('UTC') range (1970-01-01 .. 2106-02-07): times outside it cannot be
# stored or queried, so they are refused where they arrive.
MIN_TIMESTAMP = 0
MAX_TIMESTAMP = 2**32 - 1
STORE_RANGE_TEXT = "1970-01-01T00:00:00Z and 2106-02-07T06:28:15Z"
# Database ids are 64-bit signed integers.
MAX_DB_ID = 2**63 - 1


def ascii_int(text: str, *, maximum: int | None = None) -> int | None:
    """A non-negative decimal integer written with ASCII digits only (no sign, no spaces), at
    most `maximum`; None otherwise."""
    if not (text.isascii() and text.isdigit()) or len(text) > 40:
        return None
    value = int(text)
    return None if maximum is not None and value > maximum else value


def parse_iso_timestamp(text: str) -> float | None:
    """Epoch seconds of an ISO-8601 time (no zone: UTC; `Z` accepted); None when unparsable or
    outside the calendar."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    except (ValueError, OverflowError):
        return None


def in_store_range(seconds: float) -> bool:
    """True when `seconds` (epoch) is a time the event store can hold."""
    return math.isfinite(seconds) and MIN_TIMESTAMP <= seconds <= MAX_TIMESTAMP


def from_timestamp(seconds: float) -> datetime | None:
    """The UTC datetime of epoch `seconds`, or None when outside the store's range."""
    return datetime.fromtimestamp(seconds, UTC) if in_store_range(seconds) else None
