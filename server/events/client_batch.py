"""Parsing and validating a `POST /api/events` body (CVAT's contract).

Hand-written rather than a DRF serializer: a batch may hold 10,000 events and each error must name
its place (`events[3].scope`). Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

CLIENT_SCOPES = frozenset(
    {
        "load:cvat",
        "load:job",
        "save:job",
        "load:workspace",
        "send:exception",
        "join:objects",
        "change:frame",
        "draw:object",
        "paste:object",
        "copy:object",
        "propagate:object",
        "drag:object",
        "resize:object",
        "delete:object",
        "merge:objects",
        "split:objects",
        "group:objects",
        "slice:object",
        "zoom:image",
        "fit:image",
        "rotate:image",
        "action:undo",
        "action:redo",
        "debug:info",
        "run:annotations_action",
        "click:element",
        "user:activity",
    }
)
ALLOWED_SCOPES = {"client": CLIENT_SCOPES}
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def invalid(path: str, message: str) -> ValidationError:
    return ValidationError({path: [message]})


def event_path(index: int) -> str:
    """Where an event stands in the body, for error messages (-1 is previous_event); built only
    when an error is raised, not for every event."""
    return f"events[{index}]" if index >= 0 else "previous_event"


@dataclass(slots=True)
class ClientEvent:
    scope: str
    timestamp: datetime
    source: str = "client"
    obj_name: str | None = None
    obj_id: int | None = None
    obj_val: str | None = None
    count: int | None = None
    duration: int = 0
    project_id: int | None = None
    task_id: int | None = None
    job_id: int | None = None
    payload: Any = field(default_factory=dict)


@dataclass(slots=True)
class ClientBatch:
    events: list[ClientEvent]
    previous_event: ClientEvent | None
    sent_at: datetime
    # The events as received (and previous_event), for the fingerprint.
    received: Any = None

    @property
    def fingerprint(self) -> str:
        """Identifies the batch's content for Idempotency-Key replays; computed only for those.
        The send time is left out: a client retrying a batch sends the same events with a new
        `timestamp`."""
        return hashlib.sha256(orjson.dumps(self.received, option=orjson.OPT_SORT_KEYS)).hexdigest()


def parse_time(value: Any, path: str) -> datetime:
    if not isinstance(value, str):
        raise invalid(path, "Expected an ISO-8601 date-time string.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(path, f"Cannot parse date-time {value[:64]!r}; use ISO-8601.") from None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 is past the last representable moment
        raise invalid(path, f"Date-time {value[:64]!r} is out of range.") from None


def _int(value: Any, path: str, maximum: int, *, required: bool = False) -> int | None:
    if value is None:
        if required:
            raise invalid(path, "This field may not be null.")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(path, "A valid integer is required.")
    if not 0 <= value <= maximum:
        raise invalid(path, f"Must be between 0 and {maximum}.")
    return value


def _text(value: Any, path: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise invalid(path, "Expected a string.")


def _payload(value: Any, path: str) -> Any:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = orjson.loads(value) if value else {}
        except orjson.JSONDecodeError:
            raise invalid(path, "JSON payload is not valid in passed event.") from None
        if not isinstance(value, dict | list):
            return value  # JSON text of a scalar: kept as before
    elif not isinstance(value, dict | list):
        raise invalid(path, "Expected a JSON string or a JSON object.")
    if _deeper_than(value, MAX_PAYLOAD_DEPTH):
        raise invalid(path, f"The payload is nested deeper than {MAX_PAYLOAD_DEPTH} levels.")
    return value


# A payload is stored as JSON text; deeper nesting than this cannot be written back (orjson stops
# at 254 levels, and the batch around a payload adds a few), so it is refused at the edge.
MAX_PAYLOAD_DEPTH = 64


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests more than `limit` objects/arrays (no recursion)."""
    level: list[Any] = [value]
    for _ in range(limit):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


_INT_FIELDS = (
    ("obj_id", UINT64_MAX),
    ("count", UINT32_MAX),
    ("duration", UINT32_MAX),
    ("project_id", UINT64_MAX),
    ("task_id", UINT64_MAX),
    ("job_id", UINT64_MAX),
)


def parse_event(raw: Any, path: str) -> ClientEvent:
    if not isinstance(raw, dict):
        raise invalid(path, "Expected an object.")
    scope = raw.get("scope")
    if not isinstance(scope, str) or not scope:
        raise invalid(f"{path}.scope", "This field is required.")
    source = raw.get("source") or "client"
    if not isinstance(source, str):
        raise invalid(f"{path}.source", "Expected a string.")
    if scope not in ALLOWED_SCOPES.get(source, ()):
        raise invalid(f"{path}.scope", f"Event scope {scope!r} is not allowed from {source!r}.")
    if "timestamp" not in raw:
        raise invalid(f"{path}.timestamp", "This field is required.")
    timestamp = parse_time(raw["timestamp"], f"{path}.timestamp")
    event = ClientEvent(scope=scope, timestamp=timestamp, source=source)
    # Most fields are absent in most events: only present ones pay for validation.
    for name, maximum in _INT_FIELDS:
        value = raw.get(name)
        if value is not None:
            setattr(event, name, _int(value, f"{path}.{name}", maximum))
    for name in ("obj_name", "obj_val"):
        value = raw.get(name)
        if value is not None:
            setattr(event, name, _text(value, f"{path}.{name}"))
    payload = raw.get("payload")
    if payload is not None:
        event.payload = _payload(payload, f"{path}.payload")
    return event


def parse_batch(body: bytes, *, max_events: int) -> ClientBatch:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationError({"body": [f"Malformed JSON: {exc}"]}) from None
    if not isinstance(data, dict):
        raise ValidationError({"body": ["Expected a JSON object with 'events' and 'timestamp'."]})
    events = data.get("events")
    if not isinstance(events, list):
        raise invalid("events", "Expected a list of events.")
    if len(events) > max_events:
        raise invalid("events", f"Too many events: {len(events)}; at most {max_events} per request.")
    if "timestamp" not in data:
        raise invalid("timestamp", "This field is required (the client's send time).")
    sent_at = parse_time(data["timestamp"], "timestamp")
    previous = data.get("previous_event")
    return ClientBatch(
        events=[parse_event(raw, f"events[{i}]") for i, raw in enumerate(events)],
        previous_event=None if previous is None else parse_event(previous, "previous_event"),
        sent_at=sent_at,
        received=[events, previous],
    )
