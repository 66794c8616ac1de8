"""Alembic environment: one history for SQLite and PostgreSQL, run through the app's async engine."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import TypeDecorator
from sqlalchemy.engine import Connection

from graphql_api.core.database import create_engine
from graphql_api.core.metadata import metadata
from graphql_api.core.settings import get_settings
from graphql_api.search.database import include_name

config = context.config


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our TypeDecorators as their plain SQLAlchemy type: migrations must not import the app."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite can only ALTER tables by copying them
        compare_type=True,
        render_item=_render_item,
        include_name=include_name,  # the search index's triggers keep objects the models lack
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(get_settings())
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=get_settings().effective_database_url, target_metadata=metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
elif (connection := config.attributes.get("connection")) is not None:
    _run(connection)  # called by graphql_api.core.migrate inside the app's event loop
else:
    asyncio.run(_run_online())
