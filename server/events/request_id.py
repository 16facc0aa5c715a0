"""Every response carries X-Request-Id; every event a request causes carries the same id."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from events.context import request_scope
from shipping.service import get_spool

REQUEST_ID_HEADER = "X-Request-Id"
log = logging.getLogger("events")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        request.request_id = request_id  # type: ignore[attr-defined]
        with request_scope(request, request_id) as scope:
            response = self.get_response(request)
            if scope.pending:
                # Durable before the client hears back: the spool write is part of the request.
                try:
                    get_spool().append(scope.pending)
                except Exception:
                    # The change itself is committed: answering 500 would tell the client it
                    # failed. The lost events are logged loudly instead.
                    log.exception(
                        "could not spool %d server events of request %s", len(scope.pending), request_id
                    )
                scope.pending.clear()
        response[REQUEST_ID_HEADER] = request_id
        return response
