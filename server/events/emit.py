"""Emitting events: fill in who and which request caused them, then hand them to the spool.

Server events are emitted only after the database transaction commits, so a rolled-back change
emits nothing. Outside a request (a management command) they go to the spool at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction

from events.clock import now
from events.context import current_scope
from events.record import EventRecord
from shipping.service import get_spool

__all__ = ["attach_request", "emit", "emit_many", "enqueue_rows", "now", "recording"]


def attach_request(record: EventRecord, *, stamp_payload: bool = True) -> EventRecord:
    """Stamp the actor and the request (id, user agent, token, address) onto a record.

    Server events carry `payload.request` (CVAT's request id); a client's own payload is left as
    the client sent it (stamp_payload=False).
    """
    scope = current_scope()
    if scope is None:
        return record
    user = scope.user
    if record.user_id is None and user is not None and getattr(user, "is_authenticated", False):
        record.user_id = user.pk
        record.user_name = user.get_username()
        record.user_email = user.email or None
    if record.access_token_id is None:
        record.access_token_id = scope.access_token_id
    if record.remote_addr is None:
        record.remote_addr = scope.remote_addr
    if not stamp_payload:
        return record
    payload: dict[str, Any] = dict(record.payload or {})
    request_info = dict(payload.get("request") or {})
    request_info.update({"id": scope.request_id, "user_agent": scope.user_agent})
    payload["request"] = request_info
    record.payload = payload
    return record


def emit(record: EventRecord, *, on_commit: bool = True) -> None:
    emit_many([record], on_commit=on_commit)


def emit_many(records: Iterable[EventRecord], *, on_commit: bool = True) -> None:
    rows = [attach_request(record).to_row() for record in records]
    if not rows:
        return
    if on_commit:
        transaction.on_commit(lambda: enqueue_rows(rows), robust=False)
    else:
        enqueue_rows(rows)


def recording() -> bool:
    """ANALYTICS_ENABLED=false stops recording new events; what is already spooled still ships."""
    return settings.ANALYTICS_ENABLED


def enqueue_rows(rows: list[bytes]) -> None:
    if not recording():
        return
    scope = current_scope()
    if scope is not None:
        scope.pending.extend(rows)
    else:
        get_spool().append(rows)
