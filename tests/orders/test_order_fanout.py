"""Order-event fan-out: an event is prepared once per process and executed once per (operation,
caller) (orders/snapshots.py, core/streams.py), yet every subscriber gets, byte for byte, what
executing its own operation in its own context would send: selection, aliases, variables, errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_api.accounts.models import Role
from graphql_api.context import Context
from graphql_api.core.streams import SharedEventExecutor
from graphql_api.orders import loaders
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
    """Counts the executions of an order event's selection (shared or not), and the feed's
    reads; a connection whose connection_init has `"unshared": true` executes every event for
    itself, in its own context: the per-subscriber path the shared one must equal."""
    counts: Counter[str] = Counter()
    execute = StrawberryGraphQLCoreExecutionContext.execute_operation
    operation_key = SharedEventExecutor.operation_key
    read, admins = OrderEventFeed._read, OrderEventFeed._admins

    def counting_execute(self: Any, serially: bool | None = None) -> Any:
        # In differential mode (GRAPHQL_EXEC_DIFF) a reference copy of the executor (its
        # fast_path off) runs each execution too: still one execution of the selection.
        if isinstance(self.root_value, OrderStatusEvent) and getattr(self, "fast_path", True):
            counts["executions"] += 1
        return execute(self, serially)

    def maybe_unshared(self: Any) -> Any:
        if (self.context_value.connection_params or {}).get("unshared"):
            return None
        return operation_key(self)

    async def counting_read(self: Any, order_id: int) -> Any:
        counts["order reads"] += 1
        return await read(self, order_id)

    async def counting_admins(self: Any, user_ids: set[int]) -> set[int]:
        counts["role reads"] += 1
        return await admins(self, user_ids)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_operation",
                        counting_execute)
    monkeypatch.setattr(SharedEventExecutor, "operation_key", maybe_unshared)
    monkeypatch.setattr(OrderEventFeed, "_read", counting_read)
    monkeypatch.setattr(OrderEventFeed, "_admins", counting_admins)
    return counts


class RawSocket:
    """A websocket client that keeps each frame's text as it came."""

    def __init__(self, ws: Any, protocol: str) -> None:
        self.ws, self.protocol = ws, protocol

    async def start(self, query: str, variables: dict[str, Any], op_id: str = "1") -> None:
        kind = "subscribe" if self.protocol == "graphql-transport-ws" else "start"
        await self.ws.send(json.dumps({"id": op_id, "type": kind, "payload": {
            "query": query, "variables": variables}}))

    async def frame(self) -> str:
        while True:
            text: str = await asyncio.wait_for(self.ws.recv(), 10)
            if json.loads(text)["type"] not in ("ping", "pong", "ka"):
                return text


@asynccontextmanager
async def raw_socket(live_url: str, protocol: str, token: str, **params: Any
                     ) -> AsyncIterator[RawSocket]:
    async with websockets.connect(f"ws://{live_url}/graphql", subprotocols=[protocol]) as ws:
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"authorization": f"Bearer {token}", **params}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        yield RawSocket(ws, protocol)


async def test_subscribers_share_one_read_and_one_execution_per_operation_and_caller(
        gql: Any, admin_token: str, resources: Any, live_url: str, product: str,
        work: Counter[str]) -> None:
    _, _, owner = await make_user(resources)
    _, _, admin = await make_user(resources, Role.ADMIN)
    order = await buy(gql, owner, product)
    # Four keys: ONE as the owner (both protocols: one key), ONE as each of two admins (two
    # callers: not shared, though their results would be equal), MINE as the owner.
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
    assert work == {"executions": 2 * 4, "order reads": 2, "role reads": 2}


SHAPED = """subscription($id: ID!, $full: Boolean!, $reviews: Int) {
  orderStatusChanged(orderId: $id) {
    s: status
    order @include(if: $full) { number lines { product { reviews(first: $reviews) { totalCount } } } }
  }
}"""
RENAMED = "subscription($id: ID!) { e: orderStatusChanged(orderId: $id) { v: version } }"
DEEP = """subscription Deep($id: ID!) { orderStatusChanged(orderId: $id) { ...E } }
subscription Other { myOrderUpdates { status } }
fragment E on OrderStatusEvent { __typename status previousStatus version at order {
  id number status version total { amount currency } shippingAddress { city country }
  statusHistory { status previousStatus note version } customer { id email name role }
  lines { sku quantity unitPrice { amount } product { name stock inStock price { amount } } } } }"""


