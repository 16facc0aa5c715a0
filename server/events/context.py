"""What the current request contributes to every event it causes, and the events it has produced.

Events of one request are buffered here and written to the spool in one transaction when the
request ends (RequestIdMiddleware), so a cascading delete costs one spool write, not one per row.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

_local = threading.local()


@dataclass
class RequestScope:
    request: HttpRequest
    request_id: str
    pending: list[bytes] = field(default_factory=list)

    @property
    def user(self) -> Any:
        # DRF copies the user it authenticated (token, basic, session) onto the Django request.
        return getattr(self.request, "user", None)

    @property
    def access_token_id(self) -> int | None:
        auth = getattr(self.request, "auth", None)
        return getattr(auth, "access_token_id", None)

    @property
    def user_agent(self) -> str:
        return self.request.META.get("HTTP_USER_AGENT", "")

    @property
    def remote_addr(self) -> str | None:
        return self.request.META.get("REMOTE_ADDR")


def current_scope() -> RequestScope | None:
    return getattr(_local, "scope", None)


@contextmanager
def request_scope(request: HttpRequest, request_id: str) -> Iterator[RequestScope]:
    previous = current_scope()
    scope = RequestScope(request=request, request_id=request_id)
    _local.scope = scope
    try:
        yield scope
    finally:
        _local.scope = previous
