"""The OpenAPI schema's error answers, documented once for every operation.

drf-spectacular documents the answers a view declares; the errors every operation can give come
from layers around the view (authentication, the organization context, parsers, throttles, the
exception handlers), so they are added here from what the view is made of:

- 400 (bad parameter or body) and 404 (an unknown id, or an unknown organization context) always;
- 401 and 403 unless the view lets everybody in; 415 when it takes a body; 429 when it throttles.

Bodies: the analytics views answer `{"error": {"code", "message", "field"}}` (analytics.errors),
every other view DRF's `{"detail": "..."}`, `{"<field>": ["..."]}` or `["..."]`. An answer a view
already declares keeps its description; it gains the error body when it declared none.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

DRF_ERROR = "Error"
ANALYTICS_ERROR = "AnalyticsError"
_SCHEMAS: dict[str, dict[str, Any]] = {
    DRF_ERROR: {
        "description": 'DRF\'s error body: `{"detail": "..."}`, `{"<field>": ["..."]}` or `["..."]`.',
        "oneOf": [
            {"type": "object", "additionalProperties": {}},
            {"type": "array", "items": {}},
        ],
    },
    ANALYTICS_ERROR: {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "field"],
                "properties": {
                    "code": {"type": "string", "description": "Stable snake_case code."},
                    "message": {"type": "string"},
                    "field": {
                        "type": "string",
                        "nullable": True,
                        "description": "The parameter or body path at fault.",
                    },
                },
            }
        },
    },
}
_DESCRIPTIONS = {
    "400": "Invalid parameter or body; the message names the field",
    "401": "Not signed in",
    "403": "Signed in without the right to this",
    "404": "Unknown object or organization",
    "415": "Unsupported request content type",
    "429": "Too many requests or failed sign-ins; retry after the Retry-After header",
}


class AutoSchema(openapi.AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "404"]
        permissions = getattr(self.view, "permission_classes", [])
        if not all(permission is AllowAny for permission in permissions):
            # 429: HTTP Basic passwords are throttled (accounts.throttling) wherever they are taken.
            codes += ["401", "403", "429"]
        # Views that take a password themselves (sign-in: CSRF 403, throttled 429) name theirs.
        codes += [code for code in getattr(self.view, "extra_error_codes", ()) if code not in codes]
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("415")
        if getattr(self.view, "throttle_classes", None) and "429" not in codes:
            codes.append("429")
        return codes

    def _error_ref(self) -> dict[str, Any]:
        from analytics.errors import AnalyticsAPIView

        name = ANALYTICS_ERROR if isinstance(self.view, AnalyticsAPIView) else DRF_ERROR
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name)
        component.schema = _SCHEMAS[name]
        self.registry.register_on_missing(component)
        return component.ref

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        body = {"application/json": {"schema": self._error_ref()}}
        for code in self._error_codes():
            answer = responses.setdefault(code, {"description": _DESCRIPTIONS[code]})
            answer.setdefault("content", body)
        for code, answer in responses.items():
            if code >= "400" and "content" not in answer:
                answer["content"] = body
        return responses