async def test_shared_results_are_the_bytes_a_subscriber_would_get_alone(
        gql: Any, admin_token: str, resources: Any, live_url: str, product: str,
        work: Counter[str]) -> None:
    _, _, owner = await make_user(resources)
    order = await buy(gql, owner, product)
    variants = [
        (SHAPED, {"id": order["id"], "full": False}),
        (SHAPED, {"id": order["id"], "full": True, "reviews": 1}),
        (SHAPED, {"id": order["id"], "full": True, "reviews": -1}),  # a field error, with a path
        (RENAMED, {"id": order["id"]}),
        (DEEP, {"id": order["id"]}),
        (ONE, {"id": order["id"]}),
    ]
    protocols = ["graphql-transport-ws", "graphql-ws"]
    async with contextlib.AsyncExitStack() as stack:
        # Per variant and protocol: two subscribers that share (operation ids 1 and 7: the
        # message is encoded once per id), one that executes alone.
        groups: list[list[RawSocket]] = []
        for query, variables in variants:
            for protocol in protocols:
                group = []
                for unshared, op_id in ((False, "1"), (False, "7"), (True, "1")):
                    ws = await stack.enter_async_context(
                        raw_socket(live_url, protocol, owner, unshared=unshared))
                    await ws.start(query, variables, op_id)
                    group.append(ws)
                groups.append(group)
        await asyncio.sleep(0.5)
        work.clear()
        await move(gql, admin_token, order["id"], "PAID", "SHIPPED")
        frames = [[[await ws.frame() for _ in range(2)] for ws in group] for group in groups]
    # Per event: one shared execution per variant (both protocols: one operation), and one per
    # subscriber executing alone.
    assert work["executions"] == 2 * (len(variants) + len(groups))
    for group in frames:
        one, seven, alone = group
        assert one == alone  # byte for byte
        assert [f.replace('"id":"7"', '"id":"1"', 1) for f in seven] == alone
        assert all('"id":"7"' in f for f in seven)
    payloads = [json.loads(frames[2 * i][0][0])["payload"] for i in range(len(variants))]
    brief, full, failed, renamed, deep, plain = payloads
    assert brief == {"data": {"orderStatusChanged": {"s": "PAID"}}}
    assert full == {"data": {"orderStatusChanged": {"s": "PAID", "order": {
        "number": order["number"], "lines": [{"product": {"reviews": {"totalCount": 0}}}]}}}}
    assert failed["data"]["orderStatusChanged"]["order"]["lines"] == [{"product": None}]
    assert [(e["path"], e["extensions"]["code"]) for e in failed["errors"]] == [
        (["orderStatusChanged", "order", "lines", 0, "product", "reviews"], "BAD_USER_INPUT")]
    assert renamed == {"data": {"e": {"v": 2}}}
    assert deep["data"]["orderStatusChanged"]["order"]["customer"]["role"] == "CUSTOMER"
    assert [c["status"] for c in deep["data"]["orderStatusChanged"]["order"]["statusHistory"]
            ] == ["PENDING", "PAID"]
    assert plain["data"]["orderStatusChanged"]["status"] == "PAID"
    assert json.loads(frames[1][0][1])["type"] == "data"  # the legacy protocol's frames


async def test_a_subscriber_leaving_mid_execution_does_not_stop_the_others(
        gql: Any, admin_token: str, resources: Any, live_url: str, product: str,
        work: Counter[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, owner = await make_user(resources)
    order = await buy(gql, owner, product)
    started, release = asyncio.Event(), asyncio.Event()
    starters: list[str] = []
    customers, copy_context = loaders._Batches.customers, Context.for_shared_execution

    async def slow_customers(self: Any, ids: Any) -> Any:
        started.set()
        await release.wait()
        return await customers(self, ids)

    def recording_copy(self: Context) -> Context:
        starters.append((self.connection_params or {})["name"])
        return copy_context(self)

    monkeypatch.setattr(loaders._Batches, "customers", slow_customers)
    monkeypatch.setattr(Context, "for_shared_execution", recording_copy)
    query = ("subscription($id: ID!) { orderStatusChanged(orderId: $id) { status "
             "order { customer { id } } } }")
    async with contextlib.AsyncExitStack() as stack:
        sockets = {}
        for name in "ABCD":
            ws = await stack.enter_async_context(
                raw_socket(live_url, "graphql-transport-ws", owner, name=name))
            await ws.start(query, {"id": order["id"]})
            sockets[name] = ws
        await asyncio.sleep(0.5)
        work.clear()
        await move(gql, admin_token, order["id"], "PAID")
        await asyncio.wait_for(started.wait(), 10)
        assert len(starters) == 1
        await sockets.pop(starters[0]).ws.close()  # the one whose context the execution runs in
        await asyncio.sleep(0.3)  # the server has cancelled its operation by now
        release.set()
        first = [json.loads(await ws.frame()) for ws in sockets.values()]
        await move(gql, admin_token, order["id"], "SHIPPED")
        second = [json.loads(await ws.frame()) for ws in sockets.values()]
    assert all(m["payload"]["data"]["orderStatusChanged"]["status"] == "PAID" for m in first)
    assert all(m["payload"]["data"]["orderStatusChanged"]["order"]["customer"]["id"]
               for m in first)
    assert all(m["payload"]["data"]["orderStatusChanged"]["status"] == "SHIPPED" for m in second)
    assert work["executions"] == 2 and len(starters) == 2  # one per event, shared by all


async def _events(ws: Any, field: str, count: int) -> list[dict[str, Any]]:
    return [await ws.event(field) for _ in range(count)]
