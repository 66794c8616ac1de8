"""With Redis, each flushed batch is also appended to the capped stream `events`, which
consumers read with consumer groups; embedded, there is no stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from graphql_api.core.ids import to_global_id
from graphql_api.core.resources import Resources
from graphql_api.tracking.log import EventLog
from graphql_api.tracking.models import EventType, Source
from graphql_api.tracking.records import event_row
from graphql_api.tracking.stream import STREAM, EventStream
from tests.tracking.conftest import new_session, rows_of, track


@pytest.fixture
async def redis(resources: Resources) -> AsyncIterator[aioredis.Redis | None]:
    url = resources.settings.redis_url
    if url is None:
        yield None
        return
    client = aioredis.Redis.from_url(url, decode_responses=True)
    yield client
    await client.aclose()


async def read_group(redis: aioredis.Redis, group: str, consumer: str) -> list[tuple[str, dict[str, str]]]:
    found: list[tuple[str, dict[str, str]]] = []
    while True:
        reply = await redis.xreadgroup(group, consumer, {STREAM: ">"}, count=500)
        if not reply:
            return found
        found.extend(reply[0][1])


async def test_embedded_has_no_stream(log: EventLog, resources: Resources,
                                      redis: aioredis.Redis | None) -> None:
    assert (log.stream is None) == (resources.settings.redis_url is None)
    if redis is None:
        # Events are still stored: the table is the record either way.
        session = new_session()
        log.record([event_row(EventType.PAGE_VIEW, Source.CLIENT, session_id=session)])
        assert len(await rows_of(resources, session_id=session)) == 1


async def test_consumer_groups_read_each_flushed_event(
        client: httpx.AsyncClient, gql: Any, resources: Resources, log: EventLog,
        redis: aioredis.Redis | None) -> None:
    if redis is None:
        assert log.stream is None  # embedded: nothing to read (see test_embedded_has_no_stream)
        return
    await log.flush()
    # Two groups created at the stream's end ($): each sees every event added after, once.
    for group in ("analytics", "mailer"):
        await redis.xgroup_create(STREAM, group, id="$", mkstream=True)
    session = new_session()
    product = (await gql.data("{ products(first: 1) { edges { node { id } } } }"))[
        "products"]["edges"][0]["node"]["id"]
    await track(client, session, type="PAGE_VIEW", path="/", metadata={"ab": "B", "n": [1, 2]})
    await track(client, session, type="PRODUCT_VIEW", productId=product)
    await log.flush()
    entries = await read_group(redis, "analytics", "worker-1")
    ours = [fields for _, fields in entries if fields.get("sessionId") == session]
    assert [f["type"] for f in ours] == ["PAGE_VIEW", "PRODUCT_VIEW"]
    assert ours[0]["source"] == "client" and ours[0]["path"] == "/"
    assert json.loads(ours[0]["metadata"]) == {"ab": "B", "n": [1, 2]}
    assert ours[1]["productId"] == product and "metadata" not in ours[1]
    assert {"at", "type", "source"} <= set(ours[0])
    # Acknowledged, nothing is pending; unacknowledged entries stay pending for a retry.
    assert await redis.xack(STREAM, "analytics", *(i for i, _ in entries)) == len(entries)
    assert (await redis.xpending(STREAM, "analytics"))["pending"] == 0
    assert await read_group(redis, "analytics", "worker-2") == []
    mailer = await read_group(redis, "mailer", "m-1")
    assert [i for i, _ in mailer] == [i for i, _ in entries]
    assert (await redis.xpending(STREAM, "mailer"))["pending"] == len(mailer)
    for group in ("analytics", "mailer"):
        await redis.xgroup_destroy(STREAM, group)


async def test_server_events_reach_the_stream(resources: Resources, log: EventLog,
                                              redis: aioredis.Redis | None) -> None:
    if redis is None:
        assert log.stream is None
        return
    await log.flush()
    last = (await redis.xrevrange(STREAM, count=1) or [("0-0", {})])[0][0]
    await resources.events.emit("product.changed", {"ids": [1, 2], "op": "sync"})
    await log.flush()
    entries = await redis.xrange(STREAM, min=f"({last}")
    assert [(f["type"], f["source"], f["productId"]) for _, f in entries] == [
        ("PRODUCT_CHANGED", "server", to_global_id("Product", 1)),
        ("PRODUCT_CHANGED", "server", to_global_id("Product", 2))]


async def test_the_stream_is_capped(resources: Resources, log: EventLog,
                                    redis: aioredis.Redis | None) -> None:
    if redis is None:
        assert log.stream is None
        return
    assert resources.settings.redis_url is not None
    capped = EventLog(resources.db, resources.settings,
                      EventStream(resources.settings.redis_url, maxlen=200))
    capped.record([event_row(EventType.PAGE_VIEW, Source.CLIENT, path=str(i))
                   for i in range(1500)])
    await capped.close()
    # Approximate (MAXLEN ~): Redis trims whole nodes (100 entries each by default).
    assert 200 <= await redis.xlen(STREAM) <= 400


async def test_entries_carry_each_rows_fields_in_order(resources: Resources, log: EventLog,
                                                       redis: aioredis.Redis | None) -> None:
    """Every field as `stream_fields` gives it (order included), any text (accents, emoji,
    quotes, backslashes, JSON-looking strings), and the rows' order across script calls."""
    if redis is None:
        assert log.stream is None
        return
    from graphql_api.tracking.records import stream_fields
    from graphql_api.tracking.stream import CHUNK

    await log.flush()
    last = (await redis.xrevrange(STREAM, count=1) or [("0-0", {})])[0][0]
    session = new_session()
    odd = ['café "ü" \\ 🛒', '{"not": "json"}', "[1,2]", "0", "null", "x" * 500]
    rows = [event_row(EventType.SEARCH if i % 3 == 0 else EventType.PAGE_VIEW, Source.CLIENT,
                      session_id=session, user_id=i if i % 2 else None,
                      product_id=7 if i % 5 == 0 else None,
                      query=odd[i % len(odd)][:200] if i % 3 == 0 else None,
                      result_count=i if i % 3 == 0 else None, path=odd[(i + 1) % len(odd)],
                      metadata={"i": i, "t": odd[i % len(odd)]} if i % 4 == 0 else None)
            for i in range(2 * CHUNK + 7)]
    log.record(rows)
    await log.flush()
    entries = await redis.xrange(STREAM, min=f"({last}")
    ours = [fields for _, fields in entries if fields.get("sessionId") == session]
    assert [list(f.items()) for f in ours] == [list(stream_fields(r).items()) for r in rows]


async def test_each_chunk_waits_for_requests_in_flight(resources: Resources,
                                                       redis: aioredis.Redis | None) -> None:
    """The stream's script calls, like the table's statements, each come after the gate."""
    if redis is None:
        assert resources.settings.redis_url is None
        return
    from graphql_api.tracking.stream import CHUNK

    assert resources.settings.redis_url is not None
    order: list[str] = []
    last = (await redis.xrevrange(STREAM, count=1) or [("0-0", {})])[0][0]

    async def gate() -> None:
        order.append(f"gate after {await redis.xlen(STREAM)}")

    stream = EventStream(resources.settings.redis_url, maxlen=1_000_000, gate=gate)
    session = new_session()
    try:
        await stream.append([event_row(EventType.PAGE_VIEW, Source.CLIENT, session_id=session,
                                       path=str(i)) for i in range(2 * CHUNK + 1)])
    finally:
        await stream.close()
    entries = await redis.xrange(STREAM, min=f"({last}")
    assert [f["path"] for _, f in entries if f.get("sessionId") == session] == [
        str(i) for i in range(2 * CHUNK + 1)]
    start = int(order[0].split()[-1])
    assert order == [f"gate after {start + n * CHUNK}" for n in range(3)]
