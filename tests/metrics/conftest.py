"""Metrics tests start from empty sales tables: each module reads totals over all time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from graphql_api.cli import main
from graphql_api.core.resources import Resources
from graphql_api.core.settings import get_settings
from graphql_api.metrics import ledger

TABLES = [ledger.lines_table, ledger.daily_table, ledger.product_month_table,
          ledger.product_year_table, ledger.country_product_year_table,
          ledger.products_table, ledger.daily_country_table,
          ledger.orders_table, ledger.customers_table]


async def clear_sales(resources: Resources) -> None:
    async with resources.db.engine.begin() as conn:
        for table in TABLES:
            await conn.execute(delete(table))
        await ledger.bump_version(conn)  # cached metrics of the old facts are gone too


@pytest.fixture
def embedded_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line on a fresh embedded database of its own (not the run's services), with
    the schema migrated: the commands read the environment set here."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    for name in ("DATABASE_URL", "REDIS_URL", "ELASTICSEARCH_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        assert main(["migrate"]) == 0
        yield
    finally:
        get_settings.cache_clear()
