"""Orders feed the facts: paid lines are sales, a refund or cancellation after payment returns
them, and a cancellation before payment leaves no trace."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from graphql_api.core.models import utcnow
from graphql_api.core.resources import Resources
from tests.conftest import make_user
from tests.metrics.conftest import clear_sales
from tests.shop import buy, move, new_product

TODAY = """query($range: DateRange) { metrics { kpis(range: $range, country: "United Kingdom") {
  revenue { amount } grossSales { amount } returns { amount } orders unitsSold customers } } }"""
LINES = """query($invoice: String) { metrics { transactions(filter: {invoice: $invoice}) {
  totalCount nodes { source stockCode quantity unitPrice { amount } isReturn customerId
  country } } } }"""


async def _today(gql: Any, admin_token: str) -> dict[str, Any]:
    day = utcnow().date()
    span = {"from": f"{day}T00:00:00Z", "to": f"{day + timedelta(days=1)}T00:00:00Z"}
    return (await gql.data(TODAY, {"range": span}, admin_token))["metrics"]["kpis"]  # type: ignore[no-any-return]


async def _lines(gql: Any, admin_token: str, invoice: str) -> list[dict[str, Any]]:
    data = await gql.data(LINES, {"invoice": invoice}, admin_token)
    return data["metrics"]["transactions"]["nodes"]  # type: ignore[no-any-return]


async def test_paid_then_refunded(gql: Any, admin_token: str, resources: Resources) -> None:
    await clear_sales(resources)
    product = await new_product(gql, admin_token, stock=50, price="12.50", discount=20)
    user_id, _, token = await make_user(resources)
    order = await buy(gql, token, product, quantity=3)
    assert await _lines(gql, admin_token, order["number"]) == []  # PENDING: not a sale yet
    await move(gql, admin_token, order["id"], "PAID")
    sale = await _lines(gql, admin_token, order["number"])
    assert sale == [{"source": "ORDER", "stockCode": order["lines"][0]["sku"], "quantity": 3,
                     "unitPrice": {"amount": "10.00"}, "isReturn": False,
                     "customerId": f"user:{user_id}", "country": "United Kingdom"}]
    kpis = await _today(gql, admin_token)
    assert kpis == {"revenue": {"amount": "30.00"}, "grossSales": {"amount": "30.00"},
                    "returns": {"amount": "0.00"}, "orders": 1, "unitsSold": 3, "customers": 1}

    await move(gql, admin_token, order["id"], "SHIPPED")  # no new facts
    assert len(await _lines(gql, admin_token, order["number"])) == 1
    await move(gql, admin_token, order["id"], "DELIVERED", "REFUNDED")
    back = await _lines(gql, admin_token, "C" + order["number"])
    assert [(x["quantity"], x["isReturn"]) for x in back] == [(3, True)]
    kpis = await _today(gql, admin_token)
    assert kpis["revenue"] == {"amount": "0.00"} and kpis["returns"] == {"amount": "30.00"}
    assert (kpis["orders"], kpis["unitsSold"], kpis["customers"]) == (1, 3, 1)


async def test_cancelled_after_and_before_payment(gql: Any, admin_token: str,
                                                  resources: Resources) -> None:
    await clear_sales(resources)
    product = await new_product(gql, admin_token, stock=50, price="4.99")
    _, _, token = await make_user(resources)
    paid = await buy(gql, token, product, quantity=2)
    await move(gql, admin_token, paid["id"], "PAID", "CANCELLED")
    unpaid = await buy(gql, token, product, quantity=5)
    await move(gql, admin_token, unpaid["id"], "CANCELLED")
    assert await _lines(gql, admin_token, unpaid["number"]) == []
    assert await _lines(gql, admin_token, "C" + unpaid["number"]) == []
    kpis = await _today(gql, admin_token)
    assert Decimal(kpis["grossSales"]["amount"]) == Decimal("9.98")
    assert Decimal(kpis["revenue"]["amount"]) == 0
    assert kpis["orders"] == 1


async def test_answers_are_cached_until_a_new_sale(gql: Any, admin_token: str,
                                                   resources: Resources,
                                                   count_statements: Any) -> None:
    await clear_sales(resources)
    product = await new_product(gql, admin_token, stock=50, price="2.00")
    _, _, token = await make_user(resources)
    first = await buy(gql, token, product)
    await move(gql, admin_token, first["id"], "PAID")
    assert (await _today(gql, admin_token))["orders"] == 1
    with count_statements() as counter:
        assert (await _today(gql, admin_token))["orders"] == 1
    # The caller's role and the sales version: the KPIs themselves come from the cache.
    sales = [s for s in counter.statements if "sales_" in s]
    assert len(sales) == 1 and "sales_version" in sales[0]
    second = await buy(gql, token, product)
    await move(gql, admin_token, second["id"], "PAID")  # a new sale retires the cached answer
    assert (await _today(gql, admin_token))["orders"] == 2
