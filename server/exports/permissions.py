"""Who may export which events: CVAT's `EventsPermission.filter` (rules/events.rego), expressed with
the rule every analytics surface applies (`accounts.privacy`).

The permission does not refuse an export; it forces filters onto it:

| who                                           | forced filters            |
|-----------------------------------------------|---------------------------|
| superuser, no organization context            | none                      |
| superuser, in an organization                 | org_id=<org>              |
| owner or maintainer of the organization       | org_id=<org>              |
| supervisor or worker of the organization      | org_id=<org>, user_id=<me>|
| anybody else, no organization context         | user_id=<me>              |

(The organization context is the X-Organization header or `?org=`; a non-member is refused
before this by accounts.permissions.check_organization_context.) A filter given explicitly
with another value than the forced one is refused with 403 naming it, as CVAT does; otherwise
the forced value is used.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import PermissionDenied

from accounts.privacy import own_rows_user
from accounts.visibility import can_see_org, is_superuser


def forced_filters(user: Any, organization: Any) -> dict[str, int]:
    if organization is None:
        # No organization context: CVAT's sandbox rule, your own events (superusers: all).
        return {} if is_superuser(user) else {"user_id": user.pk}
    if not can_see_org(user, organization):
        raise PermissionDenied(f"You are not a member of organization {organization.slug!r}.")
    forced = {"org_id": organization.pk}
    own_user = own_rows_user(user, (organization.pk,))
    return forced if own_user is None else {**forced, "user_id": own_user}


def apply_permission_filter(
    user: Any, organization: Any, filters: dict[str, int | None]
) -> dict[str, int | None]:
    """`filters` with the forced values in; 403 when an explicit filter conflicts with one."""
    result = dict(filters)
    for attr, value in forced_filters(user, organization).items():
        given = filters.get(attr)
        if given is not None and given != value:
            raise PermissionDenied(f"You don't have permission to view events with {attr}={given}")
        result[attr] = value
    return result
