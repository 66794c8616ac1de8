"""Order-event fan-out: an event is prepared once per process and each distinct operation is
executed on it once (orders/snapshots.py, core/streams.py), yet every subscriber still gets its
own operation's result: its selection, aliases, variables and errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

import pytest
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_api.accounts.models import Role
from graphql_api.orders.snapshots import OrderEventFeed
from graphql_api.orders.types import OrderStatusEvent
from tests.conftest import make_user
from tests.orders.test_order_subscriptions import MINE, ONE, socket
from tests.shop import buy, move, new_product


@pytest.fixture(scope="module")
async def product(gql: Any, admin_token: str) -> str:
    return await new_product(gql, admin_token, stock=5000)


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the executions of an order event's selection, and the feed's reads."""
    counts: Counter[str] = Counter()
    execute = StrawberryGraphQLCoreExecutionContext.execute_operation
    read, admins = OrderEventFeed._read, OrderEventFeed._admins

    def counting_execute(self: Any, serially: bool | None = None) -> Any:
        if isinstance(self.root_value, OrderStatusEvent):
            counts["executions"] += 1
        return execute(self, serially)

    async def counting_read(self: Any, order_id: int) -> Any:
        counts["order reads"] += 1
        return await read(self, order_id)

    async def counting_admins(self: Any, user_ids: set[int]) -> set[int]:
        counts["role reads"] += 1
        return await admins(self, user_ids)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_operation",
                        counting_execute)
    monkeypatch.setattr(OrderEventFeed, "_read", counting_read)
    monkeypatch.setattr(OrderEventFeed, "_admins", counting_admins)
    return counts


async def test_fifty_subscribers_cost_one_read_and_one_execution_per_operation(
        gql: Any, admin_token: str, resources: Any, live_url: str, product: str,
        work: Counter[str]) -> None:
    _, _, owner = await make_user(resources)
    _, _, admin = await make_user(resources, Role.ADMIN)
    order = await buy(gql, owner, product)
    # 40 on the same operation (the owner's and two admins' tokens, both protocols), 10 on
    # another one: two distinct operations.
    plan = ([(owner, ONE, {"id": order["id"]}, "graphql-transport-ws")] * 15
            + [(owner, ONE, {"id": order["id"]}, "graphql-ws")] * 5
            + [(admin_token, ONE, {"id": order["id"]}, "graphql-transport-ws")] * 10
            + [(admin, ONE, {"id": order["id"]}, "graphql-ws")] * 10
            + [(owner, MINE, {}, "graphql-transport-ws")] * 10)
    async with contextlib.AsyncExitStack() as stack:
        sockets = []
        for token, query, variables, protocol in plan:
            ws = await stack.enter_async_context(socket(live_url, protocol, token))
            await ws.start("1", query, variables, settle=0)
            sockets.append((ws, "orderStatusChanged" if query == ONE else "myOrderUpdates"))
        await asyncio.sleep(0.5)
        work.clear()
        await move(gql, admin_token, order["id"], "PAID", "SHIPPED")
        events = await asyncio.gather(*(_events(ws, field, 2) for ws, field in sockets))
    assert all([(e["status"], e["version"]) for e in got] == [("PAID", 2), ("SHIPPED", 3)]
               for got in events)  # every subscriber, each event once, in order
    assert work == {"executions": 2 * 2, "order reads": 2, "role reads": 2}


SHAPED = """subscription($id: ID!, $full: Boolean!, $reviews: Int) {
  orderStatusChanged(orderId: $id) {
    s: status
    order @include(if: $full) { number lines { product { reviews(first: $reviews) { totalCount } } } }
  }
}"""
RENAMED = "subscription($id: ID!) { e: orderStatusChanged(orderId: $id) { v: version } }"


async def test_each_subscriber_gets_its_own_operations_result(
        gql: Any, admin_token: str, resources: Any, live_url: str, product: str,
        work: Counter[str]) -> None:
    _, _, owner = await make_user(resources)
    order = await buy(gql, owner, product)
    variants = [
        (SHAPED, {"id": order["id"], "full": False}),
        (SHAPED, {"id": order["id"], "full": True, "reviews": 1}),
        (SHAPED, {"id": order["id"], "full": True, "reviews": -1}),  # a field error
        (RENAMED, {"id": order["id"]}),
    ]
    async with contextlib.AsyncExitStack() as stack:
        sockets = []
        for query, variables in variants:
            for _ in range(3):
                ws = await stack.enter_async_context(socket(live_url, "graphql-transport-ws", owner))
                await ws.start("1", query, variables, settle=0)
                sockets.append(ws)
        await asyncio.sleep(0.5)
        work.clear()
        await move(gql, admin_token, order["id"], "PAID")
        payloads = [(await ws.next())["payload"] for ws in sockets]
    assert work["executions"] == len(variants)
    brief, full, failed, renamed = (payloads[i:i + 3] for i in range(0, 12, 3))
    number = order["number"]
    assert all(p == {"data": {"orderStatusChanged": {"s": "PAID"}}} for p in brief)
    assert all(p == {"data": {"orderStatusChanged": {"s": "PAID", "order": {
        "number": number, "lines": [{"product": {"reviews": {"totalCount": 0}}}]}}}}
        for p in full)
    for p in failed:
        assert p["data"]["orderStatusChanged"]["order"]["lines"] == [{"product": None}]
        assert [(e["path"], e["extensions"]["code"]) for e in p["errors"]] == [
            (["orderStatusChanged", "order", "lines", 0, "product", "reviews"], "BAD_USER_INPUT")]
    assert all(p == {"data": {"e": {"v": 2}}} for p in renamed)


async def _events(ws: Any, field: str, count: int) -> list[dict[str, Any]]:
    return [await ws.event(field) for _ in range(count)]
