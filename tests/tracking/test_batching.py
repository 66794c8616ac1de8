"""Writes are batched: a burst of N events ends as N rows written by a few transactions of
multi-row INSERTs, and what was accepted is written when the app stops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import event

from graphql_api.app import create_app
from graphql_api.core.resources import Resources
from graphql_api.core.settings import Settings
from graphql_api.tracking.log import STATEMENT_ROWS, EventLog, event_log
from graphql_api.tracking.models import EventType, Source
from graphql_api.tracking.records import event_row
from tests.tracking.conftest import new_session, rows_of

ALIASES = 25  # events per request, as a tracker that batches would send them


def aliased(count: int) -> str:
    calls = " ".join(f'e{i}: eventTrack(input: {{type: PAGE_VIEW, path: "/p/{i}"}}) '
                     "{ userErrors { code } }" for i in range(count))
    return f"mutation {{ {calls} }}"


@contextmanager
def event_inserts(resources: Resources) -> Iterator[list[str]]:
    """The INSERT statements into `event`, whichever task runs them."""
    seen: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO EVENT"):
            seen.append(statement)

    engine = resources.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


async def test_a_burst_is_written_in_few_inserts(client_from: Any, resources: Resources,
                                                 log: EventLog,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources.settings, "events_per_client", 10_000)
    session = new_session()
    clients = [client_from() for _ in range(8)]
    requests = 120  # 3,000 events from 8 clients at once
    query = aliased(ALIASES)
    await log.flush()
    transactions_before = log.inserts
    started = time.monotonic()
    with event_inserts(resources) as inserts:
        async def send(http: httpx.AsyncClient, n: int) -> None:
            for _ in range(n):
                response = await http.post("/graphql", json={"query": query},
                                           headers={"X-Session-Id": session})
                body = response.json()
                assert "errors" not in body, body
                assert all(v["userErrors"] == [] for v in body["data"].values())

        await asyncio.gather(*(send(c, requests // len(clients)) for c in clients))
        elapsed = time.monotonic() - started
        rows = await rows_of(resources, session_id=session)
    total = requests * ALIASES
    assert len(rows) == total
    assert sorted(r["path"] for r in rows) == sorted(f"/p/{i}" for i in range(ALIASES)
                                                       for _ in range(requests))
    # A flush when a batch (1,000) is waiting or 100 ms after the first event, whichever comes
    # first; each flush is one transaction of one INSERT per STATEMENT_ROWS rows.
    batch, interval = log.batch_size, log.interval
    transactions = log.inserts - transactions_before
    print(f"{total} events in {transactions} transactions, {len(inserts)} INSERTs, "
          f"over {elapsed:.2f} s")
    assert -(-total // batch) <= transactions <= total // batch + elapsed / interval + 2
    assert -(-total // STATEMENT_ROWS) <= len(inserts) <= (
        total // STATEMENT_ROWS + transactions)
    # One statement for many rows: column arrays on PostgreSQL, a multi-row VALUES on SQLite.
    many_rows = "UNNEST(" if resources.db.dialect == "postgresql" else "VALUES"
    assert all(many_rows in s.upper() for s in inserts)


async def test_rows_keep_the_order_they_were_accepted_in(resources: Resources,
                                                         log: EventLog) -> None:
    session = new_session()
    log.record([event_row(EventType.PAGE_VIEW, Source.CLIENT, session_id=session, path=str(i))
                for i in range(2500)])
    rows = await rows_of(resources, session_id=session)
    assert [r["path"] for r in rows] == [str(i) for i in range(2500)]


async def test_a_row_the_database_refuses_does_not_hold_up_the_rest(
        resources: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("graphql_api.tracking.log.RETRY_SECONDS", 0.01)
    log = EventLog(resources.db, resources.settings, None)
    session = new_session()
    bad = event_row(EventType.PAGE_VIEW, Source.CLIENT, session_id=session, path="x" * 10_000)
    good = [event_row(EventType.PAGE_VIEW, Source.CLIENT, session_id=session, path=str(i))
            for i in range(3)]
    log.record([good[0], bad, *good[1:]])
    await log.close()  # retries, then writes row by row
    paths = [r["path"] for r in await rows_of(resources, session_id=session)]
    if resources.db.dialect == "sqlite":  # SQLite does not enforce VARCHAR lengths
        assert paths == ["0", "x" * 10_000, "1", "2"]
    else:
        assert paths == ["0", "1", "2"]


async def test_stopping_the_app_writes_what_it_accepted(prepared: Settings,
                                                        resources: Resources) -> None:
    # Flushes far apart: only the shutdown can have written these.
    settings = prepared.model_copy(update={"events_flush_interval_ms": 600_000,
                                           "events_batch_size": 5000})
    app = create_app(settings)
    session = new_session()
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            for _ in range(4):
                response = await http.post("/graphql", json={"query": aliased(ALIASES)},
                                           headers={"X-Session-Id": session})
                assert "errors" not in response.json()
        own: EventLog = event_log(app.state.resources)
        assert own.waiting == 4 * ALIASES and own.written == 0
        assert await rows_of(resources, session_id=session) == []
    assert len(await rows_of(resources, session_id=session)) == 4 * ALIASES
