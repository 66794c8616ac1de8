"""Metrics tests start from empty sales tables: each module reads totals over all time."""

from __future__ import annotations

from sqlalchemy import delete

from graphql_api.core.resources import Resources
from graphql_api.metrics import ledger

TABLES = [ledger.lines_table, ledger.daily_table, ledger.product_month_table,
          ledger.product_year_table, ledger.products_table, ledger.daily_country_table,
          ledger.orders_table, ledger.customers_table]


async def clear_sales(resources: Resources) -> None:
    async with resources.db.engine.begin() as conn:
        for table in TABLES:
            await conn.execute(delete(table))
        await ledger.bump_version(conn)  # cached metrics of the old facts are gone too
