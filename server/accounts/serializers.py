from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from accounts.api import ID_MAX
from accounts.models import AccessToken, Invitation, Membership, Organization, Role
from accounts.visibility import may_see_account_details, visible_users

User = get_user_model()


class UserBriefSerializer(serializers.ModelSerializer):
    """How other objects show a user (owner, assignee, member)."""

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name"]
        read_only_fields = fields


NO_SUCH_USER = "No user {value!r} among you and the members of your organizations."


def visible_user(request: Any, value: int | str) -> Any:
    """The user named by id or username if `request`'s user may see them (accounts.visibility),
    else None: a user outside the caller's organizations is answered exactly as a missing one."""
    users = visible_users(getattr(request, "user", None))
    # isascii: "²".isdigit() holds, but int("²") raises.
    if isinstance(value, int) or (value.isascii() and value.isdigit()):
        return users.filter(pk=int(value)).first() if 0 < int(value) <= ID_MAX else None
    return users.filter(username=value).first()


class UserRefField(serializers.Field):
    """Writes a user as an id or a username (one the caller may see); reads as the brief user object."""

    default_error_messages = {
        "invalid": "Expected a user id or a username.",
        "does_not_exist": NO_SUCH_USER,
    }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | str) or data == "":
            self.fail("invalid")
        user = visible_user(self.context.get("request"), data)
        if user is None:
            self.fail("does_not_exist", value=data)
        return user

    def to_representation(self, value: Any) -> Any:
        return UserBriefSerializer(value).data if value is not None else None


class IdField(serializers.IntegerField):
    """A related object written and read as its id (resolved by the serializer's validate_<field>)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=ID_MAX, **kwargs)

    def to_representation(self, value: Any) -> int:
        return getattr(value, "pk", value)


class UserSerializer(serializers.ModelSerializer):
    # CVAT's SDK requires `groups`: CVAT's system groups, here "admin" (superusers) or "user".
    groups = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "groups",
            "is_staff",
            "is_superuser",
            "is_active",
            "date_joined",
            "last_login",
        ]
        read_only_fields = [
            "id",
            "username",
            "is_staff",
            "is_superuser",
            "is_active",
            "date_joined",
            "last_login",
        ]

    def get_groups(self, instance: Any) -> list[str]:
        return ["admin"] if instance.is_superuser else ["user"]

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        viewer = self.context.get("viewer") or getattr(self.context.get("request"), "user", None)
        if not may_see_account_details(viewer, instance):
            # Other people's e-mail addresses and account details are private.
            for name in ("email", "last_login"):
                data.pop(name, None)
        return data

    def validate_email(self, value: str) -> str:
        if (
            value
            and User.objects.filter(email__iexact=value)
            .exclude(pk=getattr(self.instance, "pk", None))
            .exists()
        ):
            raise serializers.ValidationError("A user with this e-mail address already exists.")
        return value


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")

    def validate_username(self, value: str) -> str:
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("A user with this username already exists.")
        return value

    def validate_email(self, value: str) -> str:
        if value and User.objects.filter(email__iexact=value).exists():
            raise serializers.ValidationError("A user with this e-mail address already exists.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        candidate = User(username=attrs["username"], email=attrs.get("email", ""))
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": list(error.messages)}) from None
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Any:
        return User.objects.create_user(**validated_data)


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, write_only=True, trim_whitespace=False)


class OrganizationSerializer(serializers.ModelSerializer):
    owner = UserBriefSerializer(read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "slug", "name", "owner", "created_date", "updated_date"]
        read_only_fields = ["id", "owner", "created_date", "updated_date"]

    def validate_slug(self, value: str) -> str:
        if self.instance is not None and value != self.instance.slug:
            raise serializers.ValidationError("The slug of an organization cannot be changed.")
        return value


class MembershipSerializer(serializers.ModelSerializer):
    user = UserRefField()
    organization = IdField()
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["id", "user", "organization", "role", "joined_date"]
        read_only_fields = ["id", "joined_date"]
        # Duplicates are reported by validate() with a field name, not as non_field_errors.
        validators: list = []

    def validate_organization(self, value: int) -> Organization:
        organization = Organization.objects.filter(pk=value).first()
        if organization is None:
            raise serializers.ValidationError(f"Organization {value} does not exist.")
        return organization

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            for name in ("user", "organization"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError({name: ["Cannot be changed; create a new membership."]})
        else:
            if Membership.objects.filter(user=attrs["user"], organization=attrs["organization"]).exists():
                raise serializers.ValidationError(
                    {"user": ["This user is already a member of the organization."]}
                )
        return attrs


class AccessTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccessToken
        fields = ["id", "name", "prefix", "created_date", "last_used_date", "expiry_date", "revoked"]
        read_only_fields = ["id", "prefix", "created_date", "last_used_date", "revoked"]

    def validate_expiry_date(self, value: Any) -> Any:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("The expiry date must be in the future.")
        return value


class AccessTokenCreatedSerializer(AccessTokenSerializer):
    """The answer to token creation: the only time the plain key is ever shown."""

    key = serializers.CharField(read_only=True)

    class Meta(AccessTokenSerializer.Meta):
        fields = [*AccessTokenSerializer.Meta.fields, "key"]


class InvitationSerializer(serializers.ModelSerializer):
    """`POST {"role", "user": username or id} or {"role", "email"}` in an organization context (or
    with `"organization": id`); the answer never says whether such a user exists."""

    user = serializers.CharField(write_only=True, required=False, max_length=150)
    email = serializers.EmailField(write_only=True, required=False)
    organization = IdField(required=False)
    role = serializers.ChoiceField(choices=Role.choices)
    owner = UserBriefSerializer(read_only=True)
    invitee = serializers.CharField(source="invitee_ref", read_only=True)
    organization_info = serializers.SerializerMethodField()
    expired = serializers.BooleanField(read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "key",
            "organization",
            "organization_info",
            "role",
            "user",
            "email",
            "invitee",
            "owner",
            "created_date",
            "expiry_date",
            "expired",
        ]
        read_only_fields = ["key", "created_date", "expiry_date"]

    def get_organization_info(self, instance: Invitation) -> dict[str, Any]:
        org = instance.organization
        return {"id": org.pk, "slug": org.slug, "name": org.name}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("user", "email") if attrs.get(name)]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"user": ["Give exactly one of `user` (username or id) or `email`."]}
            )
        return attrs


class InvitationAcceptedSerializer(serializers.Serializer):
    organization_slug = serializers.CharField()
    membership = MembershipSerializer()
