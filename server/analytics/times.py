"""The one time parser and formatter of the read path (KPI/metric API, query API, built-in
dashboards, per-user summary), all in UTC, on config.fields' strict ISO-8601 reader.

Each surface accepts its own forms (epoch seconds in the KPI API, epoch milliseconds in the query
API and the dashboards, Grafana's `now-7d`) and words its own 400; the parsing itself is here:
`parse_instant` raises ValueError, the caller turns it into its error naming the field.
"""

from __future__ import annotations

from datetime import UTC, datetime

from config.fields import parse_iso_timestamp


def as_utc(moment: datetime) -> datetime:
    """A naive time is UTC; an aware one is converted to UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_iso(text: str) -> datetime:
    """ISO-8601 (a trailing Z or z is UTC, no zone is UTC) -> an aware UTC datetime; ValueError,
    or OverflowError for a time whose UTC moment is past year 9999."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    return as_utc(datetime.fromisoformat(text))


def parse_instant(raw: str | float, *, per_second: int) -> float:
    """A number or a numeric string (epoch time in units of 1/`per_second` seconds: 1 or 1000) or
    an ISO-8601 string -> epoch seconds. ValueError for anything else; the caller checks the
    range (NaN and infinities fail any range check)."""
    if isinstance(raw, bool):
        raise ValueError(f"not a time: {raw!r}")
    if isinstance(raw, int | float):
        return raw / per_second
    text = str(raw).strip()
    try:
        return float(text) / per_second
    except ValueError:
        pass
    seconds = parse_iso_timestamp(text)
    if seconds is None:
        raise ValueError(f"not a time: {text[:40]!r}")
    return seconds


def iso_z(ts: float) -> str:
    """Epoch seconds -> ISO-8601 UTC with second precision and a Z (bucket starts are whole
    seconds)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
