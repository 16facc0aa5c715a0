"""The time every event is stamped with. Normally the wall clock; the demo simulation moves it
through past days (in its own context only) so that seeded events, and the rows they describe,
land on the days it simulates."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.db import models

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


class ClockDateTimeField(models.DateTimeField):
    """A DateTimeField whose auto_now/auto_now_add read this clock instead of the wall clock, so a
    row created or changed under simulated time carries the same moment as the event it caused.
    It stores and migrates exactly like Django's field (deconstruct names the base class)."""

    def pre_save(self, model_instance: models.Model, add: bool) -> datetime:
        if self.auto_now or (self.auto_now_add and add):
            value = now()
            setattr(model_instance, self.attname, value)
            return value
        return super().pre_save(model_instance, add)

    def deconstruct(self) -> tuple[str, str, list, dict]:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DateTimeField", args, kwargs
