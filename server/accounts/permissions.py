"""Who may do what with organizations, memberships, users and tokens.

- Organizations: any signed-in user creates one (and becomes its owner); members read it; the
  owner and maintainers update it; only the owner deletes it.
- Memberships: members read the memberships of their organizations; the owner and maintainers
  add, change and remove members; only the owner grants or takes away the maintainer role; the
  owner membership can be neither created, changed nor removed (an organization has one owner);
  any member except the owner may leave (delete their own membership).
- Users: a user reads themself and the members of organizations they share; only the user
  themself (or a superuser) changes their profile.
- Access tokens: a user sees and revokes only their own.

Superusers may do everything. Visibility (what is reachable at all) is `accounts.visibility`.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, permissions

from accounts.models import Membership, Organization, Role
from accounts.visibility import ADMIN_ROLES, is_superuser, role_in


class OrganizationContext(permissions.BasePermission):
    """Rejects a request whose organization context (set by OrganizationMiddleware) is unknown or
    not one of the user's organizations. List it after IsAuthenticated so anonymous callers get 401."""

    def has_permission(self, request: Any, view: Any) -> bool:
        check_organization_context(request)
        return True


def check_organization_context(request: Any) -> None:
    source = getattr(request, "organization_source", None)
    error = getattr(request, "organization_error", None)
    user = getattr(request, "user", None)
    # A non-member is told the same about an organization that exists and one that does not,
    # naming only what they gave (an id never answers with the slug): nothing about others leaks.
    not_a_member = exceptions.PermissionDenied(
        {source: [f"You are not a member of organization {getattr(request, 'organization_given', '')}."]}
    )
    if error is not None:
        kind, message = error
        if kind == "not_found":
            raise exceptions.NotFound({source: [message]}) if is_superuser(user) else not_a_member
        raise exceptions.ValidationError({source: [message]})
    organization = getattr(request, "organization", None)
    if organization is None or user is None or not user.is_authenticated:
        return
    if is_superuser(user):
        return
    if role_in(user, organization) is not None:
        # Remembered for this request only: scoping then needs no second membership lookup.
        getattr(request, "_request", request).organization_member_verified = True
        return
    # Not the user's organization: events of this request must not be attributed to it.
    getattr(request, "_request", request).organization = None
    raise not_a_member


# --- organizations ------------------------------------------------------------------------------


def can_update_organization(user: Any, org: Organization) -> bool:
    return is_superuser(user) or role_in(user, org) in ADMIN_ROLES


def can_delete_organization(user: Any, org: Organization) -> bool:
    return is_superuser(user) or role_in(user, org) == Role.OWNER


# --- memberships --------------------------------------------------------------------------------


def membership_error(
    user: Any, org: Organization, *, old_role: str | None, new_role: str | None
) -> str | None:
    """Why `user` may not change a membership of `org` from `old_role` to `new_role` (None = create,
    None new_role = delete); None when allowed."""
    if Role.OWNER in (old_role, new_role):
        return "An organization has exactly one owner: that membership cannot be created, changed or removed."
    if is_superuser(user):
        return None
    actor_role = role_in(user, org)
    if actor_role not in ADMIN_ROLES:
        return "Only the owner and maintainers manage memberships."
    if Role.MAINTAINER in (old_role, new_role) and actor_role != Role.OWNER:
        return "Only the owner grants or takes away the maintainer role."
    return None


def can_leave(user: Any, membership: Membership) -> bool:
    return membership.user_id == user.pk and membership.role != Role.OWNER


# --- users and tokens ---------------------------------------------------------------------------


def can_update_user(user: Any, target: Any) -> bool:
    return is_superuser(user) or user.pk == target.pk
