"""The span of one GraphQL operation on its context: begun fresh, and what it held given back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from strawberry.extensions import SchemaExtension


@contextmanager
def operation_scope(context: Any) -> Iterator[None]:
    """Each operation starts from a fresh view of the caller and the catalog, and gives back
    what it held as it ends (see Context.begin_operation / end_operation)."""
    begin = getattr(context, "begin_operation", None)
    if begin is not None:
        begin()
    try:
        yield
    finally:
        end = getattr(context, "end_operation", None)
        if end is not None:
            end()


class OperationScope(SchemaExtension):
    """`operation_scope` around every operation Strawberry runs."""

    def on_operation(self) -> Iterator[None]:
        with operation_scope(self.execution_context.context):
            yield
