"""Client events in: clock correction, identity from the request, id checks, working time, store.

The order matters and is documented in docs/working-time.md: the clock correction comes first,
working time is computed on corrected times, and everything a request produces (its client events
and its `send:working_time` events) is spooled in one write before the response.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ValidationError

from events.client_batch import ClientBatch, ClientEvent, event_path, invalid
from events.context import current_scope
from events.emit import attach_request, recording
from events.record import EventRecord, new_event_ids
from events.time_window import EventWindow, check_send_time
from events.working_time import USER_ACTIVITY_SCOPE, WORKING_TIME_SCOPE, TimedEvent, compute_working_time
from shipping.service import get_spool
from shipping.spool import KeyRecord

# Deterministic event ids for idempotent batches are uuid5 names under this namespace.
EVENT_ID_NAMESPACE = uuid.UUID("5b0c8a52-61a3-4a51-9d3e-8f5d1f7e0a11")


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    user_name: str
    user_email: str | None
    org_id: int | None
    org_slug: str | None
    access_token_id: int | None = None
    remote_addr: str | None = None


@dataclass(slots=True)
class IngestResult:
    events: list[dict[str, Any]]
    working_time: list[dict[str, Any]]
    previous_event: dict[str, Any] | None = None
    # The batch's send time as the client gave it (CVAT echoes it).
    timestamp: str | None = None
    replayed: bool = False

    def response(self) -> dict[str, Any]:
        """CVAT's ClientEvents answer plus the working time; also what an Idempotency-Key keeps."""
        return {
            "events": self.events,
            "timestamp": self.timestamp,
            "previous_event": self.previous_event,
            "working_time": self.working_time,
        }


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def correct_clock(batch: ClientBatch, received_at: datetime) -> None:
    """Shift every time by receive_time - client send time (network latency included, as CVAT),
    then refuse any time outside the accepted window (events.time_window)."""
    check_send_time(batch.sent_at, received_at)
    shift: timedelta = received_at - batch.sent_at
    window = EventWindow.around(received_at)
    for index, event in enumerate(batch.events):
        event.timestamp = window.place(event.timestamp, shift, index)
    if batch.previous_event is not None:
        batch.previous_event.timestamp = window.place(batch.previous_event.timestamp, shift, -1)


def _visible(
    kind: str, ids: set[int], user: Any, organization: Any, member_verified: bool
) -> dict[int, dict[str, Any]]:
    """{id: {parent}_id of each parent} of the visible rows among `ids`. The same visibility as the
    domain API (annotation.scoping): what a user cannot open there, they cannot write analytics for."""
    from annotation.models import Job, Project, Task
    from annotation.scoping import visible_rows

    model = {"job": Job, "task": Task, "project": Project}[kind]
    parents = [f"{parent}_id" for parent in _PARENTS[kind]]
    rows = visible_rows(user, model, organization, member_verified=member_verified)
    found = rows.filter(pk__in=ids).order_by().values_list("pk", *parents)
    return {pk: dict(zip(parents, values, strict=True)) for pk, *values in found}


def check_and_complete_ids(
    batch: ClientBatch, user: Any, organization: Any, *, member_verified: bool = False
) -> None:
    """Referenced jobs/tasks/projects must exist and be visible in the current organization.

    The most specific id of an event is checked; its parents are filled in from it (a job implies
    its task and project) and, when the client sent them too, must agree with it.
    """
    located = list(enumerate(batch.events))
    if batch.previous_event is not None:
        located.append((-1, batch.previous_event))
    wanted: dict[str, set[int]] = {kind: set() for kind in _PARENTS}
    for _, event in located:
        kind, value = _most_specific(event)
        if kind is not None:
            wanted[kind].add(value)
    known = {
        kind: _visible(kind, ids, user, organization, member_verified) if ids else {}
        for kind, ids in wanted.items()
    }
    where = "in this organization" if organization is not None else "to you"
    for index, event in located:
        kind, value = _most_specific(event)
        if kind is None:
            continue
        ids = known[kind].get(value)
        if ids is None:
            raise invalid(
                f"{event_path(index)}.{kind}_id",
                f"{kind.capitalize()} {value} does not exist or is not visible {where}.",
            )
        for parent in _PARENTS[kind]:
            expected, given = ids.get(f"{parent}_id"), getattr(event, f"{parent}_id")
            if given is None:
                setattr(event, f"{parent}_id", expected)
            elif given != expected:
                raise invalid(
                    f"{event_path(index)}.{parent}_id",
                    f"{kind.capitalize()} {value} belongs to {parent} {expected}, not {given}.",
                )


