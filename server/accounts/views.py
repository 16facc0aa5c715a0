from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.db.models import Q, QuerySet
from django.middleware.csrf import get_token
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as rules
from accounts.api import ID_MAX, DomainViewMixin, int_query_param
from accounts.models import AccessToken, Invitation, Membership, Organization, Role
from accounts.serializers import (
    AccessTokenCreatedSerializer,
    AccessTokenSerializer,
    InvitationAcceptedSerializer,
    InvitationSerializer,
    LoginSerializer,
    MembershipSerializer,
    OrganizationSerializer,
    RegisterSerializer,
    UserSerializer,
)
from accounts.visibility import (
    ADMIN_ROLES,
    can_see_org,
    is_superuser,
    member_org_ids_subquery,
    roles_by_org,
    visible_users,
)

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
        return visible_users(self.request.user, self.request.organization).order_by("id")

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

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        # Checked before the body is read: its errors would tell a non-admin who has an account.
        if not is_superuser(request.user):
            raise exceptions.PermissionDenied(
                "Members join by invitation (POST /api/invitations), which the invitee accepts; "
                "only instance admins add members directly."
            )
        return super().create(request, *args, **kwargs)

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


class InvitationViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Invitations to join an organization (CVAT's `/api/invitations`): owners and maintainers
    invite, the invitee accepts (`POST {key}/accept`) or declines (`POST {key}/decline`). Lists
    the invitations addressed to you and those of the organizations you administer."""

    serializer_class = InvitationSerializer
    permission_classes = DomainViewMixin.permission_classes
    pagination_class = DomainViewMixin.pagination_class
    lookup_field = "key"
    lookup_value_regex = r"[A-Za-z0-9_-]{1,64}"

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        queryset = Invitation.objects.select_related("organization", "owner")
        if not is_superuser(user):
            administered = [org for org, role in roles_by_org(user).items() if role in ADMIN_ROLES]
            queryset = queryset.filter(Q(invitee=user) | Q(organization_id__in=administered))
        if self.request.organization is not None:
            queryset = queryset.filter(organization=self.request.organization)
        return queryset.order_by("created_date", "key")

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        org = self.request.organization
        if org is None:
            org_id = data.get("organization")
            org = Organization.objects.filter(pk=org_id).first() if org_id else None
            if org is None or not can_see_org(self.request.user, org):
                raise exceptions.ValidationError(
                    {"organization": ["Give the organization (X-Organization, ?org= or `organization`)."]}
                )
        error = rules.membership_error(self.request.user, org, old_role=None, new_role=data["role"])
        if error is not None:
            raise exceptions.PermissionDenied(error)
        ref = data.get("user") or data["email"]
        invitee = find_invitee(ref)
        if invitee is not None and Membership.objects.filter(user=invitee, organization=org).exists():
            # Only ever about a member of the inviter's own organization: nothing new is revealed.
            raise exceptions.ValidationError({"user": ["This user is already a member of the organization."]})
        expiry = timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS)
        serializer.instance = Invitation.objects.create(
            organization=org,
            role=data["role"],
            owner=self.request.user,
            invitee=invitee,
            invitee_ref=ref,
            expiry_date=expiry,
        )

    def perform_destroy(self, instance: Invitation) -> None:
        if instance.invitee_id != self.request.user.pk:
            error = rules.membership_error(
                self.request.user, instance.organization, old_role=None, new_role=instance.role
            )
            if error is not None:
                raise exceptions.PermissionDenied(error)
        instance.delete()

    def _own(self) -> Invitation:
        invitation = self.get_object()
        if invitation.invitee_id != self.request.user.pk:
            raise exceptions.PermissionDenied("Only the invitee may accept or decline an invitation.")
        return invitation

    @extend_schema(request=None, responses={200: InvitationAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Any, key: str | None = None) -> Response:
        invitation = self._own()
        if invitation.expired:
            raise exceptions.ValidationError({"key": ["This invitation has expired; ask for a new one."]})
        org = invitation.organization
        membership, _ = Membership.objects.get_or_create(
            user=request.user, organization=org, defaults={"role": invitation.role}
        )
        Invitation.objects.filter(organization=org, invitee=request.user).delete()
        answer = {"organization_slug": org.slug, "membership": membership}
        return Response(InvitationAcceptedSerializer(answer, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def decline(self, request: Any, key: str | None = None) -> Response:
        self._own().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


def find_invitee(ref: str) -> Any:
    """The account an inviter means by a username, an id or an e-mail address, or None."""
    if "@" in ref and User.objects.filter(email__iexact=ref).count() == 1:
        return User.objects.get(email__iexact=ref)
    if ref.isdigit() and 0 < int(ref) <= ID_MAX:
        return User.objects.filter(pk=int(ref)).first()
    return User.objects.filter(username=ref).first()


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
    """`POST {"username", "password", "email"}`: create an ordinary user (no sign-in needed), when
    self-registration is switched on (`REGISTRATION_OPEN`); else 403."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    serializer_class = RegisterSerializer
    extra_error_codes = ("403",)  # self-registration switched off (REGISTRATION_OPEN)

    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer})
    def post(self, request: Any) -> Response:
        if not settings.REGISTRATION_OPEN:
            raise exceptions.PermissionDenied(
                "Self-registration is switched off on this server; an administrator creates accounts."
            )
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.save()
        return Response(UserSerializer(user, context={"viewer": user}).data, status=status.HTTP_201_CREATED)


class LoginFailed(exceptions.APIException):
    # Not AuthenticationFailed: DRF turns that into a 403 for a view without authenticators.
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Unable to sign in with the given username and password."
    default_code = "authentication_failed"


def _from_a_browser(request: Any) -> bool:
    """Browsers send `Origin` with every POST and `Sec-Fetch-Site` with every request; a script's
    HTTP client sends neither, and a forged cross-site sign-in can only come from a browser."""
    return "HTTP_ORIGIN" in request.META or "HTTP_SEC_FETCH_SITE" in request.META


class LoginView(APIView):
    """`GET`: the `csrftoken` cookie. `POST {"username", "password"}`: start a session (cookie
    `sessionid`; unsafe requests made with the session must send the `csrftoken` cookie's value in an
    `X-CSRFToken` header). A request a browser makes (it sends `Origin` or `Sec-Fetch-Site`) must
    carry that token too, so no other site can sign a browser in (login CSRF); API clients such as
    CVAT's SDK send neither header and sign in with the credentials alone. The answer is CVAT's
    `{"key": ...}` plus `user`, the signed-in user. `key` is the session's key (the `sessionid`
    cookie's value): a credential that ends with the session, in the at most 40 characters CVAT's
    SDK accepts there. API keys for headers are access tokens."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    serializer_class = LoginSerializer
    extra_error_codes = ("403", "429")  # a browser's sign-in without CSRF; throttled guesses

    @extend_schema(request=None, responses={200: None})
    def get(self, request: Any) -> Response:
        get_token(request._request)  # sets the csrftoken cookie
        return Response({"detail": "POST username and password with the csrftoken cookie in X-CSRFToken."})

    @extend_schema(
        request=LoginSerializer,
        responses={200: UserSerializer, 401: OpenApiResponse(description="Wrong username or password")},
    )
    def post(self, request: Any) -> Response:
        # DRF exempts its views from Django's CSRF middleware; a browser's sign-in must not be.
        if _from_a_browser(request._request):
            SessionAuthentication().enforce_csrf(request._request)
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
