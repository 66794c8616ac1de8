"""Subscription streams that end when the caller's credentials do."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from typing import Any

from graphql import GraphQLError
from strawberry.types.execution import ExecutionResult

from graphql_api.core.models import utcnow


async def until(
    source: AsyncGenerator[Any, None], deadline: datetime, error: Callable[[], GraphQLError]
) -> AsyncGenerator[Any, None]:
    """`source`'s results until `deadline`, then one result carrying `error`, then the end.

    A websocket cannot present a new token mid-connection, so a subscription opened with an
    access token must not outlive it: the client reconnects with a fresh one.
    """
    ends = asyncio.get_running_loop().time() + (deadline - utcnow()).total_seconds()
    try:
        while True:
            try:
                # A timer per step, not wait_for's task per step (a cost at 2,000 subscribers);
                # never across the yield, or the timeout would cancel the consumer instead.
                async with asyncio.timeout_at(ends):
                    item = await anext(source)
            except StopAsyncIteration:
                return
            except TimeoutError:
                break
            yield item
        yield ExecutionResult(data=None, errors=[error()])
    finally:
        with contextlib.suppress(RuntimeError):  # already closed by the cancellation
            await source.aclose()
