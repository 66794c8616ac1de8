"""Our server with the catalog cache switched off, for measuring the database path.

graphql_api has no setting that disables its cache (in-memory without REDIS_URL, Redis with it),
so a fair comparison with the cache-less baseline needs this bench-only shim: it builds the real
app with `graphql_api.app.create_app` and, once the app's resources are open, swaps their cache
for `NullCache`. Its `increment` answers None, which CatalogReads treats as "no cache" (the same
path it takes when Redis is down), so every request reads PostgreSQL and nothing is serialised
into a cache. Nothing else changes: same schema, HTTP handler, engine and pool.

Serve it like `graphql-api serve`:  python bench/nocache.py --port 8002
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiocache import Cache as AioCache
from starlette.applications import Starlette

from graphql_api.app import create_app
from graphql_api.core.cache import Cache
from graphql_api.core.settings import Settings, get_settings


class NullCache(Cache):
    """A cache that holds nothing: every read misses and every write is dropped."""

    def __init__(self) -> None:
        super().__init__(AioCache(AioCache.MEMORY), "disabled", default_ttl=0)

    async def get(self, key: str) -> Any | None:
        return None

    async def multi_get(self, keys: list[str]) -> list[Any | None]:
        return [None] * len(keys)

    async def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        return None

    async def delete(self, *keys: str) -> None:
        return None

    async def increment(self, key: str) -> int | None:
        return None  # no generation: CatalogReads bypasses the cache entirely

    async def get_or_set(
        self, key: str, factory: Callable[[], Awaitable[Any]], ttl: int | None = None
    ) -> Any:
        return await factory()

    async def ping(self) -> bool:
        return True

    async def clear(self) -> None:
        return None

    async def close(self) -> None:
        return None


def disable_cache(app: Starlette) -> Starlette:
    """Wrap the app's lifespan so that its resources use NullCache once opened."""
    opened = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(inner: Starlette) -> AsyncIterator[Any]:
        async with opened(inner) as state:
            resources = inner.state.resources
            await resources.cache.close()
            resources.cache = NullCache()
            yield state

    app.router.lifespan_context = lifespan
    return app


def create_app_without_cache(settings: Settings | None = None) -> Starlette:
    return disable_cache(create_app(settings))


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    settings = get_settings()
    # As `graphql-api serve --workers 1` runs it (graphql_api.cli.cmd_serve), minus the
    # embedded-SQLite preparation, which a PostgreSQL DATABASE_URL skips anyway.
    uvicorn.run(
        create_app_without_cache,
        factory=True,
        host=args.host,
        port=args.port,
        workers=1,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
