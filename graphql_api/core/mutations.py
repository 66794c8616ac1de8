"""Runs a mutation's write in one transaction and turns expected failures into `userErrors`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.core.database import Database
from graphql_api.core.errors import ErrorCode, UserError, UserInputError

T = TypeVar("T")


async def in_transaction(
    db: Database, work: Callable[[AsyncSession], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    """Commit `work` whole, or roll it back whole and report why."""
    try:
        async with db.transaction() as session:
            return await work(session), []
    except UserInputError as exc:
        return None, exc.errors
    except IntegrityError:
        # A unique constraint lost a race with a concurrent write that our checks could not see.
        return None, [UserError(field=None, code=ErrorCode.DUPLICATE,
                                message="This conflicts with a concurrent change; try again.")]
