"""SQL helpers shared by the domains' services."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Insert, Select, Table
from sqlalchemy.dialects import postgresql, sqlite


def escape_like(term: str) -> str:
    """`term` matched literally inside a LIKE pattern (with `escape="\\"`)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def insert_ignoring_conflicts(table: Table, dialect: str, **values: Any) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING, on SQLite or PostgreSQL: a get-or-create that two
    concurrent callers cannot both fail."""
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).values(**values).on_conflict_do_nothing()


# Statements by shape: a hot read's statement (and so SQLAlchemy's cache key of it, memoized on
# the object) is built once for each shape it can take, its values passed as named parameters.
_SHAPED: OrderedDict[tuple[Any, ...], Select[Any]] = OrderedDict()
_MAX_SHAPED = 512


def shaped_statement(shape: tuple[Any, ...], build: Callable[[], Select[Any]]) -> Select[Any]:
    """The statement made by `build` for `shape` (a hashable description of everything that
    changes its SQL, the caller's name first), built on its first use."""
    stmt = _SHAPED.get(shape)
    if stmt is None:
        stmt = _SHAPED[shape] = build()
        if len(_SHAPED) > _MAX_SHAPED:
            _SHAPED.popitem(last=False)
    return stmt
