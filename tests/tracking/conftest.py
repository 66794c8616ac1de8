"""Event tracking tests: eventTrack as clients send it, and the rows and stream entries it makes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from graphql_api.core.resources import Resources
from graphql_api.tracking.log import EventLog, event_log
from graphql_api.tracking.models import event_table

TRACK = """mutation($input: EventTrackInput!) { eventTrack(input: $input) {
  event { type at sessionId } userErrors { field code message } } }"""


def new_session() -> str:
    return f"s-{uuid.uuid4().hex}"


@pytest.fixture
def log(resources: Resources) -> EventLog:
    return event_log(resources)


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
               session: str | None = None, token: str | None = None) -> dict[str, Any]:
    headers = {}
    if session is not None:
        headers["X-Session-Id"] = session
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = await http.post("/graphql", json={"query": query, "variables": variables},
                               headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def track(http: httpx.AsyncClient, session: str | None = None, token: str | None = None,
                **input: Any) -> dict[str, Any]:
    """eventTrack's payload (the call must not fail as a whole)."""
    body = await post(http, TRACK, {"input": input}, session, token)
    assert "errors" not in body, body
    return body["data"]["eventTrack"]  # type: ignore[no-any-return]


@pytest.fixture
async def client_from(app: Starlette) -> AsyncIterator[Any]:
    """HTTP clients that each come from an address of their own (a rate limit of their own)."""
    clients: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        address = f"10.{len(clients)}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://test"))
        return clients[-1]

    yield make
    for c in clients:
        await c.aclose()


async def rows_of(resources: Resources, **where: Any) -> list[dict[str, Any]]:
    """The event rows matching `where` (column=value), oldest first, after a flush."""
    await event_log(resources).flush()
    query = select(event_table)
    for column, value in where.items():
        query = query.where(event_table.c[column] == value)
    async with resources.db.read() as conn:
        return [dict(r._mapping) for r in await conn.execute(query.order_by(event_table.c.id))]
