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

from datetime import datetime, timedelta

from django.conf import settings

from events.client_batch import invalid


def check_window(
    moment: datetime,
    received_at: datetime,
    path: str,
    *,
    shift: timedelta | None = None,
    corrected: bool = True,
) -> datetime:
    """`moment` (plus the clock correction `shift`) if it is in the window; else a 400 naming `path`."""
    if shift is not None:
        try:
            moment = moment + shift
        except OverflowError:
            raise invalid(path, "Out of range after clock correction.") from None
    if corrected:
        earliest = received_at - timedelta(days=settings.EVENTS_MAX_AGE_DAYS)
        latest = received_at + timedelta(seconds=settings.EVENTS_MAX_FUTURE_SECONDS)
        if moment < earliest:
            raise invalid(
                path,
                f"{_iso(moment)} (after clock correction) is more than {settings.EVENTS_MAX_AGE_DAYS}"
                " days old (EVENTS_MAX_AGE_DAYS).",
            )
        if moment > latest:
            raise invalid(
                path,
                f"{_iso(moment)} (after clock correction) is more than {settings.EVENTS_MAX_FUTURE_SECONDS}"
                " seconds in the future (EVENTS_MAX_FUTURE_SECONDS).",
            )
        return moment
    skew = timedelta(days=settings.EVENTS_MAX_CLOCK_SKEW_DAYS)
    if not received_at - skew <= moment <= received_at + skew:
        raise invalid(
            path,
            f"The client's clock ({_iso(moment)}) is more than {settings.EVENTS_MAX_CLOCK_SKEW_DAYS} days"
            " off the server's (EVENTS_MAX_CLOCK_SKEW_DAYS).",
        )
    return moment


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
