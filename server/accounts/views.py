from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model, login, logout
from django.db.models import Q, QuerySet
from django.middleware.csrf import get_token
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as rules
from accounts.api import DomainViewMixin, int_query_param
from accounts.models import AccessToken, Membership, Organization, Role
from accounts.serializers import (
    AccessTokenCreatedSerializer,
    AccessTokenSerializer,
    LoginSerializer,
    MembershipSerializer,
    OrganizationSerializer,
    RegisterSerializer,
    UserSerializer,
)
from accounts.visibility import can_see_org, is_superuser, member_org_ids_subquery

User = get_user_model()


class UserViewSet(
    DomainViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Yourself and the members of the organizations you belong to (superusers: everybody)."""

    serializer_class = UserSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        org = self.request.organization
        if org is not None:
            queryset = User.objects.filter(memberships__organization=org)
        elif is_superuser(user):
            queryset = User.objects.all()
        else:
            queryset = User.objects.filter(
                Q(pk=user.pk) | Q(memberships__organization__in=member_org_ids_subquery(user))
            ).distinct()
        return queryset.order_by("id")

    def check_object_permissions(self, request: Any, obj: Any) -> None:
        super().check_object_permissions(request, obj)
        if self.action == "partial_update" and not rules.can_update_user(request.user, obj):
            raise exceptions.PermissionDenied("Only the user themself or a superuser may change a user.")

    @action(detail=False, methods=["get"], url_path="self")
    def me(self, request: Any) -> Response:
        return Response(UserSerializer(request.user, context=self.get_serializer_context()).data)

    @action(detail=False, methods=["get"], url_path="me")
    def me_dataloop(self, request: Any) -> Response:
        """The same as `/users/self`, under the path Dataloop's dtlpy checks a key with."""
        return self.me(request)


class OrganizationViewSet(DomainViewMixin, viewsets.ModelViewSet):
    """Organizations you are a member of. The organization context does not filter this list."""

    serializer_class = OrganizationSerializer

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        queryset = Organization.objects.select_related("owner")
        if not is_superuser(user):
            queryset = queryset.filter(pk__in=member_org_ids_subquery(user))
        return queryset.order_by("id")

    def perform_create(self, serializer: Any) -> None:
        org = serializer.save(owner=self.request.user)
        Membership.objects.create(user=self.request.user, organization=org, role=Role.OWNER)

    def check_object_permissions(self, request: Any, obj: Any) -> None:
        super().check_object_permissions(request, obj)
        changing = self.action in ("update", "partial_update")
        if changing and not rules.can_update_organization(request.user, obj):
            raise exceptions.PermissionDenied("Only the owner and maintainers may change the organization.")
        if self.action == "destroy" and not rules.can_delete_organization(request.user, obj):
            raise exceptions.PermissionDenied("Only the owner may delete the organization.")


class MembershipViewSet(DomainViewMixin, viewsets.ModelViewSet):
    """Memberships of your organizations; `?organization=<id>`, `?user=<id>` filter them."""

    serializer_class = MembershipSerializer

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        queryset = Membership.objects.select_related("user", "organization")
        if not is_superuser(user):
            queryset = queryset.filter(organization__in=member_org_ids_subquery(user))
        if self.request.organization is not None:
            queryset = queryset.filter(organization=self.request.organization)
        if self.action == "list":
            org_id = int_query_param(self.request, "organization")
            if org_id is not None:
                queryset = queryset.filter(organization_id=org_id)
            user_id = int_query_param(self.request, "user")
            if user_id is not None:
                queryset = queryset.filter(user_id=user_id)
        return queryset.order_by("id")

    def perform_create(self, serializer: Any) -> None:
        org = serializer.validated_data["organization"]
        if not can_see_org(self.request.user, org):
            raise exceptions.ValidationError({"organization": [f"Organization {org.pk} does not exist."]})
        self._check(org, old_role=None, new_role=serializer.validated_data["role"])
        serializer.save()

    def perform_update(self, serializer: Any) -> None:
        membership = serializer.instance
        new_role = serializer.validated_data.get("role", membership.role)
        if new_role != membership.role:
            self._check(membership.organization, old_role=membership.role, new_role=new_role)
        serializer.save()

    def perform_destroy(self, instance: Membership) -> None:
        if not rules.can_leave(self.request.user, instance):
            self._check(instance.organization, old_role=instance.role, new_role=None)
        instance.delete()

    def _check(self, org: Organization, *, old_role: str | None, new_role: str | None) -> None:
        error = rules.membership_error(self.request.user, org, old_role=old_role, new_role=new_role)
        if error is not None:
            raise exceptions.PermissionDenied(error)


class AccessTokenViewSet(
    DomainViewMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your own API tokens. Creation answers the plain key once; deletion revokes the token."""

    serializer_class = AccessTokenSerializer

    def get_queryset(self) -> QuerySet:
        return AccessToken.objects.filter(user=self.request.user).order_by("id")

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = AccessToken.issue(request.user, **serializer.validated_data)
        token.key = key
        return Response(AccessTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: AccessToken) -> None:
        # Revoked, not deleted: events and audits keep referring to the token id.
        if not instance.revoked:
            instance.revoked = True
            instance.save(update_fields=["revoked", "updated_date"])


class RegisterView(APIView):
    """`POST {"username", "password", "email"}`: create an ordinary user (no sign-in needed)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    serializer_class = RegisterSerializer

    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer})
    def post(self, request: Any) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.save()
        return Response(UserSerializer(user, context={"viewer": user}).data, status=status.HTTP_201_CREATED)


class LoginFailed(exceptions.APIException):
    # Not AuthenticationFailed: DRF turns that into a 403 for a view without authenticators.
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Unable to sign in with the given username and password."
    default_code = "authentication_failed"


class LoginView(APIView):
    """`POST {"username", "password"}`: start a session (cookie `sessionid`; unsafe requests made with
    the session must then send the `csrftoken` cookie's value in an `X-CSRFToken` header). The answer
    is CVAT's `{"key": ...}` plus `user`, the signed-in user. `key` is the session's key (the
    `sessionid` cookie's value): a credential that ends with the session, in the at most 40
    characters CVAT's SDK accepts there. API keys for headers are access tokens."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    serializer_class = LoginSerializer

    @extend_schema(
        request=LoginSerializer,
        responses={200: UserSerializer, 401: OpenApiResponse(description="Wrong username or password")},
    )
    def post(self, request: Any) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request._request, **serializer.validated_data)
        if user is None:
            raise LoginFailed()
        login(request._request, user)
        get_token(request._request)  # sets the csrftoken cookie
        user_data = UserSerializer(user, context={"viewer": user}).data
        return Response({"key": request.session.session_key, "user": user_data})


class LogoutView(APIView):
    """`POST`: end the session, if any (its key stops working). 200 with `{"detail": ...}`, as CVAT."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=None, responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description='{"detail"}')}
    )
    def post(self, request: Any) -> Response:
        logout(request._request)
        return Response({"detail": "Successfully logged out."})
