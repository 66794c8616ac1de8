"""Password hashing (argon2 via passlib) and JWT access tokens (pyjwt, pinned algorithm)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from passlib.context import CryptContext

from graphql_api.core.models import utcnow
from graphql_api.core.settings import Settings

_passwords = CryptContext(schemes=["argon2"], deprecated="auto")
# Verifying against this keeps a login for an unknown email as slow as one for a known email.
_DUMMY_HASH = _passwords.hash("not-a-real-password-" + secrets.token_hex(8))


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _passwords.verify(password, _DUMMY_HASH)
        return False
    try:
        return bool(_passwords.verify(password, password_hash))
    except (ValueError, TypeError):
        return False


def new_refresh_token() -> str:
    return secrets.token_urlsafe(48)


def token_digest(token: str) -> str:
    """Refresh tokens are stored by SHA-256: a leaked table holds nothing usable."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    role: str
    expires_at: datetime


class TokenError(Exception):
    pass


class TokenSigner:
    def __init__(self, settings: Settings) -> None:
        self._secret = settings.signing_secret()
        self._algorithm = settings.jwt_algorithm
        self._issuer = settings.jwt_issuer
        self.access_ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        self.refresh_ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)

    def issue_access(self, user_id: int, role: str) -> str:
        now = utcnow()
        claims: dict[str, Any] = {
            "sub": str(user_id),
            "role": role,
            "typ": "access",
            "iss": self._issuer,
            "iat": now,
            "exp": now + self.access_ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm=self._algorithm)

    def verify_access(self, token: str) -> AccessClaims:
        try:
            # Only our algorithm is accepted: this is what rejects `alg: none` and key confusion.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from None
        if claims.get("typ") != "access":
            raise TokenError("not an access token")
        try:
            return AccessClaims(user_id=int(claims["sub"]), role=str(claims.get("role", "")),
                                expires_at=datetime.fromtimestamp(claims["exp"], UTC))
        except (TypeError, ValueError, OverflowError):
            raise TokenError("malformed subject") from None
