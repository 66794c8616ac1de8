"""No pooled connection outlives its request, however the operation ends.

The shapes here cancel resolvers while they check a connection out of the pool: graphql-core
cancels a failed field's pending siblings, and Strawberry cancels an operation that its websocket
client completes. A checkout cancelled halfway used to leave its connection checked out until
the garbage collector found it (see `graphql_api.core.database._connect`).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets
from sqlalchemy import text
from websockets.typing import Subprotocol

from graphql_api.core.ids import to_global_id
from graphql_api.core.resources import Resources
from tests.conftest import make_user

LEAK = "non-checked-in connection"
ROUNDS = 12
WIDE = 20  # concurrent reads in one operation: more than the pool holds, so some wait to connect


def _aliases(field: str) -> str:
    return " ".join(f"f{i}: {field}" for i in range(WIDE))


@asynccontextmanager
async def no_leaks(resources: Resources, caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
    """Fails unless every connection checked out in the block is back in the pool."""
    pool: Any = resources.db.engine.pool  # a QueuePool: checkedout() is not on the base Pool
    # Background work of earlier tests (the event log's flush, in-process jobs, the search
    # outbox) may hold a connection for a moment as this starts: wait for it, as below.
    deadline = asyncio.get_running_loop().time() + 5
    while pool.checkedout() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    assert pool.checkedout() == 0
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.ERROR):
        warnings.simplefilter("always")
        yield
        # Work cancelled or abandoned by the operation may still be finishing its reads; a
        # leaked connection never comes back.
        deadline = asyncio.get_running_loop().time() + 5
        while pool.checkedout() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        checked_out = pool.checkedout()
        gc.collect()
        await asyncio.sleep(0.05)  # SQLAlchemy finalizes a collected connection on the loop
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert checked_out == 0, f"{checked_out} connections still checked out"
    assert not [m for m in messages if LEAK in m]


def _bad_cursor() -> str:
    return f"not-a-cursor-{uuid.uuid4().hex[:8]}"


def _unique_filter() -> dict[str, Any]:
    # A fresh filter misses the catalog cache, so the read really goes to the database.
    return {"nameContains": uuid.uuid4().hex[:6]}


async def test_failing_list_item_cancels_its_siblings_reads(
    gql: Any, resources: Resources, caplog: pytest.LogCaptureFixture
) -> None:
    """The fuzzer's shape: one category's invalid cursor nulls the whole (non-null) list while
    the other categories' reads are still connecting."""
    query = """query($after: String) { categories { productCount
        products(after: $after) { totalCount nodes { sku category { productCount } } } } }"""
    async with no_leaks(resources, caplog):
        for _ in range(ROUNDS):
            body = await gql(query, {"after": _bad_cursor()})
            assert body["data"] is None
            assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}


async def test_failing_field_cancels_its_siblings_reads(
    gql: Any, resources: Resources, caplog: pytest.LogCaptureFixture
) -> None:
    """Within one object: `bad` fails and nulls its (nullable) parent while its siblings are
    mid-read (pages, the lazy totalCount, the category loader). Root fields are not cancelled
    so: graphql-core awaits them all."""
    ok = "products(filter: $filter) { totalCount edges { node { category { productCount } } } }"
    query = f"""query($filter: ProductFilter, $after: String) {{ category(slug: "headphones") {{
        {_aliases(ok)} bad: products(after: $after) {{ totalCount }} }} }}"""
    async with no_leaks(resources, caplog):
        for _ in range(ROUNDS):
            body = await gql(query, {"filter": _unique_filter(), "after": _bad_cursor()})
            assert body["data"] == {"category": None}
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("reads", ["catalog", "session"])
async def test_operation_completed_by_its_websocket_client(
    live_url: str, resources: Resources, caplog: pytest.LogCaptureFixture, reads: str
) -> None:
    """The client completes a query while its reads are connecting: Strawberry cancels it."""
    if reads == "catalog":
        token = None
        query = (f"query($f: ProductFilter) {{ {_aliases('products(filter: $f) { totalCount }')} "
                 "p: products(filter: $f, sortBy: {field: NAME}) { nodes { sku } } }")
    else:  # the caller's user row and user nodes, through ORM sessions
        user_id, _, token = await make_user(resources)
        node = f'node(id: "{to_global_id("User", user_id)}") {{ id }}'
        query = f"{{ me {{ id }} {_aliases(node)} }}"
    init = {"Authorization": f"Bearer {token}"} if token else {}
    async with no_leaks(resources, caplog), websockets.connect(
        f"ws://{live_url}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "whole", "type": "subscribe", "payload": {
            "query": query, "variables": {"f": _unique_filter()}}}))
        whole = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert whole["type"] == "next" and "errors" not in whole["payload"], whole
        for i in range(40):
            await ws.send(json.dumps({"id": str(i), "type": "subscribe", "payload": {
                "query": query, "variables": {"f": _unique_filter()}}}))
            await asyncio.sleep(i * 0.0001)  # complete it at a different point each time
            await ws.send(json.dumps({"id": str(i), "type": "complete"}))
        await ws.send(json.dumps({"type": "ping"}))
        while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "pong":
            pass


async def test_cancelled_reads_give_their_connections_back(
    resources: Resources, caplog: pytest.LogCaptureFixture
) -> None:
    """The mechanism itself: reads cancelled at every point of their checkout, query or close."""
    db = resources.db

    async def read() -> None:
        async with db.read() as conn:
            await conn.execute(text("SELECT 1"))

    async with no_leaks(resources, caplog):
        for step in range(150):
            tasks = [asyncio.ensure_future(read()) for _ in range(4)]
            await asyncio.sleep(step * 0.00003)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
