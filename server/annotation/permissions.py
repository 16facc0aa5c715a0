"""Who may do what with the annotation domain, once an object is visible at all.

Visibility comes first (`accounts.visibility`): members see their organizations' objects, an
object without an organization is reachable only by its owner, superusers reach everything;
anything else answers 404. Then, inside an organization, by role:

| resource      | read    | create        | update          | delete          |
|---------------|---------|---------------|-----------------|-----------------|
| project, task | members | owner, maint. | owner, maint.   | owner, maint.   |
| label         | members | owner, maint. | owner, maint.   | owner, maint.   |
| job           | members | owner, maint. | members         | owner, maint.   |
| issue         | members | members       | members         | author, admins  |
| comment       | members | members       | author          | author, admins  |
| annotations   | members | members       | members         | members         |

("members" = owner, maintainer, supervisor, worker; "admins" = owner, maintainer.) Without an
organization, whoever can see an object (its owner) may do everything with it. Superusers may do
everything everywhere.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions

from accounts.visibility import ADMIN_ROLES, ALL_ROLES, is_superuser, role_in

AUTHOR = "author"  # the user who created the object (its `owner`)
ADMINS = ADMIN_ROLES
MEMBERS = ALL_ROLES

RULES: dict[str, dict[str, frozenset[str]]] = {
    "project": {"view": MEMBERS, "create": ADMINS, "update": ADMINS, "delete": ADMINS},
    "task": {"view": MEMBERS, "create": ADMINS, "update": ADMINS, "delete": ADMINS},
    "label": {"view": MEMBERS, "create": ADMINS, "update": ADMINS, "delete": ADMINS},
    "job": {"view": MEMBERS, "create": ADMINS, "update": MEMBERS, "delete": ADMINS},
    "issue": {"view": MEMBERS, "create": MEMBERS, "update": MEMBERS, "delete": ADMINS | {AUTHOR}},
    "comment": {
        "view": MEMBERS,
        "create": MEMBERS,
        "update": frozenset({AUTHOR}),
        "delete": ADMINS | {AUTHOR},
    },
    "annotations": {"view": MEMBERS, "create": MEMBERS, "update": MEMBERS, "delete": MEMBERS},
}


def is_allowed(
    user: Any, resource: str, action: str, *, org_id: int | None, author_id: int | None = None
) -> bool:
    """May `user`, who can see the object (or its parent, for "create"), do `action` with it?"""
    if is_superuser(user):
        return True
    if org_id is None:
        return True  # only the owner reaches an object without an organization
    role = role_in(user, org_id)
    if role is None:
        return False
    allowed = RULES[resource][action]
    return role in allowed or (AUTHOR in allowed and author_id is not None and author_id == user.pk)


def check(user: Any, resource: str, action: str, *, org_id: int | None, author_id: int | None = None) -> None:
    if not is_allowed(user, resource, action, org_id=org_id, author_id=author_id):
        allowed = sorted(RULES[resource][action])
        raise exceptions.PermissionDenied(
            f"You may not {action} this {resource}: that needs one of: {', '.join(allowed)}."
        )
