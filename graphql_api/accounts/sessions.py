"""Sign-in, refresh and sign-out as whole operations, each in its own transaction(s).

The GraphQL token mutations and the OAuth2 token endpoint (`oauth.py`) both run these, so the
two surfaces share one set of credential and rotation rules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.accounts import service
from graphql_api.accounts.security import TokenSigner
from graphql_api.core.database import Database
from graphql_api.core.errors import ErrorCode, UserError
from graphql_api.core.mutations import in_transaction

# Work a domain above accounts does in the sign-in's transaction (e.g. keeping a guest's cart).
AfterSignIn = Callable[[AsyncSession, int], Awaitable[object]]


async def sign_in(db: Database, signer: TokenSigner, email: str, password: str,
                  after: AfterSignIn | None = None
                  ) -> tuple[service.TokenPair | None, list[UserError]]:
    """Check the password and issue a new token family. Rate-limit the caller first."""

    async def login(session: AsyncSession) -> service.TokenPair:
        user = await service.authenticate(session, email, password)
        pair = await service.issue_tokens(session, signer, user)
        if after is not None:
            assert user.id is not None
            await after(session, user.id)
        return pair

    return await in_transaction(db, login)


async def refresh(db: Database, signer: TokenSigner, refresh_token: str
                  ) -> tuple[service.TokenPair | None, list[UserError]]:
    """Rotate a refresh token; a rotated one presented again revokes its whole family."""
    try:
        return await in_transaction(
            db, lambda s: service.rotate_refresh_token(s, signer, refresh_token))
    except service.RefreshTokenReused:
        # The failed rotation rolled back: the family is revoked in a transaction of its own.
        async with db.transaction() as session:
            await service.revoke_family_of(session, refresh_token)
    return None, [UserError(field=["refreshToken"], code=ErrorCode.INVALID_TOKEN,
                            message="The refresh token is invalid or expired.")]


async def sign_out(db: Database, refresh_token: str) -> list[UserError]:
    """Revoke the refresh token's family: it and every rotation of it stop working."""
    _, errors = await in_transaction(
        db, lambda s: service.revoke_refresh_token(s, refresh_token))
    return errors
