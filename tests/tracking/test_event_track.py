"""eventTrack: open to guests, validated (userErrors with codes), rate-limited (RATE_LIMITED)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from graphql_api.core.ids import to_global_id
from graphql_api.core.resources import Resources
from graphql_api.tracking.limits import MAX_METADATA_BYTES, MAX_METADATA_DEPTH
from graphql_api.tracking.log import EventLog
from tests.tracking.conftest import TRACK, new_session, post, rows_of, track

PRODUCTS = "{ products(first: 1) { edges { node { id } } } }"


async def a_product(gql: Any) -> str:
    data = await gql.data(PRODUCTS)
    return data["products"]["edges"][0]["node"]["id"]  # type: ignore[no-any-return]


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"child": value}
    return value


async def test_a_guest_tracks_a_page_view_in_its_session(client: httpx.AsyncClient,
                                                         resources: Resources) -> None:
    session = new_session()
    payload = await track(client, session, type="PAGE_VIEW", path="/shoes?page=2",
                          metadata={"referrer": "https://example.com", "screen": [1920, 1080]})
    assert payload["userErrors"] == []
    assert payload["event"]["type"] == "PAGE_VIEW"
    assert payload["event"]["sessionId"] == session  # from the X-Session-Id header
    [row] = await rows_of(resources, session_id=session)
    assert (row["type"], row["source"], row["path"], row["user_id"]) == (
        "PAGE_VIEW", "client", "/shoes?page=2", None)
    assert row["metadata"] == {"referrer": "https://example.com", "screen": [1920, 1080]}


async def test_the_input_session_wins_over_the_header_and_a_token_names_the_user(
        client: httpx.AsyncClient, resources: Resources, customer_token: str, gql: Any) -> None:
    session = new_session()
    product = await a_product(gql)
    payload = await track(client, "header-session", customer_token, type="PRODUCT_VIEW",
                          productId=product, sessionId=session)
    assert payload["userErrors"] == [] and payload["event"]["sessionId"] == session
    [row] = await rows_of(resources, session_id=session)
    assert row["user_id"] is not None and to_global_id("Product", row["product_id"]) == product


async def test_a_search_event_keeps_the_folded_query(client: httpx.AsyncClient,
                                                     resources: Resources) -> None:
    session = new_session()
    assert (await track(client, session, type="SEARCH", query="  Crème BRÛLÉE, 2-Pack!"))[
        "userErrors"] == []
    [row] = await rows_of(resources, session_id=session)
    assert (row["query"], row["source"], row["result_count"]) == ("creme brulee 2 pack",
                                                                   "client", None)


@pytest.mark.parametrize(("input", "field", "code"), [
    ({"type": "PRODUCT_VIEW"}, "productId", "REQUIRED"),
    ({"type": "ADD_TO_CART"}, "productId", "REQUIRED"),
    ({"type": "PRODUCT_VIEW", "productId": to_global_id("Product", 10**9)}, "productId",
     "NOT_FOUND"),
    ({"type": "PRODUCT_VIEW", "productId": to_global_id("User", 1)}, "productId", "INVALID"),
    ({"type": "SEARCH"}, "query", "REQUIRED"),
    ({"type": "SEARCH", "query": "   "}, "query", "REQUIRED"),
    ({"type": "SEARCH", "query": "x" * 201}, "query", "TOO_LONG"),
    ({"type": "PAGE_VIEW", "path": "/" * 501}, "path", "TOO_LONG"),
    ({"type": "PAGE_VIEW", "path": "/a\x00b"}, "path", "INVALID"),
    ({"type": "PAGE_VIEW", "sessionId": "has spaces"}, "sessionId", "INVALID"),
    ({"type": "PAGE_VIEW", "sessionId": "x" * 65}, "sessionId", "INVALID"),
    ({"type": "PAGE_VIEW", "metadata": [1, 2]}, "metadata", "INVALID"),
    ({"type": "PAGE_VIEW", "metadata": "text"}, "metadata", "INVALID"),
    ({"type": "PAGE_VIEW", "metadata": nested(MAX_METADATA_DEPTH + 1)}, "metadata", "INVALID"),
    ({"type": "PAGE_VIEW", "metadata": {"a": [[[[1]]]]}}, "metadata", "INVALID"),
    ({"type": "PAGE_VIEW", "metadata": {"x": "y" * MAX_METADATA_BYTES}}, "metadata", "TOO_LONG"),
    ({"type": "PAGE_VIEW", "metadata": {"x": "nul\x00"}}, "metadata", "INVALID"),
])
async def test_invalid_input_is_a_user_error_and_records_nothing(
        client: httpx.AsyncClient, resources: Resources, input: dict[str, Any], field: str,
        code: str) -> None:
    session = new_session()
    payload = await track(client, session, **input)
    assert payload["event"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [([field], code)]
    assert await rows_of(resources, session_id=session) == []
    assert await rows_of(resources, session_id=input.get("sessionId", session)) == []


async def test_metadata_at_its_limits_is_accepted(client: httpx.AsyncClient,
                                                  resources: Resources) -> None:
    session = new_session()
    deep = nested(MAX_METADATA_DEPTH)
    big = {"x": ""}
    big["x"] = "y" * (MAX_METADATA_BYTES - len(json.dumps(big, separators=(",", ":"))))
    for metadata in (deep, big):
        assert (await track(client, session, type="PAGE_VIEW", metadata=metadata))[
            "userErrors"] == []
    assert [r["metadata"] for r in await rows_of(resources, session_id=session)] == [deep, big]


async def test_a_client_past_its_limit_is_rate_limited(client_from: Any, resources: Resources,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources.settings, "events_per_client", 5)
    http, other = client_from(), client_from()
    session = new_session()
    for _ in range(5):
        assert (await track(http, session, type="PAGE_VIEW"))["userErrors"] == []
    body = await post(http, TRACK, {"input": {"type": "PAGE_VIEW"}}, session)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] > 0
    # Per client: another address still may.
    assert (await track(other, session, type="PAGE_VIEW"))["userErrors"] == []
    assert len(await rows_of(resources, session_id=session)) == 6


async def test_an_operations_calls_are_counted_together(client_from: Any, resources: Resources,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A request of 4 aliased calls counts 4; one that would pass the limit is refused whole."""
    monkeypatch.setattr(resources.settings, "events_per_client", 6)
    http = client_from()
    session = new_session()
    four = "mutation { " + " ".join(
        f"e{i}: eventTrack(input: {{type: PAGE_VIEW}}) {{ userErrors {{ code }} }}"
        for i in range(4)) + " }"
    body = await post(http, four, session=session)
    assert "errors" not in body and len(body["data"]) == 4
    body = await post(http, four, session=session)  # 8 > 6
    # The first refusal nulls the (non-null) payload and so the whole mutation result.
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["RATE_LIMITED"]
    assert len(await rows_of(resources, session_id=session)) == 4


