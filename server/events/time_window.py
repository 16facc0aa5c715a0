"""The times a client batch may carry: what the `events` table must not hold is refused here, with
a 400 that names the field, instead of being refused by ClickHouse later (or stored and skewing
every number after it).

After clock correction an event must lie within EVENTS_MAX_AGE_DAYS before the moment it was
received and EVENTS_MAX_FUTURE_SECONDS after it. The body's own `timestamp` (the client's clock)
may be off by at most EVENTS_MAX_CLOCK_SKEW_DAYS: the correction repairs a wrong clock, not an
absurd one. The age limit also bounds the monthly partitions one insert can touch (see
config.settings), so no batch of accepted events can exceed the engine's limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from events.client_batch import event_path, invalid


def check_send_time(sent_at: datetime, received_at: datetime, path: str = "timestamp") -> None:
    """The client's clock may be wrong, within EVENTS_MAX_CLOCK_SKEW_DAYS."""
    skew = timedelta(days=settings.EVENTS_MAX_CLOCK_SKEW_DAYS)
    if not received_at - skew <= sent_at <= received_at + skew:
        raise invalid(
            path,
            f"The client's clock ({_iso(sent_at)}) is more than {settings.EVENTS_MAX_CLOCK_SKEW_DAYS} days"
            " off the server's (EVENTS_MAX_CLOCK_SKEW_DAYS).",
        )


@dataclass(frozen=True, slots=True)
class EventWindow:
    """Where a corrected event time may lie, computed once per batch (a batch has up to 10,000)."""

    earliest: datetime
    latest: datetime

    @classmethod
    def around(cls, received_at: datetime) -> EventWindow:
        return cls(
            received_at - timedelta(days=settings.EVENTS_MAX_AGE_DAYS),
            received_at + timedelta(seconds=settings.EVENTS_MAX_FUTURE_SECONDS),
        )

    def place(self, moment: datetime, shift: timedelta, index: int) -> datetime:
        """Event `index`'s time shifted by the clock correction, if the result lies in the window;
        else a 400 naming its timestamp (-1: previous_event)."""
        try:
            moment = moment + shift
        except OverflowError:
            raise invalid(f"{event_path(index)}.timestamp", "Out of range after clock correction.") from None
        if moment < self.earliest:
            raise invalid(
                f"{event_path(index)}.timestamp",
                f"{_iso(moment)} (after clock correction) is more than {settings.EVENTS_MAX_AGE_DAYS}"
                " days old (EVENTS_MAX_AGE_DAYS).",
            )
        if moment > self.latest:
            raise invalid(
                f"{event_path(index)}.timestamp",
                f"{_iso(moment)} (after clock correction) is more than {settings.EVENTS_MAX_FUTURE_SECONDS}"
                " seconds in the future (EVENTS_MAX_FUTURE_SECONDS).",
            )
        return moment


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
