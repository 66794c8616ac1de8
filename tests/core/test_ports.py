"""The cache, pub/sub and job ports, each on the adapter this run is configured for."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from graphql_api.core.cache import Cache
from graphql_api.core.jobs import ArqJobs, InProcessJobs
from graphql_api.core.pubsub import channel_prefix, create_pubsub
from graphql_api.core.resources import Resources


async def test_cache_round_trip(resources: Resources) -> None:
    cache = resources.cache
    key = f"t:{uuid.uuid4().hex}"
    assert await cache.get(key) is None
    await cache.set(key, {"a": [1, "2"], "b": None}, ttl=30)
    assert await cache.get(key) == {"a": [1, "2"], "b": None}
    assert await cache.multi_get([key, key + "x"]) == [{"a": [1, "2"], "b": None}, None]
    assert await cache.increment(key + ":n") == 1
    assert await cache.increment(key + ":n") == 2
    await cache.multi_set([(key + ":a", 1), (key + ":b", [2])])
    assert await cache.multi_get([key + ":a", key + ":b"]) == [1, [2]]
    calls = []

    async def factory() -> int:
        calls.append(1)
        return 42

    fresh = key + ":fresh"
    assert await cache.get_or_set(fresh, factory) == 42
    assert await cache.get_or_set(fresh, factory) == 42
    assert calls == [1]


async def test_cache_values_are_copies(resources: Resources) -> None:
    key = f"t:{uuid.uuid4().hex}"
    value = {"tags": ["a"]}
    await resources.cache.set(key, value)
    value["tags"].append("mutated")
    got = await resources.cache.get(key)
    got["tags"].append("again")
    assert await resources.cache.get(key) == {"tags": ["a"]}


async def test_unreachable_redis_degrades_to_no_cache() -> None:
    cache = Cache.from_url("redis://127.0.0.1:1/0", default_ttl=10)  # nothing listens on port 1
    assert await cache.get("k") is None
    await cache.set("k", 1)
    assert await cache.increment("k") is None
    assert await cache.ping() is False
    assert await cache.get_or_set("k", lambda: asyncio.sleep(0, result=7)) == 7
    await cache.close()


async def test_pubsub_delivers_to_every_subscriber(resources: Resources) -> None:
    pubsub = resources.pubsub
    channel = f"test:{uuid.uuid4().hex}"
    received: list[list[dict[str, Any]]] = [[], []]
    ready = asyncio.Event()
    subscribed = 0

    async def listen(slot: int) -> None:
        nonlocal subscribed
        async with pubsub.subscribe(channel) as messages:
            subscribed += 1
            if subscribed == 2:
                ready.set()
            async for message in messages:
                received[slot].append(message)
                if len(received[slot]) == 2:
                    return

    tasks = [asyncio.create_task(listen(i)) for i in range(2)]
    await asyncio.wait_for(ready.wait(), 5)
    await asyncio.sleep(0.05)  # Redis confirms a subscription asynchronously
    if pubsub.kind == "redis":
        # Two local subscribers, one Redis subscription: the process fans out itself.
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(resources.settings.redis_url)
        named = channel_prefix(client) + channel  # the channel as Redis knows it
        assert (await client.pubsub_numsub(named)) == [(named.encode(), 1)]
        await client.aclose()
    await pubsub.publish(channel, {"n": 1})
    await pubsub.publish(channel, {"n": 2})
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert received == [[{"n": 1}, {"n": 2}]] * 2


async def test_pubsub_crosses_adapter_instances(resources: Resources) -> None:
    """Two pub/sub objects on one Redis stand for two processes; in-process only sees itself."""
    if resources.pubsub.kind != "redis":
        other = resources.pubsub
    else:
        other = create_pubsub(resources.settings.redis_url)
    channel = f"test:{uuid.uuid4().hex}"
    async with resources.pubsub.subscribe(channel) as messages:
        await asyncio.sleep(0.05)
        await other.publish(channel, {"from": "other"})
        message = await asyncio.wait_for(anext(aiter(messages)), 5)
    assert message == {"from": "other"}
    if other is not resources.pubsub:
        await other.close()


async def test_pubsub_stays_within_its_redis_database(resources: Resources) -> None:
    """Redis channels are server-wide: a deployment on another database of the same Redis must
    not hear this one's events (nor this one its)."""
    if resources.pubsub.kind != "redis":
        pytest.skip("in-process pub/sub has no neighbours")
    url = resources.settings.redis_url or ""
    base, _, db = url.rpartition("/")
    neighbour = create_pubsub(f"{base}/{(int(db or 0) + 1) % 16}")
    channel = f"test:{uuid.uuid4().hex}"
    try:
        async with resources.pubsub.subscribe(channel) as mine, \
                neighbour.subscribe(channel) as theirs:
            await asyncio.sleep(0.05)
            await neighbour.publish(channel, {"from": "neighbour"})
            await resources.pubsub.publish(channel, {"from": "us"})
            assert await asyncio.wait_for(anext(aiter(mine)), 5) == {"from": "us"}
            assert await asyncio.wait_for(anext(aiter(theirs)), 5) == {"from": "neighbour"}
    finally:
        await neighbour.close()


async def test_jobs_run_the_shared_job_functions(resources: Resources) -> None:
    """The cache-warming job fills the catalog cache, through whichever runner is configured."""
    from graphql_api.catalog.reads import CatalogReads

    await resources.cache.clear()
    if isinstance(resources.jobs, InProcessJobs):
        assert await resources.jobs.enqueue("warm_catalog_cache", job_id="warm-test")
        await resources.jobs.drain()
    else:
        assert isinstance(resources.jobs, ArqJobs)
        from arq.worker import Worker

        from workers.settings import WorkerSettings

        job_id = f"warm-{uuid.uuid4().hex}"
        assert await resources.jobs.enqueue("warm_catalog_cache", job_id=job_id)
        # A second enqueue with the same id is refused while the first is queued.
        assert not await resources.jobs.enqueue("warm_catalog_cache", job_id=job_id)
        worker = Worker(
            functions=WorkerSettings.functions,
            redis_pool=await resources.jobs.pool(),
            burst=True,
            poll_delay=0.05,
            on_startup=WorkerSettings.on_startup,
            on_shutdown=WorkerSettings.on_shutdown,
        )
        await worker.async_run()
        assert worker.jobs_complete >= 1 and worker.jobs_failed == 0
        await worker.close()
    reads = CatalogReads(resources)
    prefix = await reads._prefix()
    cached = await resources.cache.get(f"{prefix}:categories")
    assert cached and len(cached) >= 20


