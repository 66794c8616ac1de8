"""Stock never oversells and a key never orders twice, with many clients at once."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from graphql_api.catalog.models import Product
from graphql_api.core.ids import decode_pk
from graphql_api.orders.models import Order, OrderLine
from tests.conftest import make_user
from tests.shop import CHECKOUT, add, checkout_input, many_customers, new_product

CUSTOMERS = 200
STOCK = 50


async def _facts(resources: Any, product_id: str) -> tuple[int, int]:
    """(stock, orders containing the product), read from the database itself."""
    pk = decode_pk(product_id, "Product")
    async with resources.db.session() as session:
        stock = await session.scalar(select(Product.stock).where(Product.id == pk))
        orders = await session.scalar(select(func.count(func.distinct(OrderLine.order_id)))
                                      .where(OrderLine.product_id == pk))
    return int(stock or 0), int(orders or 0)


async def test_many_customers_racing_for_little_stock(gql: Any, admin_token: str,
                                                      resources: Any) -> None:
    product = await new_product(gql, admin_token, stock=STOCK)
    customers = await many_customers(resources, CUSTOMERS)
    # Each cart holds one unit before the stock runs out: the race is at checkout.
    await asyncio.gather(*(add(gql, token, product, 1) for _, token in customers))

    async def attempt(token: str) -> Any:
        return await gql.post(CHECKOUT, checkout_input(), token)

    responses = await asyncio.gather(*(attempt(token) for _, token in customers))
    assert {r.status_code for r in responses} == {200}
    payloads = [r.json() for r in responses]
    assert all("errors" not in p for p in payloads), [p["errors"] for p in payloads
                                                      if "errors" in p][:3]
    results = [p["data"]["checkoutComplete"] for p in payloads]
    placed = [r for r in results if r["order"] is not None]
    refused = [e["code"] for r in results for e in r["userErrors"]]
    assert len(placed) == STOCK
    assert refused == ["INSUFFICIENT_STOCK"] * (CUSTOMERS - STOCK)
    assert await _facts(resources, product) == (0, STOCK)


async def test_one_key_many_requests_one_order(gql: Any, admin_token: str,
                                               resources: Any) -> None:
    _, _, token = await make_user(resources)
    product = await new_product(gql, admin_token, stock=10)
    await add(gql, token, product, 3)
    variables = checkout_input("one-key-for-all")
    responses = await asyncio.gather(*(gql.post(CHECKOUT, variables, token) for _ in range(20)))
    results = [r.json()["data"]["checkoutComplete"] for r in responses]
    assert all(r["userErrors"] == [] for r in results), results
    assert len({r["order"]["id"] for r in results}) == 1
    assert await _facts(resources, product) == (7, 1)
    async with resources.db.session() as session:
        keyed = await session.scalar(select(func.count()).select_from(Order)
                                     .where(Order.idempotency_key == "one-key-for-all"))
    assert keyed == 1


async def test_crossing_carts_never_deadlock(gql: Any, admin_token: str, resources: Any) -> None:
    """Carts holding the same products, added in opposite orders, checked out at once: stock is
    taken in product-id order, so no two checkouts wait on each other in a cycle."""
    a = await new_product(gql, admin_token, stock=100)
    b = await new_product(gql, admin_token, stock=100)
    customers = await many_customers(resources, 30)
    for i, (_, token) in enumerate(customers):
        for product in ((a, b) if i % 2 else (b, a)):
            await add(gql, token, product, 1)
    responses = await asyncio.gather(*(gql.post(CHECKOUT, checkout_input(), token)
                                       for _, token in customers))
    results = [r.json()["data"]["checkoutComplete"] for r in responses]
    assert all(r["userErrors"] == [] for r in results)
    assert (await _facts(resources, a))[0] == 70 and (await _facts(resources, b))[0] == 70
