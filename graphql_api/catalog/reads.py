"""Catalog reads through the cache.

Every catalog key carries the catalog generation; a product write bumps it, which retires every
cached page and product at once, in every process sharing the cache.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from graphql_api.catalog import service
from graphql_api.catalog.records import CategoryRecord, ProductRecord
from graphql_api.core.pagination import Page, PageArgs, cursor_function
from graphql_api.core.resources import Resources

log = logging.getLogger(__name__)

GENERATION_KEY = "catalog:generation"


async def invalidate_catalog(resources: Resources) -> None:
    if await resources.cache.increment(GENERATION_KEY, attempts=3) is None:
        # Readers may see the old catalog until their entries expire (CACHE_TTL_SECONDS).
        log.error("could not retire the cached catalog; stale reads possible until the TTL ends")


_product = ProductRecord.from_json


class CatalogReads:
    """One per request: it reads the generation once and reuses it."""

    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.cache = resources.cache
        self._generation: int | None = None
        self._generation_read = False

    async def generation(self) -> int | None:
        """The catalog generation this request reads under; None when there is no cache."""
        if not self._generation_read:
            self._generation_read = True
            generation = await self.cache.get(GENERATION_KEY, count=False)
            if generation is None:
                # First reader (or an evicted key): start a generation; a failure means no cache.
                generation = await self.cache.increment(GENERATION_KEY)
            self._generation = generation
        return self._generation

    async def generation_with(self, key: str) -> tuple[int | None, Any | None]:
        """The generation, as `generation()` gives it, and the raw value of one other cache key,
        read together in one round trip (MGET): a cached response checks that it was made under
        the current generation without a second trip to Redis. The generation is kept for the
        rest of the request. The value is not counted as a lookup: its reader judges it."""
        if self._generation_read:
            return self._generation, (await self.cache.multi_get([key], count=False))[0]
        generation, value = await self.cache.multi_get([GENERATION_KEY, key], count=False)
        if generation is None:
            # First reader (or an evicted key): start a generation; nothing was cached under it.
            self._generation_read = True
            self._generation = await self.cache.increment(GENERATION_KEY)
            return self._generation, None
        self._generation_read, self._generation = True, int(generation)
        return self._generation, value

    async def _prefix(self) -> str | None:
        generation = await self.generation()
        return None if generation is None else f"catalog:{generation}"

    async def cached(self, suffix: str, load: Callable[[], Awaitable[Any]]) -> Any:
        """`load()` (JSON-able) through the cache under this generation; for reads of other
        domains that derive from the catalog (search)."""
        return await self._cached(suffix, load)

    async def _cached(self, suffix: str, load: Callable[[], Awaitable[Any]]) -> Any:
        """`load()` through the cache under this generation (straight through without a cache)."""
        prefix = await self._prefix()
        if prefix is None:
            return await load()
        return await self.cache.get_or_set(f"{prefix}:{suffix}", load)

    async def products_page(
        self, query: service.ProductQuery, sort: service.ProductSort, page: PageArgs,
        columns: frozenset[str] | None = None,
    ) -> Page[ProductRecord]:
        """`columns`: the record fields the caller needs (catalog/projection.py). Only an
        uncached read takes just those: a cached page is whole, for every selection after it."""
        prefix = await self._prefix()
        if prefix is None:
            async with self.resources.db.read() as conn:
                return await service.list_products(conn, query, sort, page, columns)
        key = f"{prefix}:page:{query.cache_key()}:{sort.field.value}:{sort.descending}:{page}"
        if (hit := await self.cache.get(key)) is not None:
            return Page([_product(r) for r in hit["rows"]], cursor_function(sort.values),
                        hit["has_next"], hit["has_previous"])
        async with self.resources.db.read() as conn:
            result = await service.list_products(conn, query, sort, page)
        await self.cache.set(key, {
            "rows": [p.to_json() for p in result.rows],
            "has_next": result.has_next,
            "has_previous": result.has_previous,
        })
        return result

    async def products_count(self, query: service.ProductQuery) -> int:
        async def count() -> int:
            async with self.resources.db.read() as conn:
                return await service.count_products(conn, query)

        return int(await self._cached(f"count:{query.cache_key()}", count))

    async def products_by_ids(self, ids: list[int]) -> dict[int, ProductRecord]:
        prefix = await self._prefix()
        found: dict[int, ProductRecord] = {}
        if prefix is not None:
            hits = await self.cache.multi_get([f"{prefix}:product:{i}" for i in ids])
            found = {i: _product(h) for i, h in zip(ids, hits, strict=True) if h is not None}
        missing = [i for i in ids if i not in found]
        if missing:
            async with self.resources.db.read() as conn:
                loaded = await service.products_by_ids(conn, missing)
            found.update(loaded)
            if prefix is not None:
                await self.cache.multi_set(
                    [(f"{prefix}:product:{pid}", p.to_json()) for pid, p in loaded.items()]
                )
        return found

    async def low_stock(self, threshold: int, limit: int) -> list[ProductRecord]:
        """Under the catalog generation: a stock change is a product change, which retires it."""
        async def load() -> list[dict[str, Any]]:
            async with self.resources.db.read() as conn:
                return [p.to_json() for p in await service.low_stock(conn, threshold, limit)]

        return [_product(r) for r in await self._cached(f"low-stock:{threshold}:{limit}", load)]

    async def product_by(self, *, sku: str | None = None, slug: str | None = None
                         ) -> ProductRecord | None:
        async def load() -> dict[str, Any] | None:
            async with self.resources.db.read() as conn:
                product = await service.product_by(conn, sku=sku, slug=slug)
            return None if product is None else product.to_json()

        by = f"sku:{sku}" if sku is not None else f"slug:{slug}"
        data = await self._cached(f"product-by:{by}", load)
        return None if data is None else _product(data)

    async def categories(self) -> list[CategoryRecord]:
        async def load() -> list[dict[str, Any]]:
            async with self.resources.db.read() as conn:
                return [c.to_json() for c in await service.all_categories(conn)]

        return [CategoryRecord.from_json(r) for r in await self._cached("categories", load)]

    async def categories_by_ids(self, ids: list[int]) -> dict[int, CategoryRecord]:
        """From the cached full list when there is a cache, else just the rows asked for."""
        if await self._prefix() is not None:
            return {c.id: c for c in await self.categories()}
        async with self.resources.db.read() as conn:
            return await service.categories_by_ids(conn, ids)

    async def category_counts(self) -> dict[int, int]:
        async def load() -> dict[str, int]:
            async with self.resources.db.read() as conn:
                counts = await service.product_counts_by_category(conn)
            return {str(k): v for k, v in counts.items()}  # JSON object keys are strings

        raw = await self._cached("category-counts", load)
        return {int(k): int(v) for k, v in raw.items()}
