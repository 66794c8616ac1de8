"""Validation results by the parsed document's identity.

Strawberry's ValidationCache is an `lru_cache` over (schema, document, rules): every lookup
hashes the document, and graphql-core's AST nodes are frozen dataclasses whose hash walks the
whole tree, on every request, hit or miss (~0.2 ms for a mutation of 25 aliased fields, more
than validating some small documents). The parser cache hands out the same document object for
the same text, so its identity is the key: a document the parser cache has since dropped is
parsed into a new object and validated again, never confused with another, because each entry
keeps its document alive and is checked against it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

Key = tuple[int, int, tuple[Any, ...]]


class ValidationResults:
    """The errors of each validated (schema, document, rules), least recently used out beyond
    `maxsize`."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[Key, tuple[Any, DocumentNode, list[GraphQLError]]] = (
            OrderedDict())

    def errors(self, schema: Any, document: DocumentNode, rules: tuple[Any, ...]
               ) -> list[GraphQLError]:
        key = (id(schema), id(document), rules)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is schema and entry[1] is document:
            self._entries.move_to_end(key)
            return list(entry[2])  # the caller's own list: error handling may edit it
        errors = validate_document(schema, document, rules)
        self._entries[key] = (schema, document, errors)
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return list(errors)

    def __len__(self) -> int:
        return len(self._entries)


class DocumentValidationCache(SchemaExtension):
    """Strawberry's ValidationCache, keyed by identity (see the module's docstring)."""

    def __init__(self, results: ValidationResults) -> None:
        super().__init__()
        self.results = results

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = self.results.errors(
            context.schema._schema, context.graphql_document, context.validation_rules)
        yield
