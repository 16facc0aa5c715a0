"""The annotations of a job, as CVAT's `/api/jobs/{id}/annotations`: `{"version", "tags", "shapes",
"tracks"}`. Validation is hand-written (bodies can hold many thousands of shapes) and names every
bad field by its path, e.g. `{"shapes[2].label_id": ["..."]}`.

Every successful change is reported to `events.server_events.annotations_changed`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import F, Model, Q
from rest_framework.exceptions import ValidationError

from annotation.models import (
    AnnotationSource,
    Job,
    Label,
    LabeledShape,
    LabeledTag,
    LabeledTrack,
    ShapeType,
)
from events import clock

KINDS: dict[str, type[Model]] = {"tags": LabeledTag, "shapes": LabeledShape, "tracks": LabeledTrack}
ACTIONS = ("create", "update", "delete")
SHAPE_TYPES = frozenset(ShapeType.values)
SOURCES = frozenset(AnnotationSource.values)
# How many coordinates a shape of each type has: an exact count, or (minimum, must be even).
POINT_COUNTS: dict[str, int | tuple[int, bool]] = {
    "rectangle": 4,
    "ellipse": 4,
    "cuboid": 16,
    "polygon": (6, True),
    "polyline": (4, True),
    "points": (2, True),
    "mask": (4, False),
    "skeleton": (0, False),
}
MAX_ATTRIBUTE_VALUE = 4096
INVALID: Any = object()  # what a checker returns after recording an error
INT32_MAX = 2**31 - 1  # frames, groups, z-orders and spec ids fit a 32-bit integer column
ID_MAX = 2**63 - 1


class Errors:
    """Collects `{path: [message]}` and raises them all at once as a 400."""

    def __init__(self) -> None:
        self.items: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.items.setdefault(path, []).append(message)

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationError(self.items)


# --- field checks: each returns the cleaned value, or records an error and returns INVALID ----------


def _int(
    errors: Errors,
    path: str,
    value: Any,
    *,
    minimum: int = 0,
    maximum: int = INT32_MAX,
    nullable: bool = False,
) -> Any:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(path, "A valid integer is required.")
        return INVALID
    if not minimum <= value <= maximum:
        errors.add(path, f"Must be between {minimum} and {maximum}.")
        return INVALID
    return value


def _float(errors: Errors, path: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.add(path, "A finite number is required.")
        return INVALID
    return float(value)


def _bool(errors: Errors, path: str, value: Any) -> Any:
    if not isinstance(value, bool):
        errors.add(path, "Must be true or false.")
        return INVALID
    return value


def _choice(errors: Errors, path: str, value: Any, choices: frozenset[str]) -> Any:
    if value not in choices:
        errors.add(path, f"{value!r} is not one of: {', '.join(sorted(choices))}.")
        return INVALID
    return value


def _points(errors: Errors, path: str, value: Any) -> Any:
    if not isinstance(value, list):
        errors.add(path, "Expected a list of numbers.")
        return INVALID
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            errors.add(f"{path}[{index}]", "A finite number is required.")
            return INVALID
    return [float(item) for item in value]


def _attributes(errors: Errors, path: str, value: Any) -> Any:
    if not isinstance(value, list):
        errors.add(path, 'Expected a list of {"spec_id": int, "value": str}.')
        return INVALID
    cleaned = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            errors.add(item_path, 'Expected {"spec_id": int, "value": str}.')
            continue
        spec_id = _int(errors, f"{item_path}.spec_id", item.get("spec_id"))
        text = _attribute_text(item.get("value"))
        if text is None:
            errors.add(
                f"{item_path}.value", f"Expected a string of at most {MAX_ATTRIBUTE_VALUE} characters."
            )
            continue
        cleaned.append({"spec_id": spec_id, "value": text})
    return cleaned


def _attribute_text(raw: Any) -> str | None:
    """Attribute values are text, as in CVAT; booleans and numbers are accepted and converted."""
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, str):
        text = raw
    elif isinstance(raw, int | float) and math.isfinite(raw):
        text = str(raw)
    else:
        return None
    return text if len(text) <= MAX_ATTRIBUTE_VALUE else None


def _check_point_count(errors: Errors, path: str, shape_type: Any, points: Any) -> None:
    if shape_type is None or shape_type is INVALID or points is None or points is INVALID:
        return
    rule = POINT_COUNTS[shape_type]
    if isinstance(rule, int):
        if len(points) != rule:
            errors.add(path, f"A {shape_type} has exactly {rule} coordinates, got {len(points)}.")
        return
    minimum, even = rule
    if len(points) < minimum or (even and len(points) % 2):
        parity = " (an even count)" if even else ""
        errors.add(path, f"A {shape_type} needs at least {minimum} coordinates{parity}, got {len(points)}.")


# Fields of each kind: name -> (checker, default). Defaults apply to new objects only.
Checker = Callable[[Errors, str, Any], Any]
COMMON_FIELDS: dict[str, tuple[Checker, Any]] = {
    "frame": (_int, ...),
    "label_id": (lambda e, p, v: _int(e, p, v, maximum=ID_MAX), ...),
    "group": (lambda e, p, v: _int(e, p, v, nullable=True), 0),
    "source": (lambda e, p, v: _choice(e, p, v, SOURCES), AnnotationSource.MANUAL.value),
    "attributes": (_attributes, []),
}
SHAPE_FIELDS: dict[str, tuple[Checker, Any]] = {
    "type": (lambda e, p, v: _choice(e, p, v, SHAPE_TYPES), ...),
    "points": (_points, ...),
    "occluded": (_bool, False),
    "outside": (_bool, False),
    "z_order": (lambda e, p, v: _int(e, p, v, minimum=-INT32_MAX), 0),
    "rotation": (_float, 0.0),
}
TRACKED_SHAPE_FIELDS: dict[str, tuple[Checker, Any]] = {
    **SHAPE_FIELDS,
    "frame": (_int, ...),
    "attributes": (_attributes, []),
}
FIELDS: dict[str, dict[str, tuple[Checker, Any]]] = {
    "tags": COMMON_FIELDS,
    "shapes": {**COMMON_FIELDS, **SHAPE_FIELDS},
    "tracks": {**COMMON_FIELDS, "shapes": (None, ...)},  # track shapes are checked by _tracked_shapes
}


def _clean_fields(
    errors: Errors, path: str, item: dict[str, Any], fields: dict[str, tuple[Checker, Any]], *, partial: bool
) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for name, (checker, default) in fields.items():
        if name not in item:
            if partial:
                continue
            if default is ...:
                errors.add(f"{path}.{name}", "This field is required.")
                continue
            cleaned[name] = list(default) if isinstance(default, list) else default
            continue
        if checker is None:
            continue
        value = checker(errors, f"{path}.{name}", item[name])
        if value is not INVALID:
            cleaned[name] = value
    return cleaned


def _tracked_shapes(errors: Errors, path: str, value: Any) -> Any:
    if not isinstance(value, list) or not value:
        errors.add(path, "A track needs a non-empty list of shapes.")
        return INVALID
    cleaned = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            errors.add(item_path, "Expected an object.")
            continue
        shape = _clean_fields(errors, item_path, item, TRACKED_SHAPE_FIELDS, partial=False)
        _check_point_count(errors, f"{item_path}.points", shape.get("type"), shape.get("points"))
        cleaned.append(shape)
    return cleaned


def clean_item(errors: Errors, kind: str, path: str, item: Any, *, partial: bool) -> dict[str, Any]:
    if not isinstance(item, dict):
        errors.add(path, "Expected an object.")
        return {}
    cleaned = _clean_fields(errors, path, item, FIELDS[kind], partial=partial)
    if kind == "shapes" and not partial:
        _check_point_count(errors, f"{path}.points", cleaned.get("type"), cleaned.get("points"))
    if kind == "tracks" and "shapes" in item:
        shapes = _tracked_shapes(errors, f"{path}.shapes", item["shapes"])
        if shapes is not INVALID:
            cleaned["shapes"] = shapes
    return cleaned


# --- the annotations of one job ---------------------------------------------------------------------


def serialize(obj: Model, kind: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": obj.pk,
        "frame": obj.frame,
        "label_id": obj.label_id,
        "group": obj.group,
        "source": obj.source,
        "attributes": obj.attributes,
    }
    if kind == "shapes":
        data.update(
            type=obj.type,
            points=obj.points,
            occluded=obj.occluded,
            outside=obj.outside,
            z_order=obj.z_order,
            rotation=obj.rotation,
        )
    elif kind == "tracks":
        data["shapes"] = obj.shapes
    return data


class JobAnnotations:
    def __init__(self, job: Job) -> None:
        self.job = job

    # reading

    def objects(self, kind: str) -> Any:
        return KINDS[kind].objects.filter(job=self.job).order_by("id")

    def data(self) -> dict[str, Any]:
        version = (
            Job.objects.filter(pk=self.job.pk).values_list("annotations_version", flat=True).first() or 0
        )
        result: dict[str, Any] = {"version": version}
        for kind in KINDS:
            result[kind] = [serialize(obj, kind) for obj in self.objects(kind)]
        return result

    # parsing

    def label_ids(self) -> set[int]:
        where = (
            Q(project_id=self.job.project_id)
            if self.job.project_id is not None
            else Q(task_id=self.job.task_id)
        )
        return set(Label.objects.filter(where).values_list("id", flat=True))

    def parse(self, body: Any, action: str) -> dict[str, list[dict[str, Any]]]:
        """Clean `body` for `action` ("put", "create", "update", "delete"); 400 on any error."""
        errors = Errors()
        if not isinstance(body, dict):
            raise ValidationError({"non_field_errors": ['Expected {"version", "tags", "shapes", "tracks"}.']})
        if "version" in body:
            _int(errors, "version", body["version"])
        parsed: dict[str, list[dict[str, Any]]] = {}
        allowed_labels = self.label_ids() if action != "delete" else set()
        for kind in KINDS:
            items = body.get(kind, [])
            if not isinstance(items, list):
                errors.add(kind, "Expected a list.")
                continue
            cleaned_items = []
            for index, item in enumerate(items):
                path = f"{kind}[{index}]"
                if action in ("update", "delete"):
                    pk = _int(
                        errors, f"{path}.id", item.get("id") if isinstance(item, dict) else None, minimum=1
                    )
                    if action == "delete":
                        cleaned_items.append({"id": pk})
                        continue
                else:
                    pk = INVALID
                cleaned = clean_item(errors, kind, path, item, partial=action == "update")
                label_id = cleaned.get("label_id")
                if label_id is not None and label_id not in allowed_labels:
                    errors.add(
                        f"{path}.label_id", f"Label {label_id} is not a label of this job's task or project."
                    )
                if pk is not INVALID:
                    cleaned["id"] = pk
                cleaned_items.append(cleaned)
            parsed[kind] = cleaned_items
        errors.raise_if_any()
        return parsed

    def existing(self, parsed: dict[str, list[dict[str, Any]]]) -> dict[str, dict[int, Model]]:
        """The objects of this job that `parsed` refers to by id; 400 naming unknown ids."""
        errors = Errors()
        found: dict[str, dict[int, Model]] = {}
        for kind, items in parsed.items():
            ids = [item["id"] for item in items]
            found[kind] = {obj.pk: obj for obj in self.objects(kind).filter(pk__in=ids)}
            seen: set[int] = set()
            for index, pk in enumerate(ids):
                if pk not in found[kind]:
                    errors.add(f"{kind}[{index}].id", f"No {kind[:-1]} {pk} in this job.")
                elif pk in seen:
                    errors.add(f"{kind}[{index}].id", f"{kind[:-1].capitalize()} {pk} is given twice.")
                seen.add(pk)
        errors.raise_if_any()
        return found

    # changing

    @transaction.atomic
    def put(self, body: Any) -> dict[str, Any]:
        parsed = self.parse(body, "put")
        removed = self._delete_all()
        created = self._create(parsed)
        self._touch()
        self._report("delete", removed)
        self._report("create", created)
        return self.data()

    @transaction.atomic
    def patch(self, body: Any, action: str) -> dict[str, Any]:
        parsed = self.parse(body, action)
        if action == "create":
            changed = self._create(parsed)
        else:
            found = self.existing(parsed)
            changed = self._update(parsed, found) if action == "update" else self._delete(found)
        self._touch()
        self._report(action, changed)
        result = {"version": self._version()}
        result.update({kind: [serialize(obj, kind) for obj in objs] for kind, objs in changed.items()})
        return result

    @transaction.atomic
    def delete_all(self) -> None:
        removed = self._delete_all()
        self._touch()
        self._report("delete", removed)

    def _create(self, parsed: dict[str, list[dict[str, Any]]]) -> dict[str, list[Model]]:
        created: dict[str, list[Model]] = {}
        for kind, items in parsed.items():
            model = KINDS[kind]
            objs = [model(job=self.job, **{k: v for k, v in item.items() if k != "id"}) for item in items]
            created[kind] = model.objects.bulk_create(objs) if objs else []
        return created

    def _update(
        self, parsed: dict[str, list[dict[str, Any]]], found: dict[str, dict[int, Model]]
    ) -> dict[str, list[Model]]:
        errors = Errors()
        updated: dict[str, list[Model]] = {}
        now = clock.now()
        for kind, items in parsed.items():
            for index, item in enumerate(items):
                obj = found[kind][item["id"]]
                for name, value in item.items():
                    if name != "id":
                        setattr(obj, name, value)
                if kind == "shapes":
                    _check_point_count(errors, f"shapes[{index}].points", obj.type, obj.points)
                obj.updated_date = now
            updated[kind] = [found[kind][item["id"]] for item in items]
        errors.raise_if_any()
        for kind, items in parsed.items():
            fields = [name for name in FIELDS[kind] if any(name in item for item in items)]
            if updated[kind]:
                KINDS[kind].objects.bulk_update(updated[kind], [*fields, "updated_date"])
        return updated

    def _delete(self, found: dict[str, dict[int, Model]]) -> dict[str, list[Model]]:
        removed: dict[str, list[Model]] = {}
        for kind, objs in found.items():
            if objs:
                KINDS[kind].objects.filter(job=self.job, pk__in=list(objs)).delete()
            removed[kind] = list(objs.values())
        return removed

    def _delete_all(self) -> dict[str, list[Model]]:
        removed: dict[str, list[Model]] = {}
        for kind in KINDS:
            removed[kind] = list(self.objects(kind))
            if removed[kind]:
                self.objects(kind).delete()
        return removed

    def _touch(self) -> None:
        # A queryset update: no model signals, so an annotation save is not an "update:job".
        Job.objects.filter(pk=self.job.pk).update(
            annotations_version=F("annotations_version") + 1, updated_date=clock.now()
        )

    def _version(self) -> int:
        return Job.objects.filter(pk=self.job.pk).values_list("annotations_version", flat=True).first() or 0

    def _report(self, action: str, changed: dict[str, list[Model]]) -> None:
        if not any(changed.values()):
            return
        from events.server_events import annotations_changed

        annotations_changed(
            self.job,
            action,
            tags=changed.get("tags", []),
            shapes=changed.get("shapes", []),
            tracks=changed.get("tracks", []),
        )
