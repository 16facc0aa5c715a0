"""CVAT's access-token routes, `/api/auth/access_tokens`, the ones its SDK and CLI call.

The tokens are this server's own (AccessToken.issue makes them, AccessTokenAuthentication checks
them, `/api/auth/tokens` lists the same rows); only the shape is CVAT's: `value` is the key,
answered once on creation, `owner` the user, and `read_only` is always false: a token here has its
user's rights, so asking for a read-only one is refused (400 naming `read_only`) instead of
silently handing out a token that can write. Deleting revokes; revoked tokens are not listed.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import AccessToken
from accounts.serializers import AccessTokenSerializer, UserBriefSerializer
from accounts.views import AccessTokenViewSet


class CvatAccessTokenSerializer(serializers.ModelSerializer):
    owner = UserBriefSerializer(source="user", read_only=True)
    read_only = serializers.BooleanField(required=False, default=False)
    expiry_date = serializers.DateTimeField(required=False, allow_null=True)

    class Meta:
        model = AccessToken
        fields = [
            "id",
            "name",
            "created_date",
            "updated_date",
            "expiry_date",
            "last_used_date",
            "read_only",
            "owner",
        ]
        read_only_fields = ["id", "created_date", "updated_date", "last_used_date", "owner"]

    def validate_read_only(self, value: bool) -> bool:
        if value:
            raise serializers.ValidationError(
                "Read-only tokens are not supported: a token has the rights of its user."
            )
        return value

    validate_expiry_date = AccessTokenSerializer.validate_expiry_date

    def to_representation(self, instance: AccessToken) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["read_only"] = False
        return data


class CvatAccessTokenViewSet(mixins.UpdateModelMixin, AccessTokenViewSet):
    serializer_class = CvatAccessTokenSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().filter(revoked=False).select_related("user")

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, key = AccessToken.issue(request.user, data["name"], data.get("expiry_date"))
        answer = CvatAccessTokenSerializer(token).data
        answer["value"] = key  # the only time the key is shown
        return Response(answer, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: Any) -> None:
        serializer.validated_data.pop("read_only", None)
        serializer.save()

    @action(detail=False, methods=["get"], url_path="self")
    def current(self, request: Any) -> Response:
        """The token this request was authenticated with."""
        token = request.auth
        if not isinstance(token, AccessToken):
            raise exceptions.NotFound("This request was not authenticated with an access token.")
        return Response(CvatAccessTokenSerializer(token).data)
