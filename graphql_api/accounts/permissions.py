"""Resolver guards: who may call what."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphql_api.accounts.models import Role, User
from graphql_api.core.errors import Forbidden, Unauthenticated

if TYPE_CHECKING:
    from strawberry.types import Info


async def require_user(info: Info) -> User:
    user = await info.context.user()
    if user is None:
        raise Unauthenticated()
    return user


async def require_admin(info: Info) -> User:
    user = await require_user(info)
    if not Role(user.role).is_admin:
        raise Forbidden("Administrator role required.")
    return user