_PARENTS = {"job": ("task", "project"), "task": ("project",), "project": ()}


def _most_specific(event: ClientEvent) -> tuple[str | None, int | None]:
    """(kind, id) of the most specific id an event names (runs for every event: no getattr)."""
    if event.job_id is not None:
        return "job", event.job_id
    if event.task_id is not None:
        return "task", event.task_id
    if event.project_id is not None:
        return "project", event.project_id
    return None, None


def working_time_records(batch: ClientBatch, actor: Actor) -> list[EventRecord]:
    threshold_ms = round(settings.WORKING_TIME_IDLE_THRESHOLD_SECONDS * 1000)

    def timed(e: ClientEvent) -> TimedEvent:
        return TimedEvent(e.scope, epoch_ms(e.timestamp), e.duration, e.job_id, e.task_id, e.project_id)

    groups = compute_working_time(
        [timed(e) for e in batch.events],
        None if batch.previous_event is None else timed(batch.previous_event),
        idle_threshold_ms=threshold_ms,
    )
    return [
        EventRecord(
            scope=WORKING_TIME_SCOPE,
            timestamp=datetime.fromtimestamp(g.timestamp_ms / 1000, UTC),
            source="server",
            count=1,
            duration=g.working_time_ms,
            job_id=g.job_id,
            task_id=g.task_id,
            project_id=g.project_id,
            payload={"working_time": g.working_time_ms},
            **_actor_fields(actor),
        )
        for g in groups
    ]


def _actor_fields(actor: Actor) -> dict[str, Any]:
    return {
        "user_id": actor.user_id,
        "user_name": actor.user_name,
        "user_email": actor.user_email,
        "org_id": actor.org_id,
        "org_slug": actor.org_slug,
    }


def client_records(batch: ClientBatch, actor: Actor) -> list[EventRecord]:
    """Stored client events: user:activity only keeps the working-time cursor going. The client's
    payload is kept as sent (no request stamp), but the token and address are the request's."""
    request = {"access_token_id": actor.access_token_id, "remote_addr": actor.remote_addr}
    stored = [e for e in batch.events if e.scope != USER_ACTIVITY_SCOPE]
    return [
        EventRecord(
            scope=e.scope,
            timestamp=e.timestamp,
            source=e.source,
            obj_name=e.obj_name,
            obj_id=e.obj_id,
            obj_val=e.obj_val,
            count=e.count,
            duration=e.duration,
            project_id=e.project_id,
            task_id=e.task_id,
            job_id=e.job_id,
            payload=e.payload,
            **_actor_fields(actor),
            **request,
            event_id=event_id,
        )
        for e, event_id in zip(stored, new_event_ids(len(stored)), strict=True)
    ]


def _payload_text(payload: Any) -> str | None:
    # CVAT answers each event's payload as a JSON string (its SDK's Event.payload is a str).
    if payload is None or isinstance(payload, str):
        return payload
    return orjson.dumps(payload).decode()


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def describe_previous(event: ClientEvent | None) -> dict[str, Any] | None:
    """The batch's `previous_event` as answered: clock-corrected, in CVAT's event shape."""
    if event is None:
        return None
    return {
        "scope": event.scope,
        "obj_name": event.obj_name,
        "obj_id": event.obj_id,
        "obj_val": event.obj_val,
        "source": event.source,
        "timestamp": _iso(event.timestamp),
        "count": event.count,
        "duration": event.duration,
        "project_id": event.project_id,
        "task_id": event.task_id,
        "job_id": event.job_id,
        "payload": _payload_text(event.payload),
    }


