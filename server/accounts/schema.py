"""OpenAPI (drf-spectacular) descriptions of what it cannot infer: token auth and user references."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes


class AccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.AccessTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                'API access token: "Token <key>" or "Bearer <key>" (POST /api/auth/tokens); the key is a '
                "JWT signed by the server, checked against its token row on every request."
            ),
        }


class ThrottledBasicScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.throttling.ThrottledBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "basic",
            "description": "Username and password; 429 with Retry-After after too many wrong ones.",
        }


class UserRefFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "accounts.serializers.UserRefField"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        if direction == "request":
            return {
                "oneOf": [build_basic_type(OpenApiTypes.INT), build_basic_type(OpenApiTypes.STR)],
                "description": "A user id or username.",
            }
        from accounts.serializers import UserBriefSerializer

        return auto_schema.resolve_serializer(UserBriefSerializer, direction).ref
