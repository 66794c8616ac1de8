"""Two server processes on one database (and one Redis when configured) agree with each other."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.catalog.test_product_admin import CREATE, UPDATE, new_sku
from tests.conftest import PASSWORD
from tests.servers import cli, serving


@pytest.fixture
def two_servers(prepared: object, settings: object, tmp_path: Path) -> Iterator[list[str]]:
    env = dict(os.environ, JWT_SECRET="two-process-secret-" + "z" * 30, LOG_LEVEL="WARNING",
               SEED_DEMO="false")
    if not os.environ.get("DATABASE_URL"):
        env["DATA_DIR"] = str(tmp_path)  # one SQLite file shared by both processes
    if not os.environ.get("REDIS_URL"):
        env["CACHE_ENABLED"] = "false"  # in-process caches are per process
    assert cli("migrate", env=env).returncode == 0
    made = cli("create-admin", "--email", "two@example.com", "--password", PASSWORD,
               "--role", "admin", env=env)
    assert made.returncode == 0, made.stderr
    with serving(env, tmp_path / "a.log") as a, serving(env, tmp_path / "b.log") as b:
        yield [a, b]


async def _gql(http: httpx.AsyncClient, host: str, query: str, variables: dict[str, object],
               token: str | None = None) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(f"http://{host}/graphql", json={"query": query,
                                                               "variables": variables},
                               headers=headers)
    body = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


async def test_writes_on_one_process_are_read_fresh_on_the_other(two_servers: list[str]) -> None:
    a, b = two_servers
    read = "query($sku: String) { product(sku: $sku) { id stock } }"
    async with httpx.AsyncClient(timeout=30) as http:
        login = await _gql(http, a, "mutation { tokenCreate(input: {email: \"two@example.com\", "
                           f"password: \"{PASSWORD}\"}}) {{ accessToken }} }}", {})
        token = login["tokenCreate"]["accessToken"]  # type: ignore[index]
        sku = new_sku()
        created = await _gql(http, a, CREATE, {"input": {"sku": sku, "name": "Shared",
                                                         "price": "9", "stock": 1}}, token)
        product_id = created["productCreate"]["product"]["id"]  # type: ignore[index]
        assert (await _gql(http, b, read, {"sku": sku}))["product"] == {"id": product_id,
                                                                         "stock": 1}
        # B has now cached the product; A's write must retire B's copy.
        await _gql(http, a, UPDATE, {"id": product_id, "input": {"stock": 5}}, token)
        assert (await _gql(http, b, read, {"sku": sku}))["product"] == {"id": product_id,
                                                                         "stock": 5}

        if not os.environ.get("REDIS_URL"):
            return  # in-process pub/sub cannot cross processes; Redis' can, checked below
        subscription = "subscription($id: ID!) { productChanged(id: $id) { stock } }"
        async with websockets.connect(f"ws://{b}/graphql",
                                      subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": subscription, "variables": {"id": product_id}}}))
            await asyncio.sleep(0.3)
            await _gql(http, a, UPDATE, {"id": product_id, "input": {"stock": 8}}, token)
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message["payload"]["data"]["productChanged"] == {"stock": 8}


@pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                    reason="events cross processes through Redis pub/sub; in-process pub/sub "
                    "stays in its process by design")
async def test_a_subscriber_on_one_process_hears_order_changes_made_on_the_other(
    two_servers: list[str],
) -> None:
    from tests.shop import ADDRESS, CHECKOUT, LINES_ADD, STATUS_UPDATE

    a, b = two_servers
    login = ("mutation($email: String!) { tokenCreate(input: {email: $email, password: "
             f"\"{PASSWORD}\"}}) {{ accessToken }} }}")
    async with httpx.AsyncClient(timeout=30) as http:
        admin = (await _gql(http, a, login, {"email": "two@example.com"}))["tokenCreate"]
        admin_token = admin["accessToken"]  # type: ignore[index]
        email = f"buyer-{new_sku().lower()}@example.com"
        await _gql(http, a, "mutation($email: String!) { accountRegister(input: {email: $email, "
                   f"password: \"{PASSWORD}\", name: \"Buyer\"}}) {{ user {{ id }} }} }}",
                   {"email": email})
        customer = (await _gql(http, a, login, {"email": email}))["tokenCreate"]
        token = customer["accessToken"]  # type: ignore[index]
        created = await _gql(http, a, CREATE, {"input": {"sku": new_sku(), "name": "Shipped",
                                                         "price": "5", "stock": 3}}, admin_token)
        product_id = created["productCreate"]["product"]["id"]  # type: ignore[index]
        await _gql(http, a, LINES_ADD, {"lines": [{"productId": product_id, "quantity": 1}]},
                   token)
        placed = await _gql(http, a, CHECKOUT, {"input": {"idempotencyKey": "two-process",
                                                          "shippingAddress": ADDRESS}}, token)
        order_id = placed["checkoutComplete"]["order"]["id"]  # type: ignore[index]
        subscription = ("subscription($id: ID!) { orderStatusChanged(orderId: $id) "
                        "{ status previousStatus version } }")
        async with websockets.connect(f"ws://{b}/graphql",
                                      subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init",
                                      "payload": {"Authorization": f"Bearer {token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": subscription, "variables": {"id": order_id}}}))
            await asyncio.sleep(0.5)
            for status in ("PAID", "SHIPPED", "DELIVERED"):
                await _gql(http, a, STATUS_UPDATE, {"id": order_id, "input": {"status": status}},
                           admin_token)
            events = []
            while len(events) < 3:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if message["type"] == "next":
                    events.append(message["payload"]["data"]["orderStatusChanged"])
    assert events == [
        {"status": "PAID", "previousStatus": "PENDING", "version": 2},
        {"status": "SHIPPED", "previousStatus": "PAID", "version": 3},
        {"status": "DELIVERED", "previousStatus": "SHIPPED", "version": 4},
    ]


async def test_once_a_write_returns_the_other_process_never_serves_the_old_response(
    two_servers: list[str],
) -> None:
    """B serves a catalog query from the shared response cache (on Redis); each time A's write
    has returned, B's next answer is the new one, never the cached old one."""
    a, b = two_servers
    read = {"query": "query($sku: String) { product(sku: $sku) { stock } }"}
    async with httpx.AsyncClient(timeout=30) as http:
        login = await _gql(http, a, "mutation { tokenCreate(input: {email: \"two@example.com\", "
                           f"password: \"{PASSWORD}\"}}) {{ accessToken }} }}", {})
        token = login["tokenCreate"]["accessToken"]  # type: ignore[index]
        sku = new_sku()
        created = await _gql(http, a, CREATE, {"input": {"sku": sku, "name": "Raced",
                                                         "price": "3", "stock": 0}}, token)
        product_id = created["productCreate"]["product"]["id"]  # type: ignore[index]
        request = {**read, "variables": {"sku": sku}}
        hits = 0
        for stock in range(1, 26):
            for _ in range(2):  # the second is a hit on Redis: B has the old answer cached
                before = await http.post(f"http://{b}/graphql", json=request)
                assert before.json()["data"]["product"] == {"stock": stock - 1}
                hits += before.headers.get("x-cache") == "hit"
            await _gql(http, a, UPDATE, {"id": product_id, "input": {"stock": stock}}, token)
            after = await http.post(f"http://{b}/graphql", json=request)
            assert after.json()["data"]["product"] == {"stock": stock}, (stock, after.headers)
    # The cache was really in play: on Redis, every read but the very first and those right
    # after a write was a hit (embedded, each process's in-memory cache is off: no hits).
    assert hits == (2 * 25 - 1 if os.environ.get("REDIS_URL") else 0)
