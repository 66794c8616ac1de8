"""Differential execution: every operation executed by graphql-core's reference path and by the
fast path (core/fast_execution.py), and the two results compared (`GRAPHQL_EXEC_DIFF=1`; the
test suite turns it on, see tests/conftest.py).

Executing an operation twice must not do its work twice: a mutation would write twice, a
second query would read the database again (and the statement counts the tests pin would
double), a subscription event's resolvers would run again. So the resolvers run once: the
reference run records what every resolver it calls returns (or raises, at once or when
awaited), by response path, through a graphql-core middleware; the fast run then replays those
outcomes for the fields it executes the ordinary way, and reads its plain fields itself. What
is compared is therefore exactly the executor's own work, for every kind of operation
(queries, mutations, each subscription event): which resolvers are called and at which paths,
how values are completed and coerced, nulls propagated and errors located. A resolver the
reference called that the fast run neither replayed nor could have read itself is a mismatch
too. Data is compared as its JSON text (key order included), errors as their formatted form
with the class of their original error, in order.

A mismatch is logged, appended to `MISMATCHES` (the test suite fails the test that caused it)
and raised, so that a server process running in this mode fails the request loudly.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from copy import copy
from typing import Any

from graphql import ExecutionResult, GraphQLResolveInfo
from graphql.execution.executor import CollectedErrors
from graphql.execution.middleware import MiddlewareManager
from graphql.pyutils import RefMap

from graphql_api.core.fast_execution import _BASIC_RESOLVER, FastExecutor, declared_getter

log = logging.getLogger("graphql_api.execution_diff")

MISMATCHES: list[str] = []
# Operations compared; fields the reference executed; fields the fast run executed the
# ordinary way (the rest it completed in place).
STATS = {"operations": 0, "fields": 0, "ordinary_fields": 0, "raced": 0}

_VALUE, _RAISE, _AWAIT_VALUE, _AWAIT_RAISE, _PENDING = range(5)
_PENDING_TIMEOUT = 10.0  # seconds a replay waits for an outcome the reference never had


class ExecutionMismatch(AssertionError):
    """The fast path and the reference disagreed."""


def _key(info: GraphQLResolveInfo) -> tuple[str | int, ...]:
    return tuple(info.path.as_list())


def _declares_getter(info: GraphQLResolveInfo) -> bool:
    field_def = info.parent_type.fields.get(info.field_name)  # None: __schema, __type
    return field_def is not None and declared_getter(field_def) is not None


class _Recording:
    """The outcome of each resolver call of the reference run, by path."""

    def __init__(self) -> None:
        self.outcomes: dict[tuple[str | int, ...], list[Any]] = {}
        self.plain: set[tuple[str | int, ...]] = set()  # paths the fast path may read itself
        self.replayed: set[tuple[str | int, ...]] = set()
        self.problems: list[str] = []
        self.settled = 0  # awaited outcomes so far, in the order they settled

    def _settle(self, outcome: list[Any], kind: int, value: Any) -> None:
        outcome[:] = [kind, value, self.settled]
        self.settled += 1

    def record(self, next_: Callable[..., Any], source: Any, info: GraphQLResolveInfo,
               **args: Any) -> Any:
        key = _key(info)
        if info.field_name == "__typename" or getattr(next_, "__qualname__", "") == (
                _BASIC_RESOLVER) or _declares_getter(info):
            self.plain.add(key)  # the fast path may produce it itself (a getter: from its own
            # code, compared here with what the resolver returned)
        try:
            result = next_(source, info, **args)
        except Exception as error:
            self.outcomes[key] = [_RAISE, error, 0]
            raise
        if not info.is_awaitable(result):
            self.outcomes[key] = [_VALUE, result, 0]
            return result
        outcome = self.outcomes[key] = [_PENDING, None, 0]

        async def awaited() -> Any:
            try:
                value = await result
            except Exception as error:
                self._settle(outcome, _AWAIT_RAISE, error)
                raise
            self._settle(outcome, _AWAIT_VALUE, value)
            return value

        return awaited()

    def replay(self, next_: Callable[..., Any], source: Any, info: GraphQLResolveInfo,
               **args: Any) -> Any:
        key = _key(info)
        outcome = self.outcomes.get(key)
        if outcome is None:
            self.problems.append(f"the fast run called the resolver at {list(key)}, which the "
                                 "reference run did not")
            return next_(source, info, **args)
        self.replayed.add(key)
        kind, value, rank = outcome
        if kind == _VALUE:
            return value
        if kind == _RAISE:
            raise value

        async def awaited() -> Any:
            # Settle in the reference's order: which of several failing siblings bubbles up
            # first (and is reported) depends on it. Each loop iteration settles the next one.
            for _ in range(rank + 1):
                await asyncio.sleep(0)
            if outcome[0] == _PENDING:  # cancelled in the reference run: wait to be cancelled
                await asyncio.sleep(_PENDING_TIMEOUT)
                self.problems.append(f"the resolver at {list(key)} never settled in the "
                                     "reference run but was awaited to the end in the fast run")
            if outcome[0] == _AWAIT_RAISE:
                raise outcome[1]
            return outcome[1]

        return awaited()


def _reaches(data: Any, keys: tuple[str | int, ...]) -> bool:
    """Whether the result holds an object (or list) at this path."""
    for key in keys:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return False
    return data is not None


class _Middleware:
    """graphql-core takes a middleware as a function or an object with a `resolve` method."""

    def __init__(self, resolve: Callable[..., Any]) -> None:
        self.resolve = resolve


def _raced(recording: _Recording, expected: Any, actual: Any) -> bool:
    """Whether the results differ only in which of several racing failures was reported.

    When awaited siblings fail and the error bubbles past them, the first to fail is the one
    reported, and which is first is timing (graphql-core run twice can differ too). So two
    results are taken as equal when their data is, and their errors are, except that an error
    at the path of an awaited failure of the reference may stand for another such failure with
    the same message.
    """
    if not (isinstance(expected, ExecutionResult) and isinstance(actual, ExecutionResult)):
        return False
    failed = {key: outcome[1] for key, outcome in recording.outcomes.items()
              if outcome[0] == _AWAIT_RAISE}
    if len(failed) < 2 or json.dumps(expected.data, default=repr) != json.dumps(
            actual.data, default=repr):
        return False

    def shape(result: ExecutionResult) -> list[str]:
        shaped = []
        for error in result.errors or ():
            formatted = dict(error.formatted)
            if tuple(error.path or ()) in failed:
                formatted["path"] = "<one of the racing failures>"
            shaped.append(json.dumps(formatted, sort_keys=True, default=repr))
        return shaped

    return shape(expected) == shape(actual)


def _canonical(result: Any) -> Any:
    if isinstance(result, BaseException):
        return ("raised", type(result).__name__, str(result))
    if not isinstance(result, ExecutionResult):
        return ("result", type(result).__name__)
    errors = [(json.dumps(e.formatted, sort_keys=True, default=repr),
               type(e.original_error).__name__) for e in result.errors or ()]
    return ("result", json.dumps(result.data, default=repr), errors)


def _report(executor: FastExecutor, problems: list[str]) -> None:
    location = executor.operation.loc
    text = location.source.body if location is not None else "?"
    message = "fast execution differs from the reference:\n  " + "\n  ".join(problems) + (
        f"\noperation: {text}\nvariables: {executor.variable_values.coerced!r}")
    MISMATCHES.append(message)
    log.error("%s", message)
    raise ExecutionMismatch(message)


class DiffExecutor(FastExecutor):
    """FastExecutor that executes each operation the reference way too and compares."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        if not self.fast_path:  # an extension's resolve hook: there is no fast run to compare
            return super().execute_operation(serially)
        recording = _Recording()
        reference = copy(self)
        reference.fast_path = False
        reference.collected_errors = CollectedErrors()
        reference._relevant_sub_fields = {}
        reference._stream_usages = RefMap()
        reference._plans = {}
        reference.middleware_manager = MiddlewareManager(_Middleware(recording.record))
        self.middleware_manager = MiddlewareManager(_Middleware(recording.replay))
        execute = super().execute_operation

        def run(executor: Callable[[bool | None], Any]) -> Any:
            try:
                return executor(serially)
            except Exception as error:  # compared like a result
                return error

        def fast_run() -> Any:
            return run(execute)

        expected = run(super(DiffExecutor, reference).execute_operation)
        if self.is_awaitable(expected):
            async def later() -> Any:
                try:
                    settled = await expected
                except Exception as error:
                    settled = error
                actual = fast_run()
                if self.is_awaitable(actual):
                    try:
                        actual = await actual
                    except Exception as error:
                        actual = error
                return self._compare(recording, settled, actual)

            return later()
        actual = fast_run()
        if self.is_awaitable(actual):
            recording.problems.append("the fast run was asynchronous, the reference was not")

            async def settle() -> Any:
                return self._compare(recording, expected, await actual)

            return settle()
        return self._compare(recording, expected, actual)

    def _compare(self, recording: _Recording, expected: Any, actual: Any) -> Any:
        STATS["operations"] += 1
        STATS["fields"] += len(recording.outcomes)
        STATS["ordinary_fields"] += len(recording.replayed)
        problems = list(recording.problems)
        # A resolver under a value an error nulled may or may not have been called by then
        # (siblings race the failing field): only those under values in the result count.
        data = actual.data if isinstance(actual, ExecutionResult) else None
        skipped = {key for key in set(recording.outcomes) - recording.replayed - recording.plain
                   if _reaches(data, key[:-1])}
        if skipped:
            paths = [list(k) for k in sorted(skipped, key=repr)]
            problems.append(f"the fast run skipped the resolvers at {paths}")
        want, got = _canonical(expected), _canonical(actual)
        if want != got and _raced(recording, expected, actual):
            STATS["raced"] += 1
        elif want != got:
            problems.append(f"reference: {want}")
            problems.append(f"fast path: {got}")
        if problems:
            _report(self, problems)
        if isinstance(actual, BaseException):
            raise actual
        return actual


__all__ = ["MISMATCHES", "STATS", "DiffExecutor", "ExecutionMismatch"]
