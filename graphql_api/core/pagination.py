"""Relay connections over keyset pagination: page cost does not grow with the page's depth."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import Integer, Select, and_, bindparam, or_
from sqlalchemy.sql.elements import ColumnElement

from graphql_api.core.errors import BadUserInput

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    page: strawberry.Private[Page[Any]]

    @strawberry.field
    def start_cursor(self) -> str | None:
        return self.page.cursor_of(self.page.rows[0]) if self.page.rows else None

    @strawberry.field
    def end_cursor(self) -> str | None:
        return self.page.cursor_of(self.page.rows[-1]) if self.page.rows else None


@strawberry.type
class Edge(Generic[T]):
    node: T
    row: strawberry.Private[Any]
    cursor_of: strawberry.Private[Callable[[Any], str]]

    @strawberry.field(description="Opaque; computed only when asked for.")
    def cursor(self) -> str:
        return self.cursor_of(self.row)


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count_total: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of items matching the filter, across all pages.")
    async def total_count(self) -> int:
        return await self.count_total()

    @strawberry.field(description="The nodes of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


@dataclass(frozen=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def validated(self, max_size: int) -> PageArgs:
        if self.first is not None and self.last is not None:
            raise BadUserInput("Pass either `first` or `last`, not both.")
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and not 0 <= value <= max_size:
                raise BadUserInput(f"`{name}` must be between 0 and {max_size}.", field=name)
        if self.first is None and self.last is None:
            return PageArgs(DEFAULT_PAGE_SIZE, self.after, None, self.before)
        return self

    @property
    def backwards(self) -> bool:
        return self.last is not None

    @property
    def size(self) -> int:
        return self.last if self.last is not None else (self.first or 0)


CursorType = type[int] | type[str] | type[Decimal] | type[datetime]


@dataclass(frozen=True)
class KeyColumn:
    """One column of an ordering and the type its cursor values have.

    The type is declared by the sort, not read from the column: a column's SQL type does not
    reliably name a Python type (a TypeDecorator may report `object`), and a cursor must decode
    to exactly what the comparison binds.
    """

    column: Any  # a column expression
    type: CursorType


@dataclass(frozen=True)
class SortKey:
    """An ordering: columns (each non-null) with the table's unique id as the last one."""

    columns: Sequence[KeyColumn]
    descending: bool


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [str(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, datetime) else v
             for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str, key: SortKey) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != len(key.columns):
            raise ValueError
        return [_coerce(part.type, v) for part, v in zip(key.columns, values, strict=True)]
    except (ValueError, TypeError, ArithmeticError, RecursionError):
        raise BadUserInput("Invalid cursor.") from None


MAX_INT = 2**31 - 1  # integer sort keys (ids, stock) are INTEGER columns


def _coerce(expected: CursorType, value: Any) -> Any:
    """The cursor's value as the key's type; anything else is a forged cursor (ValueError)."""
    if expected is Decimal and isinstance(value, str):
        amount = Decimal(value)
        if amount.is_finite():
            return amount
    elif expected is datetime and isinstance(value, str):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:  # we only ever write aware UTC times
            return moment
    elif expected is int and isinstance(value, int) and not isinstance(value, bool):
        if -MAX_INT <= value <= MAX_INT:
            return value
    elif expected is str and isinstance(value, str):
        return value
    raise ValueError(value)


def _after(key: SortKey, values: list[Any], forward: bool) -> ColumnElement[bool]:
    """Rows strictly after `values` in the walk's direction (a row-value comparison, spelt out)."""
    greater = forward != key.descending
    clauses = []
    columns = [part.column for part in key.columns]
    for i, column in enumerate(columns):
        equal_prefix = [c == v for c, v in zip(columns[:i], values[:i], strict=True)]
        step = column > values[i] if greater else column < values[i]
        clauses.append(and_(*equal_prefix, step))
    return or_(*clauses)


def _order(key: SortKey, forward: bool) -> list[Any]:
    ascending = forward != key.descending
    return [p.column.asc() if ascending else p.column.desc() for p in key.columns]


@dataclass
class Page(Generic[T]):
    rows: list[T]
    cursor_of: Callable[[T], str]
    has_next: bool
    has_previous: bool


def keyset_statement(stmt: Select[Any], key: SortKey, page: PageArgs) -> Select[Any]:
    forward = not page.backwards
    cursor = page.before if page.backwards else page.after
    if cursor is not None:
        stmt = stmt.where(_after(key, decode_cursor(cursor, key), forward))
    return stmt.order_by(*_order(key, forward)).limit(page.size + 1)


def keyset_template(stmt: Select[Any], key: SortKey, page: PageArgs) -> Select[Any]:
    """`keyset_statement` with the cursor's values and the limit as named parameters
    (`keyset_params` gives them): one statement per shape (the key, the direction, whether there
    is a cursor), which a caller can build once and reuse, so that neither the statement nor
    SQLAlchemy's cache key of it is made again for every page."""
    forward = not page.backwards
    cursor = page.before if page.backwards else page.after
    if cursor is not None:
        values = [bindparam(f"keyset_{i}", type_=part.column.type)
                  for i, part in enumerate(key.columns)]
        stmt = stmt.where(_after(key, values, forward))
    return stmt.order_by(*_order(key, forward)).limit(bindparam("keyset_limit", type_=Integer))


def keyset_shape(page: PageArgs) -> tuple[bool, bool]:
    """What of a page changes `keyset_template`'s statement (with the key itself)."""
    return page.backwards, (page.before if page.backwards else page.after) is not None


def keyset_params(key: SortKey, page: PageArgs) -> dict[str, Any]:
    """The parameters of `keyset_template`'s statement for this page (a forged cursor raises
    BadUserInput, as for `keyset_statement`)."""
    params: dict[str, Any] = {"keyset_limit": page.size + 1}
    cursor = page.before if page.backwards else page.after
    if cursor is not None:
        for i, value in enumerate(decode_cursor(cursor, key)):
            params[f"keyset_{i}"] = value
    return params


def cursor_function(cursor_values: Callable[[T], Sequence[Any]]) -> Callable[[T], str]:
    return lambda row: encode_cursor(cursor_values(row))


def build_page(
    rows: Sequence[T], page: PageArgs, cursor_values: Callable[[T], Sequence[Any]]
) -> Page[T]:
    """Turns the rows of `keyset_statement` (one extra row tells whether more exist) into a page."""
    more = len(rows) > page.size
    items = list(rows[: page.size])
    if page.backwards:
        items.reverse()
        has_next, has_previous = page.before is not None, more
    else:
        has_next, has_previous = more, page.after is not None
    return Page(items, cursor_function(cursor_values), has_next, has_previous)


def to_connection(
    page: Page[Any], node: Callable[[Any], T], count_total: Callable[[], Awaitable[int]]
) -> Connection[T]:
    return Connection(
        edges=[Edge(node=node(r), row=r, cursor_of=page.cursor_of) for r in page.rows],
        page_info=PageInfo(
            has_next_page=page.has_next, has_previous_page=page.has_previous, page=page
        ),
        count_total=count_total,
    )
