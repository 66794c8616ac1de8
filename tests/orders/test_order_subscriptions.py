"""Order status over websockets: the owner and admins hear each change, in order; nobody else."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets

from graphql_api.accounts.models import Role
from graphql_api.core.ids import to_global_id
from tests.conftest import make_user
from tests.core.test_websocket import _recv
from tests.shop import CANCEL, buy, move, new_product

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
EVENT = "status previousStatus version at order { id number status version }"
ONE = f"subscription($id: ID!) {{ orderStatusChanged(orderId: $id) {{ {EVENT} }} }}"
MINE = f"subscription {{ myOrderUpdates {{ {EVENT} }} }}"


class Socket:
    def __init__(self, ws: Any, protocol: str) -> None:
        self.ws, self.protocol = ws, protocol

    async def start(self, op_id: str, query: str, variables: dict[str, Any] | None = None,
                    settle: float = 0.3) -> None:
        kind = "subscribe" if self.protocol == "graphql-transport-ws" else "start"
        await self.ws.send(json.dumps({"id": op_id, "type": kind, "payload": {
            "query": query, "variables": variables or {}}}))
        await asyncio.sleep(settle)  # the subscription reaches pub/sub before the test writes

    async def next(self) -> dict[str, Any]:
        return await _recv(self.ws)

    async def event(self, field: str) -> dict[str, Any]:
        message = await self.next()
        assert message["type"] in ("next", "data"), message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"][field]  # type: ignore[no-any-return]


@asynccontextmanager
async def socket(live_url: str, protocol: str, token: str | None) -> AsyncIterator[Socket]:
    async with websockets.connect(f"ws://{live_url}/graphql", subprotocols=[protocol]) as ws:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert (await _recv(ws))["type"] == "connection_ack"
        yield Socket(ws, protocol)


@pytest.fixture(scope="module")
async def product(gql: Any, admin_token: str) -> str:
    return await new_product(gql, admin_token, stock=5000)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_the_owner_watches_the_order_move(gql: Any, admin_token: str, resources: Any,
                                                live_url: str, product: str,
                                                protocol: str) -> None:
    _, _, token = await make_user(resources)
    order = await buy(gql, token, product)
    async with socket(live_url, protocol, token) as ws:
        await ws.start("1", ONE, {"id": order["id"]})
        await move(gql, admin_token, order["id"], "PAID", "SHIPPED", "DELIVERED")
        events = [await ws.event("orderStatusChanged") for _ in range(3)]
    assert [(e["previousStatus"], e["status"], e["version"]) for e in events] == [
        ("PENDING", "PAID", 2), ("PAID", "SHIPPED", 3), ("SHIPPED", "DELIVERED", 4)]
    assert all(e["order"]["id"] == order["id"] and e["order"]["number"] == order["number"]
               for e in events)
    assert events[-1]["order"]["status"] == "DELIVERED"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_admin_watches_any_order(gql: Any, admin_token: str, resources: Any,
                                          live_url: str, product: str, protocol: str) -> None:
    _, _, token = await make_user(resources)
    order = await buy(gql, token, product)
    async with socket(live_url, protocol, admin_token) as ws:
        await ws.start("1", ONE, {"id": order["id"]})
        assert (await gql.data(CANCEL, {"id": order["id"]}, token))["orderCancel"]["order"]
        event = await ws.event("orderStatusChanged")
    assert (event["previousStatus"], event["status"]) == ("PENDING", "CANCELLED")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_someone_elses_order_cannot_be_watched(gql: Any, resources: Any, live_url: str,
                                                     product: str, protocol: str) -> None:
    _, _, owner = await make_user(resources)
    _, _, other = await make_user(resources)
    order = await buy(gql, owner, product)
    missing = to_global_id("Order", 2**31 - 1)
    answers = []
    for token, order_id in ((other, order["id"]), (other, missing), (None, order["id"])):
        async with socket(live_url, protocol, token) as ws:
            await ws.start("1", ONE, {"id": order_id}, settle=0)
            answers.append(await ws.next())
    codes = []
    for message in answers:
        # graphql-transport-ws: an `error` message; legacy graphql-ws: `data` with errors.
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        codes.append((errors[0]["extensions"]["code"], errors[0]["message"]))
    assert codes[0] == codes[1] == ("NOT_FOUND", "Order not found.")  # indistinguishable
    assert codes[2][0] == "UNAUTHENTICATED"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_my_order_updates_are_mine_only(gql: Any, admin_token: str, resources: Any,
                                              live_url: str, product: str, protocol: str) -> None:
    _, _, token = await make_user(resources)
    _, _, other = await make_user(resources)
    mine = await buy(gql, token, product)
    async with socket(live_url, protocol, token) as ws:
        await ws.start("1", MINE)
        theirs = await buy(gql, other, product)
        await move(gql, admin_token, theirs["id"], "PAID")
        await move(gql, admin_token, mine["id"], "PAID")
        new = await buy(gql, token, product)
        first, second = await ws.event("myOrderUpdates"), await ws.event("myOrderUpdates")
    assert (first["order"]["id"], first["status"]) == (mine["id"], "PAID")
    assert (second["order"]["id"], second["status"], second["previousStatus"]) == (
        new["id"], "PENDING", None)


async def test_an_admin_hears_every_order_until_demoted(gql: Any, admin_token: str,
                                                        resources: Any, live_url: str,
                                                        product: str) -> None:
    from graphql_api.accounts.models import User

    admin_id, _, admin = await make_user(resources, Role.ADMIN)
    _, _, token = await make_user(resources)
    order = await buy(gql, token, product)
    async with socket(live_url, "graphql-transport-ws", admin) as ws:
        await ws.start("1", MINE)
        await move(gql, admin_token, order["id"], "PAID")
        assert (await ws.event("myOrderUpdates"))["status"] == "PAID"
        async with resources.db.transaction() as session:
            (await session.get(User, admin_id)).role = Role.CUSTOMER.value
        await move(gql, admin_token, order["id"], "SHIPPED")
        own = await buy(gql, admin, product)  # their own orders still reach them
        event = await ws.event("myOrderUpdates")
    assert (event["order"]["id"], event["status"]) == (own["id"], "PENDING")


async def test_an_order_subscription_ends_when_its_token_expires(gql: Any, resources: Any,
                                                                 live_url: str) -> None:
    from graphql_api.accounts.security import TokenSigner

    user_id, _, _ = await make_user(resources)
    short = TokenSigner(resources.settings.model_copy(update={"access_token_ttl_seconds": 1}))
    token = short.issue_access(user_id, "customer")
    async with socket(live_url, "graphql-transport-ws", token) as ws:
        await ws.start("1", MINE, settle=0)
        ended = await ws.next()
        assert ended["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert await ws.next() == {"id": "1", "type": "complete"}


async def test_many_subscribers_each_hear_one_change(gql: Any, admin_token: str, resources: Any,
                                                     live_url: str, product: str) -> None:
    """Fan-out: the order is read once per event for all of them (orders/snapshots.py)."""
    _, _, token = await make_user(resources)
    order = await buy(gql, token, product)
    sockets = []
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(40):
            ws = await stack.enter_async_context(socket(live_url, "graphql-transport-ws", token))
            await ws.start("1", ONE, {"id": order["id"]}, settle=0)
            sockets.append(ws)
        await asyncio.sleep(0.5)
        await move(gql, admin_token, order["id"], "PAID")
        events = await asyncio.gather(*(ws.event("orderStatusChanged") for ws in sockets))
    assert {(e["status"], e["version"]) for e in events} == {("PAID", 2)}

