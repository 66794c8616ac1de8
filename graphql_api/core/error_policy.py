"""Gives every GraphQL error an `extensions.code`, and masks unexpected ones after logging them."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

from graphql_api.core.errors import QueryTooComplex

log = logging.getLogger("graphql_api.errors")

_LIMIT_MARKERS = ("exceeds maximum operation depth", "aliases found. Allowed",
                  "Document contains more than", "maximum allowed")


def _code_for_unexpected(error: GraphQLError) -> str | None:
    """The code of an error raised by GraphQL itself (parse, validation, coercion), else None."""
    if error.original_error is None:
        if any(marker in error.message for marker in _LIMIT_MARKERS):
            return QueryTooComplex.code
        if error.message.startswith("Syntax Error"):
            return "GRAPHQL_PARSE_FAILED"
        if error.path is None:
            return "GRAPHQL_VALIDATION_FAILED"
        return "BAD_USER_INPUT"
    if type(error.original_error) is GraphQLError:
        return "BAD_USER_INPUT"  # graphql-core 3.3 wraps a variable's coercion failure like this
    return None


_SUGGESTION = re.compile(r" Did you mean .*\?$")


class ErrorPolicy(SchemaExtension):
    def __init__(self, hide_suggestions: bool = False) -> None:
        # With introspection off, "Did you mean ...?" would leak the schema field by field.
        self.hide_suggestions = hide_suggestions

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError as error:
            # Raised by an on_parse hook (ParserCache, MaxTokensLimiter): Strawberry builds the
            # result from it only after this hook has exited, so it gets its code here.
            raise self._process(error) from None
        result = self.execution_context.result
        if isinstance(result, (GraphQLExecutionResult, ExecutionResult)) and result.errors:
            result.errors[:] = [self._process(e) for e in result.errors]
        pre = self.execution_context.pre_execution_errors
        if pre:
            # In place: a parse failure's result shares this very list.
            pre[:] = [self._process(e) for e in pre]

    def _process(self, error: GraphQLError) -> GraphQLError:
        return policed(error, hide_suggestions=self.hide_suggestions,
                       request_id=getattr(self.execution_context.context, "request_id", None))


def policed(error: GraphQLError, *, hide_suggestions: bool, request_id: str | None) -> GraphQLError:
    """The error as a client may see it: with its code, or masked (and logged) if unexpected."""
    if error.extensions and "code" in error.extensions and (
        error.extensions["code"] != "GRAPHQL_VALIDATION_FAILED"
    ):
        return error
    original = error.original_error
    if isinstance(original, GraphQLError) and (original.extensions or {}).get("code"):
        return GraphQLError(error.message, error.nodes, error.source, error.positions,
                            error.path, original, extensions=original.extensions)
    code = _code_for_unexpected(error)
    if code is not None:
        # In place: a parse failure's result holds this very error object.
        error.extensions = {**(error.extensions or {}), "code": code}
        if hide_suggestions:
            error.message = _SUGGESTION.sub("", error.message)
        return error
    log.error("unexpected error (request %s) at %s", request_id, error.path,
              exc_info=original)
    return GraphQLError(
        "Internal server error.",
        error.nodes,
        error.source,
        error.positions,
        error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )
