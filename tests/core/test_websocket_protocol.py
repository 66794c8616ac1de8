"""The websocket protocol rules on a real uvicorn: where the caller comes from, the close codes of
graphql-transport-ws, keep-alives, and the bound on operations per connection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from websockets.typing import Subprotocol

from graphql_api.accounts.security import TokenSigner
from graphql_api.core.resources import Resources
from graphql_api.core.settings import Settings
from graphql_api.websocket import GraphQLWebSocket
from tests.catalog.test_product_admin import UPDATE
from tests.conftest import make_user
from tests.core.test_websocket import SUBSCRIPTION, _create_product, _recv

TRANSPORT, LEGACY = "graphql-transport-ws", "graphql-ws"
BOTH = pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
ME = "{ me { email } }"
FORGED = "Bearer forged.token.here"


@asynccontextmanager
async def connect(live_url: str, protocol: str = TRANSPORT,
                  headers: dict[str, str] | None = None) -> AsyncIterator[Any]:
    async with websockets.connect(f"ws://{live_url}/graphql", subprotocols=[Subprotocol(protocol)],
                                  additional_headers=headers) as ws:
        yield ws


async def send(ws: Any, message: dict[str, Any] | str) -> None:
    await ws.send(message if isinstance(message, str) else json.dumps(message))


async def init(ws: Any, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    await send(ws, {"type": "connection_init", "payload": payload or {}})
    return await _recv(ws)


async def close_code(ws: Any) -> int:
    """Read until the server closes; its close code (messages before it are ignored)."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code


async def me(ws: Any) -> Any:
    await send(ws, {"id": "me", "type": "subscribe", "payload": {"query": ME}})
    message = await _recv(ws)
    assert message["type"] == "next", message
    return message["payload"]["data"]["me"]


def start(protocol: str, op_id: str, product_id: str) -> dict[str, Any]:
    return {"id": op_id, "type": "subscribe" if protocol == TRANSPORT else "start",
            "payload": {"query": SUBSCRIPTION, "variables": {"id": product_id}}}


def stop(protocol: str, op_id: str) -> dict[str, Any]:
    return {"id": op_id, "type": "complete" if protocol == TRANSPORT else "stop"}


async def rejected(ws: Any, protocol: str) -> bool:
    """The connection was refused: 4403 on graphql-transport-ws, connection_error on legacy."""
    if protocol == TRANSPORT:
        return await close_code(ws) == 4403
    refused = (await _recv(ws))["type"] == "connection_error"
    await close_code(ws)
    return refused


@pytest.fixture(scope="module")
async def caller(resources: Resources) -> tuple[str, str]:
    _, email, token = await make_user(resources)
    return email, token


# --- 1. Where the caller comes from ---------------------------------------------------------

@pytest.mark.parametrize("key", ["Authorization", "authorization", "AUTHORIZATION", "aUtHoRiZaTiOn"])
async def test_init_payload_token_under_any_capitalisation(
    live_url: str, caller: tuple[str, str], key: str
) -> None:
    email, token = caller
    async with connect(live_url) as ws:
        assert (await init(ws, {key: f"Bearer {token}"}))["type"] == "connection_ack"
        assert await me(ws) == {"email": email}


@BOTH
@pytest.mark.parametrize("key", ["Authorization", "authorization", "AUTHORIZATION"])
async def test_a_bad_init_payload_token_is_rejected(live_url: str, protocol: str, key: str) -> None:
    """Under every spelling the key is read: a forged token there refuses the connection."""
    async with connect(live_url, protocol) as ws:
        await send(ws, {"type": "connection_init", "payload": {key: FORGED}})
        assert await rejected(ws, protocol)


@BOTH
async def test_an_expired_token_is_rejected(
    live_url: str, resources: Resources, protocol: str
) -> None:
    user_id = (await make_user(resources))[0]
    expired = TokenSigner(resources.settings.model_copy(
        update={"access_token_ttl_seconds": -60})).issue_access(user_id, "customer")
    async with connect(live_url, protocol) as ws:
        await send(ws, {"type": "connection_init", "payload": {"authorization": f"Bearer {expired}"}})
        assert await rejected(ws, protocol)


@BOTH
async def test_ambiguous_or_malformed_init_credentials_are_rejected(
    live_url: str, caller: tuple[str, str], protocol: str
) -> None:
    token = caller[1]
    for payload in ({"Authorization": f"Bearer {token}", "authorization": f"Bearer {token}x"},
                    {"authorization": 12}, {"authorization": f"Token {token}"}):
        async with connect(live_url, protocol) as ws:
            await send(ws, {"type": "connection_init", "payload": payload})
            assert await rejected(ws, protocol), payload


