"""API access tokens: `Authorization: Token <key>` or `Authorization: Bearer <key>`; the key is a
signed JWT (accounts.tokens), checked against its token row on every request."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts import tokens
from accounts.models import AccessToken, hash_token_key

SCHEMES = ("token", "bearer")
# last_used_date is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class AccessTokenAuthentication(authentication.BaseAuthentication):
    """Returns (user, AccessToken); the token's `access_token_id` is what server events record."""

    keyword = "Token"

    def authenticate(self, request: Any) -> tuple[Any, AccessToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower().decode(errors="replace") not in SCHEMES:
            return None  # another scheme (Basic) or no header: let the next authenticator try
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected '<scheme> <key>'.")
        try:
            key = parts[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                "Invalid token header: the key is not valid text."
            ) from None
        return self.authenticate_key(key)

    def authenticate_key(self, key: str) -> tuple[Any, AccessToken]:
        token = self._find(key)
        if not hmac.compare_digest(token.key_hash, hash_token_key(key)):
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.revoked:
            raise exceptions.AuthenticationFailed("Token has been revoked.")
        if token.is_expired:
            raise exceptions.AuthenticationFailed("Token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        now = timezone.now()
        if token.last_used_date is None or now - token.last_used_date >= LAST_USED_RESOLUTION:
            # A queryset update: no model signals, so using a token is not an "update:accesstoken".
            AccessToken.objects.filter(pk=token.pk).update(last_used_date=now)
            token.last_used_date = now
        return token.user, token

    @staticmethod
    def _find(key: str) -> AccessToken:
        """The row a key names: a JWT's `jti` once its signature and `exp` check out; an opaque key
        (issued before keys were JWTs) by its hash."""
        tokens_of_users = AccessToken.objects.select_related("user")
        try:
            if not tokens.looks_like_jwt(key):
                # get(), not first(): the hash is unique, and an ORDER BY costs ~15% of this lookup
                return tokens_of_users.get(key_hash=hash_token_key(key))
            claims = tokens.decode(key)
            return tokens_of_users.get(pk=claims.token_id, user_id=claims.user_id)
        except tokens.TokenInvalid as error:
            raise exceptions.AuthenticationFailed(str(error)) from None
        except AccessToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