async def test_a_full_buffer_refuses_clients_with_rate_limited(
        client: httpx.AsyncClient, log: EventLog, resources: Resources,
        monkeypatch: pytest.MonkeyPatch) -> None:
    session = new_session()
    monkeypatch.setattr(log, "capacity", 0)
    refused = log.refused
    body = await post(client, TRACK, {"input": {"type": "PAGE_VIEW"}}, session)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["RATE_LIMITED"]
    assert log.refused == refused + 1
    monkeypatch.undo()
    assert (await track(client, session, type="PAGE_VIEW"))["userErrors"] == []
    assert len(await rows_of(resources, session_id=session)) == 1


async def test_a_malformed_id_is_bad_user_input_as_everywhere(client: httpx.AsyncClient) -> None:
    body = await post(client, TRACK, {"input": {"type": "PRODUCT_VIEW", "productId": "not-an-id"}})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_an_invalid_token_is_unauthenticated(client: httpx.AsyncClient) -> None:
    body = await post(client, TRACK, {"input": {"type": "PAGE_VIEW"}}, token="not-a-token")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


async def test_over_a_websocket_the_session_comes_from_connection_init(
        live_url: str, resources: Resources) -> None:
    import asyncio

    import websockets

    session = new_session()
    async with websockets.connect(f"ws://{live_url}/graphql",
                                  subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"sessionId": session}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        for n in range(2):  # each operation of the connection
            await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": {
                "query": TRACK, "variables": {"input": {"type": "PAGE_VIEW", "path": f"/{n}"}}}}))
            message, end = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(2)]
            assert (message["type"], end) == ("next", {"id": str(n), "type": "complete"})
            assert message["payload"]["data"]["eventTrack"]["event"]["sessionId"] == session
    assert [r["path"] for r in await rows_of(resources, session_id=session)] == ["/0", "/1"]
