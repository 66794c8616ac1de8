"""`cacheStats`: admins only; hits and misses as the cache layer counted them, shared on Redis."""

from __future__ import annotations

from typing import Any

from graphql_api.core.cache import Cache
from graphql_api.core.resources import Resources

STATS = "{ cacheStats { backend hits misses hitRate keys } }"


async def _stats(gql: Any, token: str) -> dict[str, Any]:
    return (await gql.data(STATS, token=token))["cacheStats"]  # type: ignore[no-any-return]


async def test_only_admins_read_cache_stats(gql: Any, customer_token: str) -> None:
    anonymous = await gql(STATS)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    customer = await gql(STATS, token=customer_token)
    assert customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_lookups_are_counted_as_hits_and_misses(client: Any, gql: Any, admin_token: str,
                                                      resources: Resources) -> None:
    before = await _stats(gql, admin_token)
    assert before["backend"] == resources.cache.kind
    query = {"query": "query($n: Int) { products(first: $n) { totalCount } }",
             "variables": {"n": 7}}
    await client.post("/graphql", json=query)
    await client.post("/graphql", json=query)  # served whole from the response cache: a hit
    after = await _stats(gql, admin_token)
    assert after["misses"] > before["misses"]
    assert after["hits"] >= before["hits"] + 1
    lookups = after["hits"] + after["misses"]
    assert abs(after["hitRate"] - after["hits"] / lookups) < 1e-9
    assert after["keys"] >= 2  # at least the page and the response


async def test_on_redis_every_process_adds_up(gql: Any, admin_token: str,
                                              resources: Resources) -> None:
    """Another Cache on the same Redis stands for another process."""
    if resources.cache.kind != "redis":
        # In memory the counts are this process's own, and keys the size of its store.
        stats = await resources.cache.stats()
        assert stats.keys == len(resources.cache.backend._cache)
        return
    other = Cache.from_url(resources.settings.redis_url, 60)
    try:
        before = await _stats(gql, admin_token)
        for i in range(5):
            await other.get(f"missing:{i}")
        await other.set("present", 1)
        await other.get("present")
        await other.flush_stats()  # batched: a process adds its counts up to a second later
        after = await _stats(gql, admin_token)
        assert after["misses"] - before["misses"] >= 5
        assert after["hits"] - before["hits"] >= 1
    finally:
        await other.close()


async def test_disabled_cache_reports_itself() -> None:
    cache = Cache.from_url(None, 60, enabled=False)
    await cache.get("x")
    stats = await cache.stats()
    assert (stats.backend, stats.hits, stats.misses, stats.keys) == ("disabled", 0, 1, 0)
    assert stats.hit_rate == 0.0
