"""Model signals -> server events, for the resources CVAT records.

Receivers are connected per model (not globally) so that untracked models, such as annotation
shapes, keep Django's fast cascade delete. Deletes are built in pre_delete, while every object of a
cascade still exists and its parents' ids can be read; they are emitted on commit like the rest.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_delete, pre_save

from events import server_events

TRACKED_MODELS = (
    "accounts.Organization",
    "accounts.Membership",
    "annotation.Project",
    "annotation.Task",
    "annotation.Job",
    "annotation.Label",
    "annotation.Issue",
    "annotation.Comment",
)

_OLD = "_analytics_old_snapshot"


def remember_old(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance._state.adding or instance.pk is None:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and set(update_fields) <= {"updated_date", "last_login"}:
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    if old is not None:
        setattr(instance, _OLD, server_events.snapshot(old))


def saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    if created:
        server_events.object_created(instance)
        return
    old = instance.__dict__.pop(_OLD, None)
    if old is not None:
        server_events.object_updated(instance, old)


def deleting(sender: Any, instance: Any, **kwargs: Any) -> None:
    server_events.object_deleted(instance)


def connect() -> None:
    models = [apps.get_model(label) for label in TRACKED_MODELS]
    models.append(get_user_model())
    for model in models:
        uid = f"analytics-{model._meta.label_lower}"
        pre_save.connect(remember_old, sender=model, dispatch_uid=f"{uid}-pre-save")
        post_save.connect(saved, sender=model, dispatch_uid=f"{uid}-post-save")
        pre_delete.connect(deleting, sender=model, dispatch_uid=f"{uid}-pre-delete")
