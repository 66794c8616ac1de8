"""`cacheStats` (admin): how the cache serves, for whoever tunes warming and TTLs."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.accounts.permissions import require_admin


@strawberry.type(description="Lookups of cached data since the counters started: on Redis "
                 "those of every process sharing it, in memory this process's own.")
class CacheStats:
    backend: str = strawberry.field(description="`memory`, `redis` or `disabled`.")
    hits: int
    misses: int
    hit_rate: float = strawberry.field(description="hits / (hits + misses); 0 before any lookup.")
    keys: int = strawberry.field(description="Entries the cache holds now.")


@strawberry.type
class CacheStatsQuery:
    @strawberry.field(description="Admin: the cache's hits, misses and size.")
    async def cache_stats(self, info: Info) -> CacheStats:
        await require_admin(info)
        stats = await info.context.resources.cache.stats()
        return CacheStats(backend=stats.backend, hits=stats.hits, misses=stats.misses,
                          hit_rate=stats.hit_rate, keys=stats.keys)
