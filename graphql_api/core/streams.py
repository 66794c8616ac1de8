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
from strawberry.types.execution import ExecutionResult

from graphql_api.core.acyclic_execution import AcyclicExecutor
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


# --- one execution per event, operation and caller, whatever the number of subscribers ---------
#
# graphql-core executes a subscription's selection once per event *per subscriber*: ~0.45 ms of
# CPU each, so 2,000 subscribers of one order cost ~0.9 s per event. An event that carries a
# `SharedExecutions` is executed once per key instead, and every subscriber with that key gets
# the same result. The key is (schema, document text, operation, coerced variables, the caller's
# identity: user id and role), and the one execution runs in a copy of the first such
# subscriber's context. Why not one caller-less execution per operation: that is right only as
# long as no resolver in any order subscription's selection looks at the caller, and it would
# silently hide (or, the other way round, show) fields once one does. With the caller in the key,
# subscribers that share a result are ones a per-subscriber execution could not tell apart (a
# resolver sees `Context.user()`: same id, same role), so the result is theirs byte for byte;
# the benchmark's 2,000 subscribers (one admin, one customer) still cost 2 executions per event.
# What is not in the key must not change a result: a resolver under OrderStatusEvent that reads
# more of the caller (the cart token, request headers, the token's claims) has to add it to
# `identity`. Who may see an event is decided before, per subscriber (orders/snapshots.py), and
# so is the end of a stream when its token expires (`until`).

_Run = asyncio.Future["GraphQLExecutionResult"]


class SharedData(dict[str, Any]):
    """The `data` of a shared execution: one object for all its subscribers, so that the
    websocket encodes their identical messages once (websocket.py)."""

    __slots__ = ("encoded",)

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        # A message's encoding by the rest of it (its id and type), for the one `data` payload.
        self.encoded: dict[Hashable, str | bytes] = {}


class SharedExecutions:
    """One event's executions, one per key (see above)."""

    def __init__(self, identity: Callable[[Any], Hashable | None],
                 prepare: Callable[[Any, bool], Any]) -> None:
        # identity(subscriber's context): what of the caller a result may depend on, or None
        # when that cannot be told (not shared). prepare(context, shared): the context to run
        # the event in; shared=True asks for a copy (the subscriber's own is left alone).
        self.identity, self.prepare = identity, prepare
        self._runs: dict[Hashable, _Run | GraphQLExecutionResult] = {}

    def result(self, key: Hashable,
               execute: Callable[[], GraphQLExecutionResult | Awaitable[GraphQLExecutionResult]]
               ) -> GraphQLExecutionResult | Awaitable[GraphQLExecutionResult]:
        """The result of `key`'s execution on this event; the first subscriber runs it."""
        run = self._runs.get(key)
        if run is None:
            outcome = execute()
            if inspect.isawaitable(outcome):
                # A task of its own: the subscriber that started it going away (a disconnect, a
                # token expiring in `until`) must not cancel it for the others.
                task = asyncio.ensure_future(_shareable_later(outcome))
                task.add_done_callback(_retrieve)
                run = task
            else:
                run = _shareable(outcome)
            self._runs[key] = run
        if not isinstance(run, asyncio.Future):
            return _own_copy(run)
        if run.done():
            return _own_copy(run.result())  # a failed run fails each of its subscribers alike
        return _awaited_copy(run)


async def _shareable_later(outcome: Awaitable[GraphQLExecutionResult]) -> GraphQLExecutionResult:
    return _shareable(await outcome)


def _shareable(result: GraphQLExecutionResult) -> GraphQLExecutionResult:
    return result if result.data is None else GraphQLExecutionResult(
        SharedData(result.data), result.errors)


def _retrieve(run: _Run) -> None:
    if not run.cancelled():
        run.exception()  # its subscribers got it; nothing for asyncio to log if all had gone


async def _awaited_copy(run: _Run) -> GraphQLExecutionResult:
    return _own_copy(await asyncio.shield(run))


def _own_copy(result: GraphQLExecutionResult) -> GraphQLExecutionResult:
    # Strawberry keeps each subscriber's error list on its own execution context: a list of its
    # own; the data and the error objects are shared and only read.
    return GraphQLExecutionResult(result.data, None if result.errors is None else list(result.errors))


def _json_only(value: object) -> object:
    raise TypeError  # not a JSON value: the variables cannot be compared, nothing is shared


_UNKNOWN = object()


class SharedEventExecutor(AcyclicExecutor):
    """Strawberry's executor; an event carrying `executions` (SharedExecutions) is executed once
    per key for all its subscribers. Anything else executes as usual."""

    _operation: Hashable | None = _UNKNOWN  # per subscription, made on its first event
    _shared: tuple[SharedExecutions, Hashable | None] | None = None  # per event

    def __copy__(self) -> SharedEventExecutor:
        # What copy() does to a plain object, without its generic reduce path: graphql-core
        # copies the subscription's executor for each event and subscriber (a tenth of the
        # fan-out's CPU time with copy's).
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def operation_key(self) -> Hashable | None:
        """What, besides the caller, decides this subscription's result on a given event: the
        schema, the document's text, which operation of it, and the coerced variables; None if
        that cannot be told (then nothing is shared)."""
        if self._operation is _UNKNOWN:
            self._operation = None
            location = self.operation.loc
            if location is not None:
                with contextlib.suppress(TypeError, ValueError):
                    variables = json.dumps(self.variable_values.coerced, sort_keys=True,
                                           default=_json_only)
                    self._operation = (id(self.schema), location.source.body, location.start,
                                       variables)
        return self._operation

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = cast("SharedEventExecutor", super().build_per_event_executor(payload))
        executions = getattr(payload, "executions", None)
        if isinstance(executions, SharedExecutions):
            operation, caller = self.operation_key(), executions.identity(self.context_value)
            key = None if operation is None or caller is None else (operation, caller)
            executor._shared = (executions, key)
            if key is None:  # executed for this subscriber alone, in its own context
                executor.context_value = executions.prepare(self.context_value, False)
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        if self._shared is None or self._shared[1] is None:
            return super().execute_operation(serially)
        executions, key = self._shared

        def execute() -> Any:
            self.context_value = executions.prepare(self.context_value, True)
            return super(SharedEventExecutor, self).execute_operation(serially)

        # (A subscription's events never produce incremental results.)
        return executions.result(key, execute)
