"""Every product sort is served by an index in sort order: no page sorts the whole table."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from graphql_api.catalog import service
from graphql_api.core.pagination import PageArgs, keyset_statement


@pytest.mark.parametrize("field", list(service.SortField))
@pytest.mark.parametrize("descending", [False, True])
async def test_product_pages_walk_an_index(resources: Any, field: service.SortField,
                                           descending: bool) -> None:
    sort = service.ProductSort(field, descending)
    stmt = keyset_statement(service.live_products(), sort.key(), PageArgs(first=20))
    async with resources.db.read() as conn:
        sql = str(stmt.compile(conn.sync_connection, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "postgresql":
            # With sorting priced out, a plan still sorting means no index has the order.
            await conn.execute(text("ANALYZE product"))
            await conn.execute(text("SET enable_sort = off"))
            try:
                plan = "\n".join(r[0] for r in await conn.execute(text(f"EXPLAIN {sql}")))
            finally:
                await conn.execute(text("RESET enable_sort"))
            assert "Sort" not in plan and "Index" in plan, plan
        else:
            rows = await conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
            plan = "\n".join(str(r[-1]) for r in rows)
            assert "TEMP B-TREE" not in plan and "INDEX" in plan, plan
