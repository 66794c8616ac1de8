"""Third-party websocket clients against the real server: npm `graphql-ws` (the protocol's
reference client, through tests/ws_client/subscribe.mjs) and Python's `gql`, on both protocols.

The Node client needs its npm dependencies: `npm ci --prefix tests/ws_client`.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.catalog.test_product_admin import UPDATE
from tests.core.test_websocket import SUBSCRIPTION, _create_product
from tests.servers import ROOT

CLIENT_DIR = ROOT / "tests" / "ws_client"


@pytest.fixture(scope="session")
def subscribe_mjs() -> list[str]:
    """`node subscribe.mjs`, its dependencies installed from the lock file if missing."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the graphql-ws client (tests/ws_client)."
    if not (CLIENT_DIR / "node_modules" / "graphql-ws").is_dir():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install the graphql-ws client (tests/ws_client)."
        installed = subprocess.run([npm, "ci", "--prefix", str(CLIENT_DIR), "--no-audit",
                                    "--no-fund"], capture_output=True, text=True, timeout=600,
                                   check=False)
        assert installed.returncode == 0, f"npm ci failed:\n{installed.stderr[-3000:]}"
    return [node, str(CLIENT_DIR / "subscribe.mjs")]


async def _run(command: list[str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *command, *args, cwd=Path(command[1]).parent,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_graphql_ws_client_receives_product_changes(
    subscribe_mjs: list[str], gql: Any, admin_token: str, live_url: str
) -> None:
    product_id = await _create_product(gql, admin_token)
    client = await _run(subscribe_mjs, f"ws://{live_url}/graphql", admin_token, SUBSCRIPTION,
                        json.dumps({"id": product_id}), "2")
    assert client.stdout is not None and client.stderr is not None
    try:
        connected = await asyncio.wait_for(client.stderr.readline(), 20)
        assert json.loads(connected) == {"event": "connected"}, connected
        await asyncio.sleep(0.3)  # the subscribe follows the ack: let it reach pub/sub
        for stock in (41, 42):
            # One write at a time: each event reads the product as it is when it arrives.
            await gql.data(UPDATE, {"id": product_id, "input": {"stock": stock}}, admin_token)
            line = await asyncio.wait_for(client.stdout.readline(), 10)
            assert json.loads(line) == {"data": {"productChanged": {"id": product_id,
                                                                    "stock": stock}}}, line
        out, err = await asyncio.wait_for(client.communicate(), 10)
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()
    assert client.returncode == 0 and not out, (out, err)  # done after <count> results


async def test_graphql_ws_client_sees_a_rejected_connection(
    subscribe_mjs: list[str], live_url: str
) -> None:
    client = await _run(subscribe_mjs, f"ws://{live_url}/graphql", "forged.token.here",
                        SUBSCRIPTION, json.dumps({"id": "x"}), "1")
    out, err = await asyncio.wait_for(client.communicate(), 20)
    assert client.returncode == 1, (out, err)
    assert json.loads(out) == {"error": {"code": 4403, "reason": "Forbidden"}}


@pytest.mark.parametrize("protocol", [WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL,
                                      WebsocketsTransport.APOLLO_SUBPROTOCOL])
async def test_gql_client_receives_product_changes(
    gql: Any, admin_token: str, live_url: str, protocol: str
) -> None:
    product_id = await _create_product(gql, admin_token)
    transport = WebsocketsTransport(
        url=f"ws://{live_url}/graphql", subprotocols=[protocol],
        init_payload={"authorization": f"Bearer {admin_token}"}, close_timeout=5)
    request = GraphQLRequest(SUBSCRIPTION, variable_values={"id": product_id})
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def listen() -> None:
        async for result in session.subscribe(request):
            await events.put(result)

    async with Client(transport=transport) as session:
        listening = asyncio.create_task(listen())
        try:
            await asyncio.sleep(0.5)  # connected already: let the subscription reach pub/sub
            received = []
            for stock in (51, 52):
                await gql.data(UPDATE, {"id": product_id, "input": {"stock": stock}}, admin_token)
                received.append(await asyncio.wait_for(events.get(), 10))
        finally:
            listening.cancel()
            with pytest.raises(asyncio.CancelledError):
                await listening
    assert received == [{"productChanged": {"id": product_id, "stock": s}} for s in (51, 52)]
