"""The warm-up job fills the dashboard's default views: after it, the first admin to read them
gets cache hits (no rollup is read), and a new sale retires them until the next warm-up."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from graphql_api.core.models import utcnow
from graphql_api.core.resources import Resources
from graphql_api.metrics import ledger
from graphql_api.metrics.dashboard import recent
from tests.metrics.conftest import clear_sales
from workers.functions import warm_cache

DASHBOARD = """query($from: DateTime, $to: DateTime) {
  adminStats { revenueToday { amount } }
  metrics {
    all: kpis { revenue { amount } orders customers }
    recent: kpis(range: {from: $from, to: $to}) { revenue { amount } previous { revenue { amount } } }
    series(metric: REVENUE, granularity: MONTH) { periodStart value }
    orders: series(metric: ORDERS, granularity: DAY, range: {from: $from, to: $to}) { value }
    topCountries(by: REVENUE, limit: 5) { country share }
    countries: topCountries { country }
    topProducts { stockCode } } }"""


def _line(days_ago: int, invoice: str, country: str) -> ledger.NewLine:
    return ledger.NewLine(
        source="import", invoice=invoice, stock_code="WARM-1", description="warm item",
        quantity=2, unit_price=Decimal("4.50"), invoice_date=utcnow() - timedelta(days=days_ago),
        customer_id="w1", country=country, is_return=False)


async def _record(resources: Resources, lines: list[ledger.NewLine]) -> None:
    async with resources.db.engine.begin() as conn:
        await ledger.record(conn, lines)


async def _dashboard(gql: Any, admin_token: str, count_statements: Any) -> tuple[Any, list[str]]:
    last, _ = recent()
    variables = {"from": f"{last.start}T00:00:00Z", "to": f"{last.end}T00:00:00Z"}
    with count_statements() as counter:
        data = await gql.data(DASHBOARD, variables, admin_token)
    return data, [s for s in counter.statements if "sales_" in s]


async def test_first_read_after_warming_is_a_hit(gql: Any, admin_token: str, resources: Resources,
                                                 count_statements: Any) -> None:
    await clear_sales(resources)
    await _record(resources, [_line(0, "W1", "France"), _line(3, "W2", "Japan"),
                              _line(45, "W3", "France"), _line(400, "W4", "Peru")])
    filled = await warm_cache({"resources": resources})
    assert filled["dashboard_views"] > 0

    data, sales_reads = await _dashboard(gql, admin_token, count_statements)
    # One statement per view reads the sales version (the cache key); none reads a rollup.
    assert sales_reads and all("sales_version" in s for s in sales_reads), sales_reads
    assert data["adminStats"]["revenueToday"] == {"amount": "9.00"}
    assert data["metrics"]["all"]["orders"] == 4
    assert data["metrics"]["recent"]["revenue"] == {"amount": "18.00"}
    assert data["metrics"]["recent"]["previous"]["revenue"] == {"amount": "9.00"}

    again = await warm_cache({"resources": resources})
    assert (again["dashboard_views"], again["dashboard_already_warm"]) == (
        0, filled["dashboard_views"])

    await _record(resources, [_line(0, "W5", "Peru")])  # a new sale: a new sales version
    data, sales_reads = await _dashboard(gql, admin_token, count_statements)
    assert any("sales_version" not in s for s in sales_reads)  # read from the rollups again
    assert data["adminStats"]["revenueToday"] == {"amount": "18.00"}
    # That read filled what it asked for; the warm-up fills the other default views.
    assert 0 < (await warm_cache({"resources": resources}))["dashboard_views"] < filled[
        "dashboard_views"]
    _, sales_reads = await _dashboard(gql, admin_token, count_statements)
    assert all("sales_version" in s for s in sales_reads)
