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
    try:
        while True:
            remaining = (deadline - utcnow()).total_seconds()
            if remaining <= 0:
                break
            try:
                # The timeout cancels the pending step, which closes the source generator.
                yield await asyncio.wait_for(anext(source), remaining)
            except StopAsyncIteration:
                return
            except TimeoutError:
                break
        yield ExecutionResult(data=None, errors=[error()])
    finally:
        with contextlib.suppress(RuntimeError):  # already closed by the cancellation
            await source.aclose()
