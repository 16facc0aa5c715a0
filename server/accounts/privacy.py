"""What a caller may see of other people's analytics: the one rule every analytics surface applies.

The rule (CVAT's events rule, `rules/events.rego`, applied to every surface, not only exports):

| caller in an organization  | rows of that organization they see           |
|----------------------------|----------------------------------------------|
| superuser                  | every row (of every organization)            |
| owner, maintainer          | every row of the organization                |
| supervisor, worker         | only the rows about themselves (`user_id`)   |
| not a member               | none (403 when named)                        |

A request covers a set of organizations (its scope: an `org_id` filter, the organization context,
the dashboards' `organization` variable, or else all of the caller's organizations). When the caller
sees only their own rows in *any* organization of the scope, the whole answer is limited to their
own rows, and naming another user (a `user_id` filter, `variables.user`, a summary of someone else)
is 403. Narrowing the scope to organizations the caller administers lifts the limit there.

Surfaces apply `own_rows_user(...)` each in their own filter language: the KPI/metric API and the
query API through `analytics.access.request_scope`, the per-user summary and raw events through
`analytics.access.user_access`, exports through `exports.permissions`, the dashboards' panel and
variable endpoints through `dashboards.runner.restriction_for`; Grafana is for superusers only
(`accounts.visibility.has_analytics_access`), who see every row there as everywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from accounts.visibility import ADMIN_ROLES, is_superuser, roles_by_org

OTHERS_REFUSED = (
    "Only superusers, and owners and maintainers of every organization in scope, may read another "
    "user's analytics; narrow the organization to ones you administer."
)


def all_members_orgs(user: Any) -> frozenset[int] | None:
    """The organizations in which `user` sees every member's rows; None: all of them (superusers)."""
    if is_superuser(user):
        return None
    return frozenset(org for org, role in roles_by_org(user).items() if role in ADMIN_ROLES)


def own_rows_user(user: Any, org_ids: Iterable[int] | None) -> int | None:
    """The user id an answer over `org_ids` (None: every organization) must be limited to, or None
    when `user` may see every member's rows in all of them."""
    allowed = all_members_orgs(user)
    if allowed is None:
        return None
    if org_ids is None or any(org not in allowed for org in org_ids):
        return user.pk
    return None


def may_name_others(user: Any, org_ids: Iterable[int] | None) -> bool:
    """May `user` ask about somebody else (a user filter, a summary) within `org_ids`?"""
    return own_rows_user(user, org_ids) is None


def others_visible_in(user: Any, org_ids: Iterable[int]) -> set[int] | None:
    """The organizations among `org_ids` in which `user` sees other members (None: all, superusers)."""
    allowed = all_members_orgs(user)
    return None if allowed is None else {org for org in org_ids if org in allowed}
