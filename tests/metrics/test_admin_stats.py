"""`adminStats`: admins only, every figure against a direct count, today's revenue from the
sales facts, and lists whose SQL does not grow with `first`."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from graphql_api.accounts.models import User
from graphql_api.catalog.models import Product
from graphql_api.core.models import utcnow
from graphql_api.core.resources import Resources
from graphql_api.metrics import ledger
from graphql_api.orders.models import Order
from tests.conftest import make_user
from tests.metrics.conftest import clear_sales
from tests.shop import buy, move, new_product

COUNTS = "{ adminStats { users products ordersByStatus { status count } revenueToday { amount currency } } }"
LISTS = """query($first: Int!, $threshold: Int!) { adminStats {
  recentOrders(first: $first) { id number status total { amount } lines { sku quantity product { id stock } }
    customer { email } statusHistory { status } }
  lowStock(threshold: $threshold, first: $first) { id sku stock inStock category { name } } } }"""

_users = User.__table__  # type: ignore[attr-defined]
_products = Product.__table__  # type: ignore[attr-defined]
_orders = Order.__table__  # type: ignore[attr-defined]


async def test_guests_and_customers_are_refused(gql: Any, customer_token: str) -> None:
    for token, code in [(None, "UNAUTHENTICATED"), (customer_token, "FORBIDDEN")]:
        body = await gql(COUNTS, token=token)
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]
        body = await gql(LISTS, {"first": 1, "threshold": 1}, token=token)
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]


def _sale(day_offset: int, quantity: int, price: str, is_return: bool = False) -> ledger.NewLine:
    moment = utcnow() + timedelta(days=day_offset)
    return ledger.NewLine(
        source="import", invoice=f"{'C' if is_return else ''}AS{day_offset}{quantity}",
        stock_code="AS-1", description="admin stats item", quantity=quantity,
        unit_price=Decimal(price), invoice_date=moment, customer_id=None, country="France",
        is_return=is_return)


async def test_counts_and_revenue_today(gql: Any, admin_token: str, resources: Resources) -> None:
    await clear_sales(resources)
    product = await new_product(gql, admin_token, stock=40, price="8.00")
    _, _, token = await make_user(resources)
    paid = await buy(gql, token, product, quantity=2)
    await move(gql, admin_token, paid["id"], "PAID")  # 16.00 of sales, today
    await buy(gql, token, product)  # PENDING: not a sale
    async with resources.db.engine.begin() as conn:
        await ledger.record(conn, [_sale(0, 3, "1.25"), _sale(0, 1, "0.50", is_return=True),
                                   _sale(-1, 100, "9.99"), _sale(1, 100, "9.99")])

    stats = (await gql.data(COUNTS, token=admin_token))["adminStats"]
    async with resources.db.read() as conn:
        users = (await conn.execute(select(func.count()).select_from(_users)
                                    .where(_users.c.is_active.is_(True)))).scalar_one()
        products = (await conn.execute(select(func.count()).select_from(_products)
                                       .where(_products.c.deleted_at.is_(None)))).scalar_one()
        by_status = dict((await conn.execute(select(_orders.c.status, func.count())
                                             .group_by(_orders.c.status))).all())
    assert stats["users"] == users > 0
    assert stats["products"] == products > 0
    assert [s["status"] for s in stats["ordersByStatus"]] == [
        "PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED", "REFUNDED"]
    assert {s["status"]: s["count"] for s in stats["ordersByStatus"]} == {
        s: by_status.get(s, 0) for s in ("PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED",
                                          "REFUNDED")}
    # 16.00 paid + 3 x 1.25 imported - 0.50 returned; yesterday's and tomorrow's lines are not today's.
    assert stats["revenueToday"] == {"amount": "19.25", "currency": "USD"}

    await move(gql, admin_token, paid["id"], "REFUNDED")  # a return today: the cache retires
    again = (await gql.data(COUNTS, token=admin_token))["adminStats"]
    assert again["revenueToday"]["amount"] == "3.25"
    paid_now = {s["status"]: s["count"] for s in again["ordersByStatus"]}
    assert paid_now["REFUNDED"] == by_status.get("REFUNDED", 0) + 1


async def test_lists(gql: Any, admin_token: str, resources: Resources) -> None:
    product = await new_product(gql, admin_token, stock=30, price="3.00")
    _, email, token = await make_user(resources)
    for _ in range(3):
        await buy(gql, token, product)
    await new_product(gql, admin_token, stock=0, name="Sold out item")
    await new_product(gql, admin_token, stock=1, name="Last one")
    data = (await gql.data(LISTS, {"first": 3, "threshold": 1}, admin_token))["adminStats"]
    newest = (await gql.data("{ orders(first: 3) { nodes { id } } }", token=admin_token))["orders"]
    assert [o["id"] for o in data["recentOrders"]] == [o["id"] for o in newest["nodes"]]
    assert all(o["customer"]["email"] == email and o["lines"][0]["quantity"] == 1
               for o in data["recentOrders"])
    async with resources.db.read() as conn:
        low = (await conn.execute(
            select(_products.c.sku, _products.c.stock)
            .where(_products.c.deleted_at.is_(None), _products.c.stock <= 1)
            .order_by(_products.c.stock, _products.c.id).limit(3))).all()
    assert [(p["sku"], p["stock"]) for p in data["lowStock"]] == [tuple(r) for r in low]
    assert data["lowStock"][0]["inStock"] is False

    for first, threshold in [(0, 1), (101, 1), (1, -1)]:
        body = await gql(LISTS, {"first": first, "threshold": threshold}, admin_token)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_statements_do_not_grow_with_first(gql: Any, admin_token: str, resources: Resources,
                                                 count_statements: Any) -> None:
    product = await new_product(gql, admin_token, stock=50, price="2.00")
    _, _, token = await make_user(resources)
    for _ in range(8):
        await buy(gql, token, product)
    for stock in range(8):
        await new_product(gql, admin_token, stock=stock, name="Low stock item")
    await gql.data(LISTS, {"first": 1, "threshold": 7}, admin_token)  # the category list, cached
    counts = []
    for first in (2, 8):
        with count_statements() as counter:
            data = (await gql.data(LISTS, {"first": first, "threshold": 7}, admin_token))["adminStats"]
        assert len(data["recentOrders"]) == len(data["lowStock"]) == first
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
