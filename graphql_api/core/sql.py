"""SQL helpers shared by the domains' services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite


def escape_like(term: str) -> str:
    """`term` matched literally inside a LIKE pattern (with `escape="\\"`)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def insert_ignoring_conflicts(table: Table, dialect: str, **values: Any) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING, on SQLite or PostgreSQL: a get-or-create that two
    concurrent callers cannot both fail."""
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).values(**values).on_conflict_do_nothing()
