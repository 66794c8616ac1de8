"""Resolver guards: who may call what."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphql_api.accounts.models import Role, User
from graphql_api.core.errors import Forbidden, RateLimited, Unauthenticated
from graphql_api.core.rate_limit import enforce

if TYPE_CHECKING:
    from strawberry.types import Info

    from graphql_api.core.resources import Resources


async def require_user(info: Info) -> User:
    user = await info.context.user()
    if user is None:
        raise Unauthenticated()
    return user


async def limit_password_checks(info: Info, email: str | None) -> None:
    """Password hashing is costly by design: one per request, and few per email and client."""
    ctx = info.context
    ctx.password_checks += 1
    if ctx.password_checks > 1:
        raise RateLimited("One sign-in or registration per request.")
    client = getattr(getattr(ctx.request, "client", None), "host", None)
    await limit_password_attempts(ctx.resources, client, email)


async def limit_password_attempts(resources: Resources, client: str | None, email: str | None
                                  ) -> None:
    """The per-client and per-email windows, shared with the OAuth2 token endpoint."""
    settings, cache = resources.settings, resources.cache
    window = settings.login_window_seconds
    client = client or "unknown"
    await enforce(cache, f"password:ip:{client}", settings.login_attempts_per_client, window)
    if email:
        await enforce(cache, f"password:email:{email.strip().lower()}",
                      settings.login_attempts_per_email, window)


async def require_admin(info: Info) -> User:
    user = await require_user(info)
    if not Role(user.role).is_admin:
        raise Forbidden("Administrator role required.")
    return user
