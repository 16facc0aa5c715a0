"""Server events as CVAT records them: create/update/delete of domain objects, annotation saves.

Each builder resolves the org/project/task/job ids and names from the instance; the actor and the
request id are stamped on by `emit`. Everything here is emitted on commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from django.contrib.auth import get_user_model
from django.db import models

from events.emit import emit, emit_many, now
from events.record import EventRecord

# Fields whose changes are bookkeeping, not user-visible changes.
IGNORED_FIELDS = frozenset({"id", "created_date", "updated_date", "password", "last_login", "date_joined"})
_IDS = ("org_id", "org_slug", "project_id", "task_id", "job_id")


def resource_name(instance: models.Model) -> str:
    return instance._meta.model_name or type(instance).__name__.lower()


def analytics_ids(instance: models.Model) -> dict[str, Any]:
    if isinstance(instance, get_user_model()):
        return dict.fromkeys(_IDS)
    ids = instance.analytics_ids()  # type: ignore[attr-defined]
    return {key: ids.get(key) for key in _IDS}


def analytics_name(instance: models.Model) -> str | None:
    if isinstance(instance, get_user_model()):
        return instance.get_username()
    return instance.analytics_name()  # type: ignore[attr-defined]


def as_text(value: Any) -> str | None:
    """obj_val is text: strings as they are, everything else as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(as_json(value)).decode()


def as_json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def tracked_fields(instance: models.Model) -> list[models.Field]:
    return [f for f in instance._meta.concrete_fields if f.name not in IGNORED_FIELDS]


def snapshot(instance: models.Model) -> dict[str, Any]:
    """Field values keyed by attname (foreign keys as ids), for diffing and payloads."""
    return {f.attname: getattr(instance, f.attname) for f in tracked_fields(instance)}


def _record(instance: models.Model, scope: str, **fields: Any) -> EventRecord:
    return EventRecord(scope=scope, timestamp=now(), source="server", **analytics_ids(instance), **fields)


def object_created(instance: models.Model) -> None:
    payload = {
        attname: as_json(value)
        for attname, value in snapshot(instance).items()
        if attname not in ("name", "username", "message", "slug")
    }
    emit(
        _record(
            instance,
            f"create:{resource_name(instance)}",
            obj_id=instance.pk,
            obj_name=analytics_name(instance),
            payload=payload,
        )
    )


def object_updated(instance: models.Model, old: dict[str, Any]) -> None:
    """One `update:` event per changed field: obj_name = field, obj_val = new value."""
    new = snapshot(instance)
    records = []
    for field in tracked_fields(instance):
        before, after = old.get(field.attname), new.get(field.attname)
        if before == after:
            continue
        is_relation = field.is_relation
        records.append(
            _record(
                instance,
                f"update:{resource_name(instance)}",
                obj_name=field.name,
                obj_id=after if is_relation else instance.pk,
                obj_val=as_text(after),
                payload={"old_value": as_json(before)},
            )
        )
    emit_many(records)


def object_deleted(instance: models.Model) -> None:
    emit(
        _record(
            instance,
            f"delete:{resource_name(instance)}",
            obj_id=instance.pk,
            obj_name=analytics_name(instance),
        )
    )


def annotations_changed(
    job: models.Model,
    action: str,
    *,
    tags: Sequence[Any] = (),
    shapes: Sequence[Any] = (),
    tracks: Sequence[Any] = (),
) -> None:
    """`<action>:tags`, one `<action>:shapes` per shape type and one `<action>:tracks` per track
    shape type, each with `count` = how many, as CVAT emits them."""
    if action not in ("create", "update", "delete"):
        raise ValueError(f"unknown annotation action {action!r}")
    ids = analytics_ids(job)
    records: list[EventRecord] = []
    if tags:
        records.append(
            EventRecord(
                scope=f"{action}:tags",
                timestamp=now(),
                count=len(tags),
                payload={"tags": [{"id": tag.id} for tag in tags]},
                **ids,
            )
        )
    for shape_type, group in _by_type(shapes, lambda s: s.type).items():
        records.append(
            EventRecord(
                scope=f"{action}:shapes",
                timestamp=now(),
                obj_name=shape_type,
                count=len(group),
                payload={"shapes": [{"id": shape.id} for shape in group]},
                **ids,
            )
        )
    for shape_type, group in _by_type(tracks, _track_type).items():
        records.append(
            EventRecord(
                scope=f"{action}:tracks",
                timestamp=now(),
                obj_name=shape_type,
                count=len(group),
                payload={"tracks": [{"id": track.id, "shapes": len(track.shapes or [])} for track in group]},
                **ids,
            )
        )
    emit_many(records)


def _track_type(track: Any) -> str:
    shapes = track.shapes or []
    return shapes[0].get("type", "unknown") if shapes else "unknown"


def _by_type(items: Iterable[Any], key: Any) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        grouped[key(item)].append(item)
    return dict(grouped)