async def test_handshake_authorization_header(live_url: str, caller: tuple[str, str]) -> None:
    email, token = caller
    async with connect(live_url, headers={"Authorization": f"Bearer {token}"}) as ws:
        assert (await init(ws))["type"] == "connection_ack"
        assert await me(ws) == {"email": email}
    # The init payload comes first: its token wins over the header's.
    async with connect(live_url, headers={"Authorization": FORGED}) as ws:
        assert (await init(ws, {"authorization": f"Bearer {token}"}))["type"] == "connection_ack"
        assert await me(ws) == {"email": email}


@BOTH
async def test_a_bad_handshake_header_is_rejected(live_url: str, protocol: str) -> None:
    async with connect(live_url, protocol, headers={"Authorization": FORGED}) as ws:
        await send(ws, {"type": "connection_init"})
        assert await rejected(ws, protocol)


@BOTH
async def test_no_token_is_an_anonymous_connection(live_url: str, protocol: str) -> None:
    async with connect(live_url, protocol) as ws:
        # `"payload": null` is allowed by both protocols (Strawberry closed transport-ws with 4400).
        await send(ws, {"type": "connection_init", "payload": None})
        assert await _recv(ws) == {"type": "connection_ack"}
        if protocol == TRANSPORT:
            assert await me(ws) is None


# --- 2. graphql-transport-ws close codes ------------------------------------------------------

@pytest.mark.parametrize("message", [
    "not json",
    "[1, 2]",
    '"a string"',
    {"type": "no-such-type"},
    {"type": 5},
    {"type": "subscribe", "payload": {"query": ME}},  # no id
    {"id": 1, "type": "subscribe", "payload": {"query": ME}},  # id not a string
    {"id": "1", "type": "subscribe"},  # no payload
    {"id": "1", "type": "subscribe", "payload": "{ me { email } }"},
    {"id": "1", "type": "subscribe", "payload": {"query": ME, "variables": "x"}},
    {"type": "complete"},
], ids=repr)
async def test_4400_on_an_invalid_message(live_url: str, message: dict[str, Any] | str) -> None:
    async with connect(live_url) as ws:
        assert (await init(ws))["type"] == "connection_ack"
        await send(ws, message)
        assert await close_code(ws) == 4400


async def test_4401_on_subscribe_before_the_ack(live_url: str) -> None:
    async with connect(live_url) as ws:
        await send(ws, {"id": "1", "type": "subscribe", "payload": {"query": ME}})
        assert await close_code(ws) == 4401


async def test_4403_on_a_rejected_init(live_url: str) -> None:
    async with connect(live_url) as ws:
        await send(ws, {"type": "connection_init", "payload": {"authorization": FORGED}})
        assert await close_code(ws) == 4403


async def test_4408_without_connection_init_in_time(
    live_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "ws_init_timeout_seconds", 0.3)
    async with connect(live_url) as ws:
        assert await close_code(ws) == 4408
    monkeypatch.undo()
    async with connect(live_url) as ws:  # an init in time is not affected
        await asyncio.sleep(0.4)
        assert (await init(ws))["type"] == "connection_ack"


async def test_4409_on_a_subscribe_with_an_id_in_use(
    gql: Any, admin_token: str, live_url: str
) -> None:
    product_id = await _create_product(gql, admin_token)
    async with connect(live_url) as ws:
        await init(ws)
        await send(ws, start(TRANSPORT, "1", product_id))
        await send(ws, start(TRANSPORT, "1", product_id))
        assert await close_code(ws) == 4409


async def test_4429_on_a_second_connection_init(live_url: str) -> None:
    async with connect(live_url) as ws:
        assert (await init(ws))["type"] == "connection_ack"
        await send(ws, {"type": "connection_init", "payload": {}})
        assert await close_code(ws) == 4429


async def test_legacy_refuses_a_second_connection_init(live_url: str) -> None:
    """Strawberry acked it again (and leaked the first keep-alive task)."""
    async with connect(live_url, LEGACY) as ws:
        assert (await init(ws))["type"] == "connection_ack"
        await send(ws, {"type": "connection_init", "payload": {}})
        assert (await _recv(ws))["type"] == "connection_error"
        assert await close_code(ws) == 4429


async def test_legacy_answers_an_invalid_message_with_error(
    gql: Any, admin_token: str, live_url: str
) -> None:
    """The legacy protocol has no close codes for this: `error`, and the connection stays."""
    product_id = await _create_product(gql, admin_token)
    async with connect(live_url, LEGACY) as ws:
        await init(ws)
        for message in ("[1]", {"type": "start", "payload": {"query": SUBSCRIPTION}},
                        {"id": "1", "type": "start", "payload": "x"}):
            await send(ws, message)
            assert (await _recv(ws))["type"] == "error"
        await send(ws, start(LEGACY, "2", product_id))
        await asyncio.sleep(0.3)
        await gql.data(UPDATE, {"id": product_id, "input": {"stock": 8}}, admin_token)
        assert (await _recv(ws))["payload"]["data"]["productChanged"]["stock"] == 8


