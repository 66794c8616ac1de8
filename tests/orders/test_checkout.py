"""checkoutComplete: a cart becomes an order in one transaction, or nothing changes."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import pytest

from graphql_api.core.events import PRODUCT_CHANGED, channel
from graphql_api.core.ids import decode_pk
from tests.conftest import make_user
from tests.shop import (
    ADDRESS,
    CANCEL,
    CART,
    CHECKOUT,
    add,
    checkout,
    checkout_input,
    new_product,
    stock_of,
)


async def test_checkout_turns_the_cart_into_an_order(gql: Any, admin_token: str,
                                                     resources: Any) -> None:
    _, email, token = await make_user(resources)
    kettle = await new_product(gql, admin_token, stock=5, price="19.99", discount=10)
    mug = await new_product(gql, admin_token, stock=3, price="4.50")
    await add(gql, token, kettle, 2)
    await add(gql, token, mug, 3)
    payload = await checkout(gql, token)
    assert payload["userErrors"] == []
    order = payload["order"]
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", order["number"])
    assert order["status"] == "PENDING" and order["version"] == 1
    # 19.99 less 10% is 17.991, charged 17.99; the list prices make the subtotal.
    assert order["subtotal"] == {"amount": "53.48", "currency": "USD"}
    assert order["total"] == {"amount": "49.48", "currency": "USD"}
    assert order["discountTotal"] == {"amount": "4.00"}
    lines = {line["product"]["id"]: line for line in order["lines"]}
    assert lines[kettle]["unitPrice"] == {"amount": "17.99"}
    assert lines[kettle]["lineTotal"] == {"amount": "35.98"}
    assert lines[kettle]["name"] == "Shop test item" and lines[kettle]["quantity"] == 2
    assert order["shippingAddress"] == {**ADDRESS, "line2": None}
    assert [h["status"] for h in order["statusHistory"]] == ["PENDING"]
    assert order["customer"]["email"] == email
    assert await stock_of(gql, kettle) == 3 and await stock_of(gql, mug) == 0
    cart = (await gql.data(CART, token=token))["cart"]
    assert cart["lines"] == [] and cart["itemCount"] == 0


async def test_the_order_is_priced_at_checkout_time(gql: Any, admin_token: str,
                                                    resources: Any) -> None:
    from tests.catalog.test_product_admin import UPDATE

    _, _, token = await make_user(resources)
    product = await new_product(gql, admin_token, stock=5, price="10.00")
    await add(gql, token, product, 1)
    await gql.data(UPDATE, {"id": product, "input": {"price": "12.00"}}, admin_token)
    cart = (await gql.data(CART, token=token))["cart"]
    assert cart["total"]["amount"] == "12.00"
    order = (await checkout(gql, token))["order"]
    assert order["total"]["amount"] == "12.00"


async def test_a_retry_with_the_same_key_returns_the_same_order(gql: Any, admin_token: str,
                                                                resources: Any) -> None:
    _, _, token = await make_user(resources)
    product = await new_product(gql, admin_token, stock=5)
    await add(gql, token, product, 2)
    first = await checkout(gql, token, key="retry-key-1")
    again = await checkout(gql, token, key="retry-key-1")
    assert again["userErrors"] == [] and again["order"]["id"] == first["order"]["id"]
    assert await stock_of(gql, product) == 3
    # The same key for another cart is refused; a new key is a new order.
    await add(gql, token, product, 1)
    reused = await checkout(gql, token, key="retry-key-1")
    assert reused["order"] is None
    assert [e["code"] for e in reused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert (await checkout(gql, token, key="retry-key-2"))["order"]["id"] != first["order"]["id"]


async def test_the_same_key_with_another_address_is_refused(gql: Any, admin_token: str,
                                                            resources: Any) -> None:
    _, _, token = await make_user(resources)
    product = await new_product(gql, admin_token, stock=5)
    await add(gql, token, product, 1)
    await checkout(gql, token, key="address-key")
    other = await gql.data(CHECKOUT, checkout_input("address-key", city="Paris", country="FR"),
                           token)
    assert [e["code"] for e in other["checkoutComplete"]["userErrors"]] == [
        "IDEMPOTENCY_KEY_REUSED"]


async def test_keys_are_per_customer(gql: Any, admin_token: str, resources: Any) -> None:
    product = await new_product(gql, admin_token, stock=5)
    orders = []
    for _ in range(2):
        _, _, token = await make_user(resources)
        await add(gql, token, product, 1)
        orders.append((await checkout(gql, token, key="shared-key"))["order"]["id"])
    assert orders[0] != orders[1]


async def test_short_lines_are_all_named_and_nothing_changes(gql: Any, admin_token: str,
                                                             resources: Any) -> None:
    from tests.catalog.test_product_admin import UPDATE

    _, _, token = await make_user(resources)
    plenty = await new_product(gql, admin_token, stock=10, name="Plenty")
    scarce = await new_product(gql, admin_token, stock=2, name="Scarce")
    rare = await new_product(gql, admin_token, stock=2, name="Rare")
    for product, quantity in ((plenty, 3), (scarce, 2), (rare, 2)):
        assert (await add(gql, token, product, quantity))["userErrors"] == []
    # Others bought meanwhile: the cart now asks for more than there is.
    await gql.data(UPDATE, {"id": scarce, "input": {"stock": 1}}, admin_token)
    await gql.data(UPDATE, {"id": rare, "input": {"stock": 0}}, admin_token)
    payload = await checkout(gql, token)
    assert payload["order"] is None
    errors = sorted(payload["userErrors"], key=lambda e: e["field"][2])
    assert {e["code"] for e in errors} == {"INSUFFICIENT_STOCK"}
    assert sorted(e["field"][2] for e in errors) == sorted([scarce, rare])
    messages = " ".join(e["message"] for e in errors)
    assert "Only 1 of \"Scarce\"" in messages and "Only 0 of \"Rare\"" in messages
    assert [await stock_of(gql, p) for p in (plenty, scarce, rare)] == [10, 1, 0]
    assert len((await gql.data(CART, token=token))["cart"]["lines"]) == 3


async def test_an_empty_cart_cannot_be_checked_out(gql: Any, resources: Any) -> None:
    _, _, token = await make_user(resources)
    payload = await checkout(gql, token)
    assert payload["order"] is None
    assert payload["userErrors"] == [{"field": ["cart"], "code": "CART_EMPTY",
                                      "message": "The cart is empty."}]


async def test_products_deleted_since_are_left_out(gql: Any, admin_token: str,
                                                   resources: Any) -> None:
    from tests.catalog.test_product_admin import DELETE

    _, _, token = await make_user(resources)
    kept = await new_product(gql, admin_token, stock=3)
    gone = await new_product(gql, admin_token, stock=3)
    await add(gql, token, kept, 1)
    await add(gql, token, gone, 1)
    await gql.data(DELETE, {"id": gone}, admin_token)
    cart = (await gql.data(CART, token=token))["cart"]
    assert [line["product"]["id"] for line in cart["lines"]] == [kept]
    order = (await checkout(gql, token))["order"]
    assert [line["product"]["id"] for line in order["lines"]] == [kept]


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"name": " "}, "name", "REQUIRED"),
    ({"line1": ""}, "line1", "REQUIRED"),
    ({"city": "x" * 101}, "city", "TOO_LONG"),
    ({"postalCode": "12$45"}, "postalCode", "INVALID"),
    ({"postalCode": ""}, "postalCode", "REQUIRED"),
    ({"country": "Germany"}, "country", "INVALID"),
    ({"country": "XX"}, "country", "INVALID"),
    ({"line2": "y" * 201}, "line2", "TOO_LONG"),
])
async def test_a_bad_address_is_a_user_error(gql: Any, admin_token: str, resources: Any,
                                             change: dict[str, str], field: str,
                                             code: str) -> None:
    _, _, token = await make_user(resources)
    product = await new_product(gql, admin_token, stock=3)
    await add(gql, token, product, 1)
    data = await gql.data(CHECKOUT, checkout_input(**change), token)
    payload = data["checkoutComplete"]
    assert payload["order"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["shippingAddress", field], code)]
    assert await stock_of(gql, product) == 3


async def test_country_codes_are_normalised(gql: Any, admin_token: str, resources: Any) -> None:
    _, _, token = await make_user(resources)
    product = await new_product(gql, admin_token, stock=3)
    await add(gql, token, product, 1)
    data = await gql.data(CHECKOUT, checkout_input(country="de", city="  Berlin  "), token)
    address = data["checkoutComplete"]["order"]["shippingAddress"]
    assert (address["country"], address["city"]) == ("DE", "Berlin")


@pytest.mark.parametrize("key", ["", " ", "k" * 101])
async def test_a_bad_idempotency_key_is_a_user_error(gql: Any, admin_token: str, resources: Any,
                                                     key: str) -> None:
    _, _, token = await make_user(resources)
    product = await new_product(gql, admin_token, stock=3)
    await add(gql, token, product, 1)
    data = await gql.data(CHECKOUT, {"input": {"idempotencyKey": key,
                                                "shippingAddress": ADDRESS}}, token)
    assert [e["code"] for e in data["checkoutComplete"]["userErrors"]] == ["INVALID"]


async def test_checkout_needs_a_signed_in_customer(gql: Any) -> None:
    body = await gql(CHECKOUT, checkout_input())
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_checkout_and_its_cancellation_each_announce_stock_once(
    gql: Any, admin_token: str, resources: Any
) -> None:
    """An announcement retires the whole cached catalog (a new generation) and queues indexing:
    one per transaction, naming every product whose stock it changed, not one per order line."""
    _, _, token = await make_user(resources)
    products = [await new_product(gql, admin_token, stock=4) for _ in range(3)]
    for product in products:
        await add(gql, token, product, 2)
    pks = sorted(decode_pk(p, "Product") or 0 for p in products)
    received: list[dict[str, Any]] = []

    async def collect(messages: Any) -> None:
        async for message in messages:
            received.append(message)

    async with resources.pubsub.subscribe(channel(PRODUCT_CHANGED)) as messages:
        collector = asyncio.create_task(collect(messages))
        await asyncio.sleep(0.2)  # the Redis subscription is live before the write
        order = (await checkout(gql, token))["order"]
        await asyncio.sleep(1.0)  # whatever else the checkout announces arrives by then
        assert received == [{"ids": pks, "op": "stock"}]
        received.clear()
        cancelled = (await gql.data(CANCEL, {"id": order["id"]}, token))["orderCancel"]
        assert cancelled["order"]["status"] == "CANCELLED"
        await asyncio.sleep(1.0)
        assert received == [{"ids": pks, "op": "stock"}]
        collector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await collector
    assert [await stock_of(gql, p) for p in products] == [4, 4, 4]
