"""Carts: a customer's one cart, guest carts by token, exact totals, every rule on the lines."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graphql_api.core.ids import to_global_id
from tests.conftest import PASSWORD, make_user
from tests.shop import (
    CART,
    CART_CLEAR,
    CART_CREATE,
    LINES_ADD,
    LINES_REMOVE,
    LINES_UPDATE,
    add,
    line,
    new_product,
)


async def guest_cart(gql: Any) -> str:
    data = await gql.data(CART_CREATE)
    payload = data["cartCreate"]
    assert payload["userErrors"] == [] and payload["cart"]["lines"] == []
    return payload["cartToken"]  # type: ignore[no-any-return]


async def as_guest(gql: Any, query: str, variables: dict[str, Any] | None, cart_token: str
                   ) -> dict[str, Any]:
    response = await gql.http.post("/graphql", json={"query": query, "variables": variables},
                                   headers={"X-Cart-Token": cart_token})
    body = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


async def test_a_guest_fills_a_cart_with_its_token(gql: Any, admin_token: str) -> None:
    token = await guest_cart(gql)
    kettle = await new_product(gql, admin_token, stock=9, price="19.99", discount=10)
    mug = await new_product(gql, admin_token, stock=9, price="4.50")
    data = await as_guest(gql, LINES_ADD, {"lines": [line(kettle, 2), line(mug, 1)]}, token)
    cart = data["cartLinesAdd"]["cart"]
    assert data["cartLinesAdd"]["userErrors"] == []
    assert cart["itemCount"] == 3
    assert cart["subtotal"] == {"amount": "44.48", "currency": "USD"}
    assert cart["discountTotal"] == {"amount": "4.00"}
    assert cart["total"] == {"amount": "40.48", "currency": "USD"}
    assert [(li["product"]["id"], li["quantity"], li["unitPrice"]["amount"],
             li["lineTotal"]["amount"]) for li in cart["lines"]] == [
        (kettle, 2, "17.99", "35.98"), (mug, 1, "4.50", "4.50")]
    # Adding adds to what is there; updating sets; 0 removes; removing and clearing empty it.
    data = await as_guest(gql, LINES_ADD, {"lines": [line(mug, 2)]}, token)
    assert [li["quantity"] for li in data["cartLinesAdd"]["cart"]["lines"]] == [2, 3]
    data = await as_guest(gql, LINES_UPDATE, {"lines": [line(kettle, 0), line(mug, 5)]}, token)
    assert [(li["product"]["id"], li["quantity"])
            for li in data["cartLinesUpdate"]["cart"]["lines"]] == [(mug, 5)]
    data = await as_guest(gql, LINES_REMOVE, {"ids": [mug, kettle]}, token)
    assert data["cartLinesRemove"]["cart"]["lines"] == []
    await as_guest(gql, LINES_ADD, {"lines": [line(mug, 1)]}, token)
    assert (await as_guest(gql, CART, None, token))["cart"]["itemCount"] == 1
    data = await as_guest(gql, CART_CLEAR, None, token)
    assert data["cartClear"]["cart"]["itemCount"] == 0


async def test_without_a_cart_a_guest_is_told_how_to_get_one(gql: Any, admin_token: str) -> None:
    product = await new_product(gql, admin_token, stock=3)
    assert (await gql.data(CART))["cart"] is None
    for token in (None, "not-a-cart-token", "x" * 500):
        headers = {} if token is None else {"X-Cart-Token": token}
        response = await gql.http.post("/graphql", headers=headers, json={
            "query": LINES_ADD, "variables": {"lines": [line(product, 1)]}})
        payload = response.json()["data"]["cartLinesAdd"]
        assert payload["cart"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["cartToken"], "NOT_FOUND")]


async def test_a_customer_has_one_cart(gql: Any, admin_token: str, resources: Any) -> None:
    _, _, token = await make_user(resources)
    first = (await gql.data(CART, token=token))["cart"]
    assert first["lines"] == [] and first["id"].startswith(to_global_id("Cart", 1)[:3])
    created = (await gql.data(CART_CREATE, token=token))["cartCreate"]
    assert created["cartToken"] is None and created["cart"]["id"] == first["id"]
    product = await new_product(gql, admin_token, stock=3)
    await add(gql, token, product, 2)
    # A cart token sent by a signed-in customer is ignored: theirs is the account's cart.
    guest = await guest_cart(gql)
    response = await gql.http.post("/graphql", json={"query": CART}, headers={
        "Authorization": f"Bearer {token}", "X-Cart-Token": guest})
    assert response.json()["data"]["cart"]["id"] == first["id"]


async def test_reading_a_customers_cart_writes_nothing_after_the_first_time(
        gql: Any, resources: Any, count_statements: Any) -> None:
    _, _, token = await make_user(resources)
    query = "{ cart { id updatedAt } }"
    first = (await gql.data(query, token=token))["cart"]  # made on this first read
    with count_statements() as counter:
        again = [(await gql.data(query, token=token))["cart"] for _ in range(3)]
    assert again == [first] * 3  # the same cart, updatedAt untouched
    writes = [s for s in counter.statements
              if s.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []


async def test_a_cart_is_read_in_three_statements_at_most_whatever_its_size(
        gql: Any, admin_token: str, resources: Any, count_statements: Any) -> None:
    """The caller, the cart with its lines (one statement), the lines' products (one batch, or
    none when the catalog cache has them): for an empty cart, one line or ten."""
    _, _, token = await make_user(resources)
    query = ("{ cart { itemCount total { amount } lines { quantity unitPrice { amount } "
             "product { id name category { name } } } } }")
    counts = []
    for size in (0, 1, 10):
        while len((await gql.data(query, token=token))["cart"]["lines"]) < size:
            assert (await add(gql, token, await new_product(gql, admin_token, stock=5), 1)
                    )["userErrors"] == []
        with count_statements() as counter:
            cart = (await gql.data(query, token=token))["cart"]
        assert len(cart["lines"]) == size
        counts.append(len(counter.statements))
    assert counts[0] == 2 and counts[0] <= counts[1] == counts[2] <= 3, counts


@pytest.mark.parametrize(("quantity", "code"), [(0, "INVALID"), (-1, "INVALID"),
                                                (100, "INVALID"), (4, "INSUFFICIENT_STOCK")])
async def test_quantities_are_checked(gql: Any, admin_token: str, resources: Any, quantity: int,
                                      code: str) -> None:
    _, _, token = await make_user(resources)
    product = await new_product(gql, admin_token, stock=3, name="Limited")
    payload = await add(gql, token, product, quantity)
    assert payload["cart"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["lines", "0", "quantity"], code)]
    if code == "INSUFFICIENT_STOCK":
        assert "Only 3 of \"Limited\" available" in payload["userErrors"][0]["message"]


async def test_the_stock_bounds_the_whole_quantity_in_the_cart(gql: Any, admin_token: str,
                                                               resources: Any) -> None:
    _, _, token = await make_user(resources)
    product = await new_product(gql, admin_token, stock=3)
    assert (await add(gql, token, product, 2))["userErrors"] == []
    assert [e["code"] for e in (await add(gql, token, product, 2))["userErrors"]] == [
        "INSUFFICIENT_STOCK"]
    data = await gql.data(LINES_UPDATE, {"lines": [line(product, 4)]}, token)
    assert [e["code"] for e in data["cartLinesUpdate"]["userErrors"]] == ["INSUFFICIENT_STOCK"]
    plenty = await new_product(gql, admin_token, stock=500)
    assert (await add(gql, token, plenty, 99))["userErrors"] == []
    over = await add(gql, token, plenty, 1)
    assert [(e["field"], e["code"]) for e in over["userErrors"]] == [
        (["lines", "0", "quantity"], "INVALID")]


async def test_unknown_and_deleted_products_are_not_found(gql: Any, admin_token: str,
                                                          resources: Any) -> None:
    from tests.catalog.test_product_admin import DELETE

    _, _, token = await make_user(resources)
    deleted = await new_product(gql, admin_token, stock=3)
    await gql.data(DELETE, {"id": deleted}, admin_token)
    for product_id in (deleted, to_global_id("Product", 2**31 - 1), to_global_id("User", 1)):
        payload = await add(gql, token, product_id, 1)
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["lines", "0", "productId"], "NOT_FOUND")], product_id
    # Not an ID at all: malformed input, as for every ID argument.
    body = await gql(LINES_ADD, {"lines": [line("garbage", 1)]}, token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_change_with_one_bad_line_changes_nothing(gql: Any, admin_token: str,
                                                          resources: Any) -> None:
    _, _, token = await make_user(resources)
    good = await new_product(gql, admin_token, stock=3)
    short = await new_product(gql, admin_token, stock=1)
    data = await gql.data(LINES_ADD, {"lines": [line(good, 1), line(short, 2), line(good, 1)]},
                          token)
    codes = sorted((tuple(e["field"]), e["code"]) for e in data["cartLinesAdd"]["userErrors"])
    assert codes == [(("lines", "2", "productId"), "INVALID")]  # listed twice: checked first
    data = await gql.data(LINES_ADD, {"lines": [line(good, 1), line(short, 2)]}, token)
    assert [e["code"] for e in data["cartLinesAdd"]["userErrors"]] == ["INSUFFICIENT_STOCK"]
    assert (await gql.data(CART, token=token))["cart"]["lines"] == []


async def test_concurrent_additions_are_not_lost(gql: Any, admin_token: str,
                                                 resources: Any) -> None:
    _, _, token = await make_user(resources)
    product = await new_product(gql, admin_token, stock=50)
    results = await asyncio.gather(*(add(gql, token, product, 1) for _ in range(12)))
    assert all(r["userErrors"] == [] for r in results)
    cart = (await gql.data(CART, token=token))["cart"]
    assert [li["quantity"] for li in cart["lines"]] == [12]


async def test_signing_in_keeps_the_guest_cart(gql: Any, admin_token: str,
                                               resources: Any) -> None:
    _, email, token = await make_user(resources)
    both = await new_product(gql, admin_token, stock=9)
    scarce = await new_product(gql, admin_token, stock=2)
    guest_only = await new_product(gql, admin_token, stock=9)
    await add(gql, token, both, 1)
    await add(gql, token, scarce, 1)
    cart_token = await guest_cart(gql)
    await as_guest(gql, LINES_ADD, {"lines": [line(both, 2), line(scarce, 2),
                                              line(guest_only, 4)]}, cart_token)
    login = """mutation($input: TokenCreateInput!) { tokenCreate(input: $input) {
      accessToken userErrors { code } } }"""
    data = await gql.data(login, {"input": {"email": email, "password": PASSWORD,
                                            "cartToken": cart_token}})
    access = data["tokenCreate"]["accessToken"]
    cart = (await gql.data(CART, token=access))["cart"]
    assert {li["product"]["id"]: li["quantity"] for li in cart["lines"]} == {
        both: 3, scarce: 2, guest_only: 4}  # 1 + 2 = 3, capped by stock 2, 4
    # The guest cart is gone; signing in again with its token changes nothing.
    assert (await as_guest(gql, CART, None, cart_token))["cart"] is None
    again = await gql.data(login, {"input": {"email": email, "password": PASSWORD,
                                             "cartToken": cart_token}})
    assert again["tokenCreate"]["userErrors"] == []
    cart = (await gql.data(CART, token=access))["cart"]
    assert cart["itemCount"] == 9


async def test_a_cart_node_is_visible_to_its_owner_only(gql: Any, resources: Any) -> None:
    _, _, token = await make_user(resources)
    _, _, other = await make_user(resources)
    cart_id = (await gql.data(CART, token=token))["cart"]["id"]
    query = "query($id: ID!) { node(id: $id) { id ... on Cart { itemCount } } }"
    assert (await gql.data(query, {"id": cart_id}, token))["node"] == {"id": cart_id,
                                                                      "itemCount": 0}
    assert (await gql.data(query, {"id": cart_id}, other))["node"] is None
    assert (await gql.data(query, {"id": cart_id}))["node"] is None
    guest_token = await guest_cart(gql)
    guest_id = (await as_guest(gql, CART, None, guest_token))["cart"]["id"]
    assert (await as_guest(gql, query, {"id": guest_id}, guest_token))["node"]["id"] == guest_id
    assert (await gql.data(query, {"id": guest_id}, token))["node"] is None