def describe_record(record: EventRecord) -> dict[str, Any]:
    return {
        "scope": record.scope,
        "obj_name": record.obj_name,
        "obj_id": record.obj_id,
        "obj_val": record.obj_val,
        "source": record.source,
        "timestamp": _iso(record.timestamp),
        "count": record.count,
        "duration": record.duration,
        "project_id": record.project_id,
        "task_id": record.task_id,
        "job_id": record.job_id,
        "user_id": record.user_id,
        "user_name": record.user_name,
        "user_email": record.user_email,
        "org_id": record.org_id,
        "org_slug": record.org_slug,
        "payload": _payload_text(record.payload),
    }


def ingest(
    batch: ClientBatch,
    *,
    user: Any,
    organization: Any,
    received_at: datetime,
    idempotency_key: str | None,
    member_verified: bool = False,
) -> IngestResult:
    """Store one batch. With an Idempotency-Key, a retried batch returns the first answer and
    stores nothing: its events and working time were already counted. `member_verified`: this
    request already found the user's membership of `organization` (OrganizationContext), so the
    id checks need not look it up again."""
    if idempotency_key is not None:
        previous = get_spool().key_record(user.pk, idempotency_key)
        if previous is not None:
            return replay(previous, batch)

    correct_clock(batch, received_at)
    org_id = getattr(organization, "pk", None)
    check_and_complete_ids(batch, user, organization, member_verified=member_verified)
    scope = current_scope()
    actor = Actor(
        user_id=user.pk,
        user_name=user.get_username(),
        user_email=user.email or None,
        org_id=org_id,
        org_slug=getattr(organization, "slug", None),
        access_token_id=scope.access_token_id if scope else None,
        remote_addr=scope.remote_addr if scope else None,
    )
    events = client_records(batch, actor)
    working = working_time_records(batch, actor)
    records = events + working
    if idempotency_key is not None:
        for index, record in enumerate(records):
            record.event_id = str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{user.pk}:{idempotency_key}:{index}"))
    result = IngestResult(
        events=[describe_record(r) for r in events],
        working_time=[describe_record(r) for r in working],
        previous_event=describe_previous(batch.previous_event),
        timestamp=_iso(batch.sent_at),
    )
    if not recording():
        return result  # validated and answered as usual, stored nowhere
    rows = [r.to_row() for r in events]  # token and address were set by client_records
    rows += [attach_request(r).to_row() for r in working]
    key = None
    if idempotency_key is not None:
        key = KeyRecord(user.pk, idempotency_key, batch.fingerprint, result.response())
    # One spool transaction holds the rows and the key's record: a crash at any instant leaves
    # both (the retry is a replay) or neither (the retry is stored afresh).
    existing = get_spool().append(rows, key)
    if existing is not None:
        # A concurrent request with the same key won the race: it stored the batch.
        return replay(existing, batch)
    return result


def replay(previous: KeyRecord, batch: ClientBatch) -> IngestResult:
    if previous.fingerprint != batch.fingerprint:
        raise ValidationError(
            {"Idempotency-Key": ["This key was already used with a different request body."]}
        )
    answer = previous.response
    # Records written before payloads were answered as strings hold them as objects.
    return IngestResult(
        events=[{**e, "payload": _payload_text(e.get("payload"))} for e in answer["events"]],
        working_time=[{**e, "payload": _payload_text(e.get("payload"))} for e in answer["working_time"]],
        previous_event=answer.get("previous_event"),
        timestamp=answer.get("timestamp") or _iso(batch.sent_at),
        replayed=True,
    )
