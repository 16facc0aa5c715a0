"""The reverse proxy's auth subrequest for Grafana (`GET /api/analytics/grafana-auth`).

The proxy (components/proxy/default.conf) asks this endpoint, with the browser's cookies, before
every request to Grafana under /analytics/: 200 lets the request through and names the user in
`X-WEBAUTH-USER` (Grafana's auth proxy header, which the proxy sets from this answer and never
from the browser); 401 (not signed in) and 403 (signed in without analytics access) send the
request to the server's own dashboard pages instead. Grafana signs such users up as Viewers.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from accounts.visibility import has_analytics_access

USER_HEADER = "X-WEBAUTH-USER"
EMAIL_HEADER = "X-WEBAUTH-EMAIL"
_HEADER_SAFE = re.compile(r"[A-Za-z0-9.@+_-]{1,150}")


def grafana_login(user) -> str:
    """The Grafana login of a Django user: the username when it is plain ASCII (HTTP headers are
    Latin-1 and Grafana matches logins exactly), else a stable `user-<id>`."""
    username = user.get_username()
    return username if _HEADER_SAFE.fullmatch(username) else f"user-{user.pk}"


@never_cache
@require_safe
def grafana_auth(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return HttpResponse(status=401)
    if not has_analytics_access(user):
        return HttpResponse(status=403)
    response = HttpResponse(status=200)
    response[USER_HEADER] = grafana_login(user)
    email = user.email or ""
    if email and _HEADER_SAFE.fullmatch(email):
        response[EMAIL_HEADER] = email
    response["Vary"] = "Cookie"
    return response
