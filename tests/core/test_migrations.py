"""The migration history builds exactly the tables the models describe, on either database."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from graphql_api.core.metadata import metadata
from graphql_api.core.resources import Resources
from graphql_api.search.database import include_name


async def test_migrations_match_the_models(resources: Resources) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                             "include_name": include_name})
        return list(compare_metadata(context, metadata))

    async with resources.db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == [], "models and migrations differ: add a migration"
