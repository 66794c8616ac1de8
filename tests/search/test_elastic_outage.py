"""The Elasticsearch adapter when its server hangs: a real TCP server that accepts connections and
never answers (what a stopped or overloaded node looks like from outside).

A search waits once, then the adapter knows the cluster is down: the next searches fall back at
once instead of each waiting for its own timeout, concurrent probes are one probe, and the
outage answer is kept for longer while it lasts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from graphql_api.core.database import Database
from graphql_api.core.settings import Settings
from graphql_api.search import elastic
from graphql_api.search.elastic import ElasticsearchSearch
from graphql_api.search.port import SearchRequest, SearchUnavailable


@pytest.fixture
async def hung_server() -> AsyncIterator[tuple[str, list[int]]]:
    """A server that reads requests and never answers; and its connection count."""
    connections = [0]
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections[0] += 1
        held.append(writer)
        await reader.read(65536)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", connections
    finally:
        server.close()
        for writer in held:
            writer.close()


@pytest.fixture
async def adapter(hung_server: tuple[str, list[int]], prepared: Settings,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ElasticsearchSearch]:
    monkeypatch.setattr(elastic, "_READY_TIMEOUT", 0.3)  # the probes' own timeout, made here
    settings = prepared.model_copy(update={"elasticsearch_url": hung_server[0],
                                           "elasticsearch_index": "hung"})
    db = Database(settings)
    search = ElasticsearchSearch(settings, db)
    yield search
    await search.close()
    await db.close()


async def test_a_hung_cluster_costs_one_timeout_then_searches_fall_back_at_once(
        adapter: ElasticsearchSearch, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(elastic, "REQUEST_TIMEOUT", 0.3)
    adapter._remember(True)  # as if a probe had just found it healthy: searches go to it

    started = time.monotonic()
    with pytest.raises(SearchUnavailable, match="no answer"):
        await adapter.search(SearchRequest("headphones"))
    assert 0.25 < time.monotonic() - started < 2

    # The failed search counts as a failed probe: no waiting now.
    started = time.monotonic()
    assert await adapter.ready() is False
    assert time.monotonic() - started < 0.05


async def test_concurrent_probes_are_one_and_an_outage_is_probed_less_often(
        adapter: ElasticsearchSearch, hung_server: tuple[str, list[int]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(elastic, "_READY_TTL", 0.2)
    _, connections = hung_server

    assert await asyncio.gather(*(adapter.ready() for _ in range(20))) == [False] * 20
    assert connections[0] == 1  # twenty callers, one probe

    # Expired, the last answer is given at once while the next probe runs in the background;
    # down twice in a row, the answer is kept twice as long as the first time.
    first_until = adapter._ready_until - time.monotonic()
    await asyncio.sleep(first_until + 0.01)
    started = time.monotonic()
    assert await adapter.ready() is False
    assert time.monotonic() - started < 0.05
    async with asyncio.timeout(2):
        while adapter._ready_until < time.monotonic():  # the background probe's answer
            await asyncio.sleep(0.01)
    assert connections[0] == 2
    assert adapter._ready_until - time.monotonic() > first_until * 1.5


async def test_a_caller_giving_up_does_not_cancel_the_shared_probe(
        adapter: ElasticsearchSearch, hung_server: tuple[str, list[int]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    impatient = asyncio.ensure_future(adapter.ready())
    patient = asyncio.ensure_future(adapter.ready())
    await asyncio.sleep(0.05)
    impatient.cancel()
    assert await patient is False
    assert hung_server[1][0] == 1


async def test_an_expired_answer_is_given_at_once_while_the_next_probe_runs(
        adapter: ElasticsearchSearch, hung_server: tuple[str, list[int]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No search waits a probe's round trip once a second: a healthy answer that has expired is
    still given while the probe runs; here the probe finds the cluster hung, and from then on
    the answer is the outage."""
    adapter._remember(True)
    adapter._ready_until = 0.0  # expired
    started = time.monotonic()
    assert await adapter.ready() is True
    assert time.monotonic() - started < 0.05
    async with asyncio.timeout(3):
        while hung_server[1][0] == 0 or adapter._ready_value:
            await asyncio.sleep(0.01)
    started = time.monotonic()
    assert await adapter.ready() is False
    assert time.monotonic() - started < 0.05
