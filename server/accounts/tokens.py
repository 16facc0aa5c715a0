"""API keys as signed JWTs (PyJWT, HS256). Dataloop's dtlpy decodes the key before every request
(signature unchecked) and needs `exp` and `email`; the server checks the signature and `exp`, then
the token row named by `jti` (revocation, expiry, the stored hash) on every request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from django.conf import settings

ALGORITHM = "HS256"
ISSUER = "annotation-analytics"
# A token created without an expiry date never expires on the server; its JWT still needs an
# `exp` (dtlpy refuses a key without one), so it carries one this far out.
NO_EXPIRY_LIFETIME = timedelta(days=100 * 365)
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "iss"]


class TokenInvalid(Exception):
    """Not a key this server signed, or a signed key past its `exp` (the message says which)."""


@dataclass(frozen=True)
class Claims:
    token_id: int  # the AccessToken row (`jti`)
    user_id: int  # `sub`


def looks_like_jwt(key: str) -> bool:
    return key.count(".") == 2


def encode(*, token_id: int, user: Any, issued_at: datetime, expiry_date: datetime | None) -> str:
    expires = expiry_date if expiry_date is not None else issued_at + NO_EXPIRY_LIFETIME
    claims = {
        "iss": ISSUER,
        "sub": str(user.pk),
        "email": user.email or "",
        "jti": str(token_id),
        "iat": int(issued_at.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(claims, settings.ACCESS_TOKEN_SIGNING_KEY, algorithm=ALGORITHM)


def decode(key: str) -> Claims:
    try:
        claims = jwt.decode(
            key,
            settings.ACCESS_TOKEN_SIGNING_KEY,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise TokenInvalid("Token has expired.") from None
    except jwt.InvalidTokenError:
        raise TokenInvalid("Invalid token.") from None
    from accounts.api import ID_MAX  # here: accounts.api imports the models, which import this module

    ids = str(claims["jti"]), str(claims["sub"])
    if not all(text.isdigit() and 0 < int(text) <= ID_MAX for text in ids):
        raise TokenInvalid("Invalid token.")
    return Claims(token_id=int(ids[0]), user_id=int(ids[1]))
