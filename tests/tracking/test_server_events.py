"""What the server records itself: registrations, orders placed and moved along, product changes
and the searches it answers, each with the session of the request that caused it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from graphql_api.core.ids import decode_pk
from graphql_api.core.resources import Resources
from tests.catalog.test_product_admin import UPDATE
from tests.conftest import PASSWORD, make_user, unique_email
from tests.shop import CHECKOUT, LINES_ADD, STATUS_UPDATE, checkout_input, line, new_product
from tests.tracking.conftest import new_session, post, rows_of, track

REGISTER = """mutation($input: AccountRegisterInput!) { accountRegister(input: $input) {
  user { id } userErrors { code } } }"""
SEARCH = """query($q: String!, $after: String) { search(query: $q, first: 2, after: $after) {
  totalCount pageInfo { endCursor } } }"""
FUNNEL = """query($range: DateRange) { metrics { funnel(range: $range) {
  steps { step sessions conversion } } } }"""


async def test_a_registration_is_recorded_with_its_session(client: httpx.AsyncClient,
                                                           resources: Resources) -> None:
    session = new_session()
    body = await post(client, REGISTER, {"input": {"email": unique_email(), "password": PASSWORD,
                                                   "name": "Eve"}}, session)
    user_id = decode_pk(body["data"]["accountRegister"]["user"]["id"], "User")
    [row] = await rows_of(resources, session_id=session)
    assert (row["type"], row["source"], row["user_id"]) == ("USER_REGISTERED", "server", user_id)


async def test_orders_and_product_changes_are_recorded(client: httpx.AsyncClient, gql: Any,
                                                       resources: Resources,
                                                       admin_token: str) -> None:
    product = await new_product(gql, admin_token, stock=5)
    pk = decode_pk(product, "Product")
    admin_session, shopper = new_session(), new_session()
    body = await post(client, UPDATE, {"id": product, "input": {"name": "Renamed"}},
                      admin_session, admin_token)
    assert body["data"]["productUpdate"]["userErrors"] == []
    [changed] = await rows_of(resources, session_id=admin_session)
    assert (changed["type"], changed["product_id"], changed["metadata"]) == (
        "PRODUCT_CHANGED", pk, {"op": "update"})

    user_id, _, token = await make_user(resources)
    await post(client, LINES_ADD, {"lines": [line(product, 2)]}, shopper, token)
    body = await post(client, CHECKOUT, checkout_input(), shopper, token)
    order = body["data"]["checkoutComplete"]["order"]
    rows = await rows_of(resources, session_id=shopper)
    placed = [r for r in rows if r["type"] == "ORDER_PLACED"]
    assert [(r["user_id"], r["metadata"]) for r in placed] == [
        (user_id, {"orderId": order["id"], "status": "PENDING"})]
    # The stock it took is a product change too.
    assert [(r["type"], r["product_id"], r["metadata"]) for r in rows
            if r["type"] == "PRODUCT_CHANGED"] == [("PRODUCT_CHANGED", pk, {"op": "stock"})]

    body = await post(client, STATUS_UPDATE, {"id": order["id"], "input": {"status": "PAID"}},
                      admin_session, admin_token)
    assert body["data"]["orderStatusUpdate"]["userErrors"] == []
    moved = [r for r in await rows_of(resources, session_id=admin_session)
             if r["type"] == "ORDER_STATUS_CHANGED"]
    assert [(r["user_id"], r["metadata"]) for r in moved] == [
        (user_id, {"orderId": order["id"], "status": "PAID", "previousStatus": "PENDING"})]


async def test_a_search_is_recorded_once_with_its_result_count(client: httpx.AsyncClient,
                                                               resources: Resources) -> None:
    session = new_session()
    first = (await post(client, SEARCH, {"q": "  PHONE!"}, session))["data"]["search"]
    assert first["totalCount"] > 2
    await post(client, SEARCH, {"q": "phone", "after": first["pageInfo"]["endCursor"]}, session)
    nothing = (await post(client, SEARCH, {"q": "zzqxv-nothing"}, session))["data"]["search"]
    await post(client, SEARCH, {"q": "   "}, session)  # browsing, not a search
    rows = await rows_of(resources, session_id=session)
    assert [(r["type"], r["source"], r["query"], r["result_count"]) for r in rows] == [
        ("SEARCH", "server", "phone", first["totalCount"]),
        ("SEARCH", "server", "zzqxv nothing", nothing["totalCount"]),
    ]
    assert nothing["totalCount"] == 0


async def test_a_session_goes_through_the_funnel(client: httpx.AsyncClient, gql: Any,
                                                 resources: Resources, admin_token: str) -> None:
    """Client-reported steps and the server's ORDER_PLACED join on the session id."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    window = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}

    async def funnel() -> list[int]:
        await rows_of(resources)  # flushed
        data = await gql.data(FUNNEL, {"range": window}, admin_token)
        return [s["sessions"] for s in data["metrics"]["funnel"]["steps"]]

    product = await new_product(gql, admin_token, stock=5)
    before = await funnel()
    session = new_session()
    _, _, token = await make_user(resources)
    for kind in ("PRODUCT_VIEW", "ADD_TO_CART"):
        assert (await track(client, session, type=kind, productId=product))["userErrors"] == []
    await post(client, LINES_ADD, {"lines": [line(product, 1)]}, session, token)
    assert (await track(client, session, token, type="CHECKOUT_START"))["userErrors"] == []
    assert [a - b for a, b in zip(await funnel(), before, strict=True)] == [1, 1, 1, 0]
    body = await post(client, CHECKOUT, checkout_input(), session, token)
    assert body["data"]["checkoutComplete"]["userErrors"] == []
    assert [a - b for a, b in zip(await funnel(), before, strict=True)] == [1, 1, 1, 1]


async def test_a_search_text_the_database_cannot_store_is_recorded_without_it(
        client: httpx.AsyncClient, resources: Resources) -> None:
    session = new_session()
    body = json.dumps({"query": SEARCH, "variables": {"q": "mug\ud800 blue\x00"}})  # escaped
    response = await client.post("/graphql", content=body, headers={
        "Content-Type": "application/json", "X-Session-Id": session})
    assert "errors" not in response.json()
    [row] = await rows_of(resources, session_id=session)
    assert row["query"] == "mug blue"
