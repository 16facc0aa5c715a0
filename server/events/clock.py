"""The time every event is stamped with. Normally the wall clock; the demo simulation moves it
through past days (in its own context only) so that seeded events land on the days it simulates."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_simulated: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("simulated_now", default=None)


def now() -> datetime:
    simulated = _simulated.get()
    return simulated if simulated is not None else datetime.now(UTC)


@contextmanager
def simulated_time(moment: datetime) -> Iterator[None]:
    if moment.tzinfo is None:
        raise ValueError("simulated time must be timezone-aware")
    token = _simulated.set(moment)
    try:
        yield
    finally:
        _simulated.reset(token)
