"""Organizations, memberships and API access tokens. Users are Django's built-in User."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.utils import timezone

from accounts import tokens
from events.clock import ClockDateTimeField

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    "Use lowercase letters, digits and single hyphens (not at the start or end).",
)


class Role(models.TextChoices):
    OWNER = "owner"
    MAINTAINER = "maintainer"
    SUPERVISOR = "supervisor"
    WORKER = "worker"


class Organization(models.Model):
    # The slug identifies the organization in URLs and headers; it cannot change after creation.
    slug = models.CharField(max_length=64, unique=True, validators=[SLUG_VALIDATOR])
    name = models.CharField(max_length=256, blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_date = ClockDateTimeField(auto_now_add=True)
    updated_date = ClockDateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.slug

    def analytics_ids(self) -> dict[str, Any]:
        return {"org_id": self.pk, "org_slug": self.slug, "project_id": None, "task_id": None, "job_id": None}

    def analytics_name(self) -> str | None:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(max_length=16, choices=Role.choices)
    joined_date = ClockDateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="unique_membership_per_user_org"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.organization_id}:{self.role}"

    def analytics_ids(self) -> dict[str, Any]:
        # One hop: `organization` (views select_related it).
        return {
            "org_id": self.organization_id,
            "org_slug": self.organization.slug,
            "project_id": None,
            "task_id": None,
            "job_id": None,
        }

    def analytics_name(self) -> str | None:
        return None


TOKEN_PREFIX_LENGTH = 8


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class AccessToken(models.Model):
    """A personal API token. Only the sha256 of the key is stored; its last characters are kept in
    clear (`prefix`, a name kept from opaque keys: every JWT starts alike) so that a user can tell
    their tokens apart."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=256)
    prefix = models.CharField(max_length=TOKEN_PREFIX_LENGTH)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_date = ClockDateTimeField(auto_now_add=True)
    updated_date = ClockDateTimeField(auto_now=True)
    last_used_date = models.DateTimeField(null=True, blank=True)
    expiry_date = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user: Any, name: str, expiry_date: Any = None) -> tuple[AccessToken, str]:
        """Create a token; returns it with the plain key (a signed JWT, see accounts.tokens), which
        is never stored or shown again."""
        with transaction.atomic():
            # The key names the row (`jti`), so the row comes first, with a placeholder hash.
            token = cls.objects.create(
                user=user, name=name, prefix="", key_hash=secrets.token_hex(32), expiry_date=expiry_date
            )
            key = tokens.encode(
                token_id=token.pk, user=user, issued_at=token.created_date, expiry_date=expiry_date
            )
            token.prefix, token.key_hash = key[-TOKEN_PREFIX_LENGTH:], hash_token_key(key)
            # A queryset update: the row was just created, this is not a change anybody made.
            cls.objects.filter(pk=token.pk).update(prefix=token.prefix, key_hash=token.key_hash)
        return token, key

    @property
    def access_token_id(self) -> int:
        # What the events code reads from `request.auth`.
        return self.pk

    @property
    def is_expired(self) -> bool:
        return self.expiry_date is not None and self.expiry_date <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.revoked and not self.is_expired

    def analytics_ids(self) -> dict[str, Any]:
        return {"org_id": None, "org_slug": None, "project_id": None, "task_id": None, "job_id": None}

    def analytics_name(self) -> str | None:
        return self.name


def invitation_key() -> str:
    return secrets.token_urlsafe(32)


class Invitation(models.Model):
    """An offer to join an organization with a role (CVAT's invitations). Nobody becomes a member
    without consent: the membership exists only once the invitee accepts.

    `invitee` is None when nobody answers to the name the inviter gave: the invitation is then
    kept and answered exactly like any other, so inviting never tells whether an account exists."""

    key = models.CharField(max_length=64, primary_key=True, default=invitation_key, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=16, choices=Role.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="invitations"
    )
    # The username or e-mail address as the inviter wrote it (shown back to them, nothing more).
    invitee_ref = models.CharField(max_length=254)
    created_date = models.DateTimeField(auto_now_add=True)
    expiry_date = models.DateTimeField()

    class Meta:
        ordering = ["created_date", "key"]

    def __str__(self) -> str:
        return f"{self.invitee_ref}@{self.organization_id}:{self.role}"

    @property
    def expired(self) -> bool:
        return self.expiry_date <= timezone.now()