# --- 3. Keep-alives ---------------------------------------------------------------------------

async def test_ping_is_answered_with_pong(live_url: str) -> None:
    async with connect(live_url) as ws:
        await send(ws, {"type": "ping"})  # allowed at any time, even before connection_init
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong"}
        await init(ws)
        await send(ws, {"type": "ping", "payload": {"at": 1}})
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong"}
        await send(ws, {"type": "pong"})  # an unsolicited pong is fine (a heartbeat)
        await send(ws, {"type": "ping"})
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong"}


async def test_legacy_keep_alive(app: Starlette, live_url: str,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    view = next(r.endpoint for r in app.routes
                if isinstance(r, WebSocketRoute) and isinstance(r.endpoint, GraphQLWebSocket))
    assert view.keep_alive and view.keep_alive_interval == 15
    monkeypatch.setattr(view, "keep_alive_interval", 0.2)
    async with connect(live_url, LEGACY) as ws:
        await send(ws, {"type": "connection_init", "payload": {}})
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "connection_ack"}
        for _ in range(3):  # one at once, then one per interval
            assert json.loads(await asyncio.wait_for(ws.recv(), 2)) == {"type": "ka"}


# --- 4. The bound on operations per connection ------------------------------------------------

def test_websocket_settings_defaults() -> None:
    assert Settings.model_fields["ws_max_operations"].default == 32
    assert Settings.model_fields["ws_init_timeout_seconds"].default == 10


def _rate_limited(protocol: str, message: dict[str, Any]) -> bool:
    assert message["type"] == "error", message
    errors = message["payload"] if protocol == TRANSPORT else [message["payload"]]
    return [e["extensions"]["code"] for e in errors] == ["RATE_LIMITED"]


@BOTH
async def test_one_operation_more_than_the_bound_is_rate_limited(
    gql: Any, admin_token: str, live_url: str, settings: Settings,
    monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    monkeypatch.setattr(settings, "ws_max_operations", 2)
    product_id = await _create_product(gql, admin_token)

    async def events(count: int, stock: int) -> dict[str, int]:
        await asyncio.sleep(0.3)  # let new subscriptions reach pub/sub before the write
        await gql.data(UPDATE, {"id": product_id, "input": {"stock": stock}}, admin_token)
        got = [await _recv(ws) for _ in range(count)]
        return {m["id"]: m["payload"]["data"]["productChanged"]["stock"] for m in got}

    async with connect(live_url, protocol) as ws:
        await init(ws)
        for op_id in ("1", "2", "3"):
            await send(ws, start(protocol, op_id, product_id))
        refused = await _recv(ws)
        assert refused["id"] == "3" and _rate_limited(protocol, refused)
        assert await events(2, 31) == {"1": 31, "2": 31}  # the others keep running
        await send(ws, stop(protocol, "1"))
        if protocol == LEGACY:
            assert await _recv(ws) == {"type": "complete", "id": "1"}
        await send(ws, start(protocol, "4", product_id))  # a slot is free again
        assert await events(2, 32) == {"2": 32, "4": 32}
        await send(ws, start(protocol, "5", product_id))
        assert _rate_limited(protocol, await _recv(ws))


TOO_MANY_TOKENS = "{ " + "me { email } " * 700 + "}"


@pytest.mark.parametrize(("query", "code"), [("subscription {", "GRAPHQL_PARSE_FAILED"),
                                             (TOO_MANY_TOKENS, "QUERY_TOO_COMPLEX")])
async def test_legacy_answers_a_query_that_does_not_parse_with_its_error(
    live_url: str, query: str, code: str
) -> None:
    """An `error` for that operation, with its code (not a bare `complete` and a traceback)."""
    async with connect(live_url, LEGACY) as ws:
        assert (await init(ws))["type"] == "connection_ack"
        await send(ws, {"id": "bad", "type": "start", "payload": {"query": query}})
        message = await _recv(ws)
        assert message["type"] == "error", message
        assert message["payload"]["extensions"]["code"] == code, message


@pytest.mark.parametrize("query", ["subscription {", TOO_MANY_TOKENS])
async def test_transport_ws_closes_on_a_query_that_does_not_parse(live_url: str,
                                                                  query: str) -> None:
    """Strawberry parses a subscribe's query itself, before it runs it, and closes with 4400."""
    async with connect(live_url) as ws:
        assert (await init(ws))["type"] == "connection_ack"
        await send(ws, {"id": "bad", "type": "subscribe", "payload": {"query": query}})
        assert await close_code(ws) == 4400
