"""The issue's story with third-party clients: a guest fills a cart, signs in (the cart follows),
checks out, and watches the order go PAID -> SHIPPED -> DELIVERED as an admin moves it, through
npm `graphql-ws` (graphql-transport-ws) and Python's `gql` (both protocols)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import PASSWORD, make_user
from tests.core.test_ws_clients import _run, subscribe_mjs  # noqa: F401 (a fixture)
from tests.shop import CART_CREATE, CHECKOUT, LINES_ADD, checkout_input, line, move, new_product

WATCH = """subscription($id: ID!) { orderStatusChanged(orderId: $id) {
  status previousStatus version order { number status } } }"""
MOVES = [("PENDING", "PAID"), ("PAID", "SHIPPED"), ("SHIPPED", "DELIVERED")]


async def guest_to_order(gql: Any, admin_token: str, resources: Any) -> tuple[str, str]:
    """(the customer's access token, their order's id), the way a storefront gets there."""
    _, email, _ = await make_user(resources)
    product = await new_product(gql, admin_token, stock=10)
    cart_token = (await gql.data(CART_CREATE))["cartCreate"]["cartToken"]
    added = await gql.http.post("/graphql", headers={"X-Cart-Token": cart_token}, json={
        "query": LINES_ADD, "variables": {"lines": [line(product, 2)]}})
    assert added.json()["data"]["cartLinesAdd"]["userErrors"] == []
    login = await gql.data("""mutation($input: TokenCreateInput!) { tokenCreate(input: $input)
      { accessToken } }""", {"input": {"email": email, "password": PASSWORD,
                                       "cartToken": cart_token}})
    token = login["tokenCreate"]["accessToken"]
    placed = (await gql.data(CHECKOUT, checkout_input(), token))["checkoutComplete"]
    assert placed["userErrors"] == [] and placed["order"]["lines"][0]["quantity"] == 2
    return token, placed["order"]["id"]


def _expected() -> list[tuple[str, str, int]]:
    return [(before, after, version) for version, (before, after) in enumerate(MOVES, start=2)]


async def test_graphql_ws_client_watches_the_order(subscribe_mjs: list[str],  # noqa: F811
                                                   gql: Any, admin_token: str, resources: Any,
                                                   live_url: str) -> None:
    token, order_id = await guest_to_order(gql, admin_token, resources)
    client = await _run(subscribe_mjs, f"ws://{live_url}/graphql", token, WATCH,
                        json.dumps({"id": order_id}), str(len(MOVES)))
    assert client.stdout is not None and client.stderr is not None
    try:
        connected = await asyncio.wait_for(client.stderr.readline(), 20)
        assert json.loads(connected) == {"event": "connected"}, connected
        await asyncio.sleep(0.3)  # the subscribe follows the ack: let it reach pub/sub
        await move(gql, admin_token, order_id, *(after for _, after in MOVES))
        out, err = await asyncio.wait_for(client.communicate(), 20)
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()
    assert client.returncode == 0, (out, err)
    events = [json.loads(row)["data"]["orderStatusChanged"] for row in out.splitlines()]
    assert [(e["previousStatus"], e["status"], e["version"]) for e in events] == _expected()


@pytest.mark.parametrize("protocol", [WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL,
                                      WebsocketsTransport.APOLLO_SUBPROTOCOL])
async def test_gql_client_watches_the_order(gql: Any, admin_token: str, resources: Any,
                                            live_url: str, protocol: str) -> None:
    token, order_id = await guest_to_order(gql, admin_token, resources)
    transport = WebsocketsTransport(
        url=f"ws://{live_url}/graphql", subprotocols=[protocol],
        init_payload={"Authorization": f"Bearer {token}"}, close_timeout=5)
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async with Client(transport=transport) as session:
        async def listen() -> None:
            request = GraphQLRequest(WATCH, variable_values={"id": order_id})
            async for result in session.subscribe(request):
                await events.put(result["orderStatusChanged"])

        listening = asyncio.create_task(listen())
        try:
            await asyncio.sleep(0.5)
            await move(gql, admin_token, order_id, *(after for _, after in MOVES))
            received = [await asyncio.wait_for(events.get(), 10) for _ in MOVES]
        finally:
            listening.cancel()
            with pytest.raises(asyncio.CancelledError):
                await listening
    assert [(e["previousStatus"], e["status"], e["version"]) for e in received] == _expected()
    assert received[-1]["order"]["status"] == "DELIVERED"
