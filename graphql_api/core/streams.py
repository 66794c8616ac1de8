"""Subscription streams: ending them with the caller's credentials, and sharing one event's
execution among the many subscribers that receive it."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from datetime import datetime
from typing import Any, cast

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
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


# --- one execution per event and operation, whatever the number of subscribers ------------------
#
# graphql-core executes a subscription's selection once per event *per subscriber*: at 2,000
# subscribers of one order that was ~0.3 ms of CPU each, 0.6 s per event before the last one was
# served, and most of the fan-out's cost. Subscribers that run the same operation (the same
# document, operation and variables) on the same event get the same result, so an event that
# carries `SharedExecutions` is executed once per distinct operation and every subscriber gets
# a copy of that result. That holds because the shared execution cannot see any one subscriber:
# its resolvers get the event's own context (`make_context`), one without a caller, so nothing a
# subscriber may not see can reach another. Who may see the event is decided before, per
# subscriber, by the source stream (orders/types.py: the owner, or an admin re-checked per
# event), as is the end of the stream when the token expires (`until`).

_Outcome = GraphQLExecutionResult | asyncio.Future[GraphQLExecutionResult]


class SharedExecutions:
    """One event's executions, one per distinct operation (see SharedEventExecutor)."""

    def __init__(self, make_context: Callable[[Any], Any]) -> None:
        self._make_context = make_context  # subscriber's context -> the event's (no caller)
        self._context: Any = None
        self._runs: dict[Hashable, _Outcome] = {}

    def context(self, subscriber_context: Any) -> Any:
        """The context resolvers see while this event is executed, for every subscriber."""
        if self._context is None:
            self._context = self._make_context(subscriber_context)
        return self._context

    def result(self, key: Hashable | None,
               execute: Callable[[], GraphQLExecutionResult | Awaitable[GraphQLExecutionResult]]
               ) -> GraphQLExecutionResult | Awaitable[GraphQLExecutionResult]:
        """The result of the operation `key` on this event, executed on first use; a key of
        None (an operation that cannot be compared) is executed for itself."""
        if key is None:
            return execute()
        run = self._runs.get(key)
        if run is None or (isinstance(run, asyncio.Future) and run.done() and (
                run.cancelled() or run.exception() is not None)):
            outcome = execute()
            # A task: the subscriber that started it going away must not cancel it for the rest.
            run = self._runs[key] = (asyncio.ensure_future(outcome) if inspect.isawaitable(outcome)
                                     else outcome)
        if isinstance(run, asyncio.Future):
            if run.done() and not run.cancelled() and run.exception() is None:
                return _own_copy(run.result())
            return _awaited_copy(run)
        return _own_copy(run)


async def _awaited_copy(run: asyncio.Future[GraphQLExecutionResult]) -> GraphQLExecutionResult:
    return _own_copy(await asyncio.shield(run))


def _own_copy(result: GraphQLExecutionResult) -> GraphQLExecutionResult:
    # Each subscriber's extensions may rewrite its result's error list in place (ErrorPolicy):
    # the list is its own; the data and the error objects are only read.
    return GraphQLExecutionResult(result.data, None if result.errors is None else list(result.errors))


def _plain(value: object) -> object:
    raise TypeError  # not a JSON value: the variables cannot be compared, nothing is shared


def operation_key(executor: StrawberryGraphQLCoreExecutionContext) -> Hashable | None:
    """What decides an execution's result on a given event, or None if it cannot be told:
    the document's text, which operation of it, and the coerced variables."""
    operation = executor.operation
    if operation.loc is None:
        return None
    try:
        variables = json.dumps(executor.variable_values.coerced, sort_keys=True, default=_plain)
    except (TypeError, ValueError):
        return None
    return operation.loc.source.body, operation.loc.start, variables


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor; an event with `executions` (a SharedExecutions) is executed in the
    event's context and once per distinct operation. Anything else executes as usual."""

    _key: Hashable | None = None  # the subscription's operation_key, made on its first event
    _keyed = False

    def build_per_event_executor(self, payload: Any) -> Any:
        executions = getattr(payload, "executions", None)
        if isinstance(executions, SharedExecutions) and not self._keyed:
            self._key, self._keyed = operation_key(self), True  # copied to each event's executor
        executor = super().build_per_event_executor(payload)
        if isinstance(executions, SharedExecutions):
            executor.context_value = executions.context(self.context_value)
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        executions = getattr(self.root_value, "executions", None)
        if not isinstance(executions, SharedExecutions):
            return super().execute_operation(serially)
        # Shared work must not stop when the subscriber that started it does.
        self.abort_signal = None
        # (A subscription's events never produce incremental results.)
        return executions.result(self._key, lambda: cast(
            "GraphQLExecutionResult | Awaitable[GraphQLExecutionResult]",
            super(SharedEventExecutor, self).execute_operation(serially)))
