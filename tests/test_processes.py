"""Two server processes on one database (and one Redis when configured) agree with each other."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.catalog.test_product_admin import CREATE, UPDATE, new_sku
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_servers(prepared: object, settings: object, tmp_path: Path) -> Iterator[list[str]]:
    env = dict(os.environ, JWT_SECRET="two-process-secret-" + "z" * 30, LOG_LEVEL="WARNING",
               SEED_DEMO="false")
    if not os.environ.get("DATABASE_URL"):
        env["DATA_DIR"] = str(tmp_path)  # one SQLite file shared by both processes
    if not os.environ.get("REDIS_URL"):
        env["CACHE_ENABLED"] = "false"  # in-process caches are per process
    subprocess.run([sys.executable, "-m", "graphql_api", "migrate"], env=env, cwd=ROOT,
                   check=True, capture_output=True, timeout=120)
    subprocess.run([sys.executable, "-m", "graphql_api", "create-admin", "--email",
                    "two@example.com", "--password", PASSWORD, "--role", "admin"],
                   env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    ports = [_free_port(), _free_port()]
    procs = [subprocess.Popen([sys.executable, "-m", "graphql_api", "serve", "--port", str(p)],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for p in ports]
    try:
        for port in ports:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        yield [f"127.0.0.1:{p}" for p in ports]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


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
