"""Operations already parsed and validated, executed without Strawberry's per-operation steps.

`Schema.execute` in Strawberry runs every request through its extension runner: it makes the
extension instances, an execution context, and enters each extension's operation, parsing,
validation and execution hooks in turn, even when every answer is already cached (the parser
cache, the validation cache). For a storefront's handful of distinct operations that is
~0.1-0.2 ms a request of pure bookkeeping.

The first execution of an operation (its text and operation name) takes that ordinary path,
and `RememberPrepared`, whose `on_execute` is entered only once parsing, the token limit and
validation with every rule (depth, aliases, introspection) have passed, records its document
and operation type. Later executions of the same text go straight to graphql-core's `execute`
with the same document, executor class and arguments Strawberry would pass, and do by hand the
execution-time work of the extensions that have any: `OperationScope` (begin and end the
operation on the context) and `ErrorPolicy` (codes and masking of the result's errors). Every
other extension of the schema only parses or validates, and those outcomes depend on the text
alone. `PreparedOperations.for_extensions` refuses (returns None) for an extension set with any
other member, so an extension added later cannot be skipped silently.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, execute
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType

from graphql_api.core.error_policy import ErrorPolicy, policed
from graphql_api.core.operation_scope import OperationScope, operation_scope
from graphql_api.core.validation_cache import DocumentValidationCache

# Extensions whose hooks are all at parse or validation time: deterministic in the text.
_PARSE_OR_VALIDATE = (MaxTokensLimiter, ParserCache, AddValidationRules, DocumentValidationCache,
                      DisableIntrospection, QueryDepthLimiter, MaxAliasesLimiter)
_PREPARABLE = frozenset({OperationType.QUERY, OperationType.MUTATION})


@dataclass(frozen=True, slots=True)
class Prepared:
    document: DocumentNode
    operation_type: OperationType
    # The name Strawberry executes with: the provided one, else the first operation's.
    operation_name: str | None


class PreparedOperations:
    """The operations that passed parsing and validation, by (text, operation name): an LRU."""

    def __init__(self, maxsize: int, hide_suggestions: bool) -> None:
        self.maxsize = maxsize
        self.hide_suggestions = hide_suggestions
        self._entries: OrderedDict[tuple[str, str | None], Prepared] = OrderedDict()

    @classmethod
    def for_extensions(cls, extensions: Iterable[Callable[[], SchemaExtension]], maxsize: int
                       ) -> PreparedOperations | None:
        """A cache for this extension set, or None if one of them hooks execution in a way the
        prepared path does not reproduce (only OperationScope and ErrorPolicy may)."""
        hide_suggestions = False
        policies = 0
        for factory in extensions:
            extension = factory()
            if type(extension) is ErrorPolicy:
                hide_suggestions = extension.hide_suggestions
                policies += 1
            elif type(extension) is not OperationScope and not isinstance(
                    extension, _PARSE_OR_VALIDATE):
                return None
            if extension._implements_resolve():
                return None
        return cls(maxsize, hide_suggestions) if policies == 1 else None

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str | None, operation_name: str | None) -> Prepared | None:
        if query is None:
            return None
        key = (query, operation_name)
        prepared = self._entries.get(key)
        if prepared is not None:
            self._entries.move_to_end(key)
        return prepared

    def remember(self, query: str | None, provided_name: str | None, prepared: Prepared) -> None:
        if query is None or prepared.operation_type not in _PREPARABLE:
            return
        self._entries[(query, provided_name)] = prepared
        self._entries.move_to_end((query, provided_name))
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)

    def extension(self) -> RememberPrepared:
        return RememberPrepared(self)

    async def execute(self, schema: GraphQLSchema, prepared: Prepared, executor_class: Any,
                      variable_values: dict[str, Any] | None, context: Any) -> ExecutionResult:
        """What Strawberry's `execute` returns for this operation, by graphql-core directly."""
        with operation_scope(context):
            try:
                outcome = execute(schema, prepared.document, root_value=None,
                                  context_value=context, variable_values=variable_values,
                                  operation_name=prepared.operation_name,
                                  executor_class=executor_class,
                                  is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                                  operation_extensions=None)
                result = await outcome if isinstance(outcome, Awaitable) else outcome
                data, errors = result.data, result.errors
            except GraphQLError as error:
                data, errors = None, [error]
            except Exception as exc:
                data, errors = None, [GraphQLError(str(exc), original_error=exc)]
            if errors:
                request_id = getattr(context, "request_id", None)
                errors[:] = [policed(e, hide_suggestions=self.hide_suggestions,
                                     request_id=request_id) for e in errors]
            return ExecutionResult(data=data, errors=errors, extensions={})


class RememberPrepared(SchemaExtension):
    """Records each operation that reaches execution (so passed every check) as prepared."""

    def __init__(self, operations: PreparedOperations) -> None:
        self.operations = operations

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is not None:
            # The name as the request gave it: the key a later request looks up.
            provided = ctx._provided_operation_name  # Strawberry keeps no public one
            self.operations.remember(ctx.query, provided, Prepared(
                ctx.graphql_document, ctx.operation_type, ctx.operation_name))
        yield