async def test_in_process_jobs_dedupe_and_survive_failures() -> None:
    runs: list[str] = []

    async def slow(ctx: dict[str, Any], name: str) -> None:
        await asyncio.sleep(0.05)
        runs.append(name)

    async def broken(ctx: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    jobs = InProcessJobs([slow, broken], {})
    assert await jobs.enqueue("slow", "a", job_id="same")
    assert not await jobs.enqueue("slow", "b", job_id="same")
    assert await jobs.enqueue("broken")
    await jobs.drain()
    assert runs == ["a"]
    assert await jobs.enqueue("slow", "c", job_id="same")
    await jobs.close()
    assert runs == ["a", "c"]


async def test_readiness_reports_unreachable_backends(tmp_path: Any) -> None:
    """Nothing listens on port 1: the database is unavailable, cache and search degraded."""
    from graphql_api.core.settings import Settings

    settings = Settings(data_dir=tmp_path, database_url="postgresql+asyncpg://u:p@127.0.0.1:1/x",
                        redis_url="redis://127.0.0.1:1/0", elasticsearch_url="http://127.0.0.1:1")
    pubsub = create_pubsub(settings.redis_url)
    from graphql_api.core.database import Database
    from graphql_api.core.events import EventBus
    from graphql_api.core.search_probe import SearchProbe

    resources = Resources(settings=settings, db=Database(settings),
                          cache=Cache.from_url(settings.redis_url, 10), pubsub=pubsub,
                          jobs=InProcessJobs([], {}), events=EventBus(pubsub),
                          search=SearchProbe(settings.elasticsearch_url))
    checks = await resources.readiness()
    await resources.close()
    assert checks == {"database": "unavailable", "cache:redis": "degraded",
                      "pubsub:redis": "degraded", "search:elasticsearch": "degraded"}


async def test_introspection_can_be_turned_off(tmp_path: Any) -> None:
    from graphql_api.core.settings import Settings
    from graphql_api.schema import build_schema

    closed = build_schema(Settings(data_dir=tmp_path, introspection=False))
    result = await closed.execute("{ __schema { queryType { name } } }")
    assert result.errors and result.data is None
    # Nor do validation errors spell the schema out.
    typo = await closed.execute("{ categoriez { slug } }")
    assert typo.errors and "Did you mean" not in typo.errors[0].message
    opened = build_schema(Settings(data_dir=tmp_path))
    assert (await opened.execute("{ __schema { queryType { name } } }")).data == {
        "__schema": {"queryType": {"name": "Query"}}}


async def test_the_api_starts_and_serves_while_redis_is_down(prepared: Any, tmp_path: Any) -> None:
    """Redis stopped (nothing listens on port 1): no cache, no pub/sub, but the shop answers."""
    import httpx
    from asgi_lifespan import LifespanManager

    from graphql_api.app import create_app

    settings = prepared.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            body = (await http.post("/graphql", json={
                "query": "{ products(first: 3) { totalCount edges { node { id } } } }"})).json()
            assert len(body["data"]["products"]["edges"]) == 3
            ready = await http.get("/ready")
            assert ready.status_code == 200
            assert ready.json()["checks"]["cache:redis"] == "degraded"


async def test_a_redis_that_accepts_but_never_answers_does_not_hang_requests(
    prepared: Any,
) -> None:
    """A hung Redis (accepts connections, never replies): writes finish and reads stay quick."""
    import time

    import httpx
    from asgi_lifespan import LifespanManager

    from graphql_api.accounts.models import Role
    from graphql_api.app import create_app
    from tests.catalog.test_product_admin import CREATE, UPDATE, new_sku
    from tests.conftest import make_user

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):
            pass
        writer.close()

    blackhole = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = blackhole.sockets[0].getsockname()[1]
    settings = prepared.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    app = create_app(settings)
    try:
        async with LifespanManager(app):
            _, _, token = await make_user(app.state.resources, Role.ADMIN)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api",
                                         timeout=60) as http:
                async def post(query: str, variables: dict[str, Any]) -> Any:
                    response = await http.post("/graphql", json={
                        "query": query, "variables": variables},
                        headers={"Authorization": f"Bearer {token}"})
                    return response.json()

                started = time.monotonic()
                made = await post(CREATE, {"input": {"sku": new_sku(), "name": "Hung",
                                                     "price": "1"}})
                product_id = made["data"]["productCreate"]["product"]["id"]
                updated = await post(UPDATE, {"id": product_id, "input": {"stock": 6}})
                assert updated["data"]["productUpdate"]["product"]["stock"] == 6
                assert time.monotonic() - started < 20
                # The breaker is open now: a read costs no cache timeouts at all.
                started = time.monotonic()
                read = await post("query($id: ID!) { node(id: $id) { ... on Product { stock } } }",
                                  {"id": product_id})
                assert read["data"]["node"] == {"stock": 6}
                assert time.monotonic() - started < 0.5
    finally:
        blackhole.close()


async def test_the_in_memory_cache_is_bounded(monkeypatch: Any) -> None:
    from graphql_api.core import cache as cache_module

    monkeypatch.setattr(cache_module, "MAX_MEMORY_ENTRIES", 50)
    cache = Cache.from_url(None, default_ttl=60)
    for i in range(120):
        await cache.set(f"k{i}", i)
    assert len(cache.backend._cache) <= 50
    assert await cache.get("k119") == 119
