"""Who may read which analytics: request parameters -> a checked `Scope`.

Built only on `accounts.visibility` (the one place that knows memberships):

- KPI and metric values: a user sees the organizations they belong to (any role), a superuser
  everything (rows without an organization included). An `org_id` filter naming an organization
  the caller is not a member of is 403, never an empty answer. Within them, what the caller sees of
  other people is `accounts.privacy`'s rule: a worker or supervisor of any organization in scope
  sees only their own rows, and filtering on another user's id (`user_id=`) is 403.
- Per-user summary and raw events of user U: U themself (all their data), a superuser (all), an
  owner or maintainer of an organization U belongs to (only those organizations' data); anybody
  else 403. An unknown user is 404 for superusers and 403 for everybody else (no probing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from accounts.models import Membership
from accounts.privacy import OTHERS_REFUSED, others_visible_in, own_rows_user
from accounts.visibility import is_superuser, visible_org_ids
from analytics.errors import AnalyticsError, forbidden, not_found
from analytics.selectors import Scope
from config.fields import MAX_DB_ID, ascii_int

MAX_IDS_PER_FILTER = 1000


def id_list(params: Any, name: str) -> tuple[int, ...]:
    """A repeatable id filter (`?job_id=1&job_id=2`); 400 naming it when an id is malformed."""
    raw_values = [value for value in params.getlist(name) if value != ""]
    if len(raw_values) > MAX_IDS_PER_FILTER:
        raise AnalyticsError(f"At most {MAX_IDS_PER_FILTER} values of {name} per request.", field=name)
    ids = []
    for raw in raw_values:
        value = ascii_int(raw, maximum=2**64 - 1)
        if not value:
            raise AnalyticsError(f"{name} must be a positive integer id, got {raw!r}.", field=name)
        ids.append(value)
    return tuple(sorted(set(ids)))


def requested_org_ids(request: Any) -> tuple[int, ...]:
    """`org_id` filters, combined with the X-Organization / ?org= context when there is one."""
    org_ids = id_list(request.query_params, "org_id")
    context = getattr(request, "organization", None)
    if context is None:
        return org_ids
    if org_ids and org_ids != (context.pk,):
        raise AnalyticsError(
            f"org_id disagrees with the organization context ({context.slug!r}).", field="org_id"
        )
    return (context.pk,)


def _check_orgs_allowed(requested: tuple[int, ...], allowed: set[int] | None) -> None:
    if allowed is None:
        return
    outside = [org for org in requested if org not in allowed]
    if outside:
        raise forbidden(f"You may not read analytics of organization {outside[0]}.", field="org_id")


def request_scope(request: Any) -> Scope:
    """The scope of a KPI/metric request: filters from the query string, checked against the caller."""
    user = request.user
    params = request.query_params
    requested = requested_org_ids(request)
    visible = visible_org_ids(user)
    _check_orgs_allowed(requested, visible)
    if requested:
        org_ids: tuple[int, ...] | None = requested
    else:
        org_ids = None if visible is None else tuple(sorted(visible))
    user_ids = id_list(params, "user_id")
    own_user = own_rows_user(user, org_ids)
    if own_user is not None:
        if set(user_ids) - {own_user}:
            raise forbidden(OTHERS_REFUSED, field="user_id")
        user_ids = (own_user,)
    return Scope(
        org_ids=org_ids,
        project_ids=id_list(params, "project_id"),
        task_ids=id_list(params, "task_id"),
        job_ids=id_list(params, "job_id"),
        user_ids=user_ids,
    )


@dataclass(frozen=True)
class UserAccess:
    user_id: int
    # None: all of the user's data; otherwise only these organizations' rows.
    org_ids: tuple[int, ...] | None


def resolve_user(request: Any, raw: str) -> int:
    if raw == "me":
        return request.user.pk
    # User ids are 64-bit signed in the database: a larger one is malformed, not unknown.
    value = ascii_int(raw, maximum=MAX_DB_ID)
    if not value:
        raise AnalyticsError(f"The user must be a positive integer id or 'me', got {raw!r}.", field="user")
    return value


def user_access(request: Any, raw_user: str) -> UserAccess:
    """What the caller may read about one user (summary and raw events), narrowed by `org_id`."""
    caller = request.user
    target = resolve_user(request, raw_user)
    requested = requested_org_ids(request)
    if is_superuser(caller):
        if not get_user_model().objects.filter(pk=target).exists():
            raise not_found(f"User {target} does not exist.", field="user")
        return UserAccess(target, requested or None)
    if target == caller.pk:
        _check_orgs_allowed(requested, visible_org_ids(caller))
        return UserAccess(target, requested or None)
    target_orgs = Membership.objects.filter(user_id=target).values_list("organization_id", flat=True)
    shared = others_visible_in(caller, target_orgs) or set()
    if not shared:
        raise forbidden(OTHERS_REFUSED)
    _check_orgs_allowed(requested, shared)
    return UserAccess(target, requested or tuple(sorted(shared)))
