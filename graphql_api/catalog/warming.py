"""Cache warming: fill what storefronts read first, so the first visitor after a write gets hits.

What is filled, through the very `CatalogReads` calls the resolvers make (so the keys are theirs):
- `categories` (the list, and each category's product count),
- the first page of each category, as `category(slug) { products }` and as
  `products(filter: {categorySlug})` ask for it (default sort and page size), and the first page
  of `products`, each with its `totalCount`,
- the product detail of the most viewed products, by the lookup visitors used (`id`, `sku` or
  `slug`); `ProductViews` counts the views.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import Any

from graphql_api.catalog.reads import GENERATION_KEY, CatalogReads
from graphql_api.catalog.records import CategoryRecord
from graphql_api.catalog.service import ProductQuery, ProductSort
from graphql_api.core.pagination import PageArgs
from graphql_api.core.resources import Resources

log = logging.getLogger(__name__)

WARM_JOB = "warm_cache"
# The resolvers' defaults: `PageArgs().validated()` and the `ProductSort` input's defaults.
FIRST_PAGE = PageArgs().validated(max_size=1 << 30)
DEFAULT_SORT = ProductSort()
CONCURRENCY = 3  # categories warmed at once (each reads two pages and two counts at once)
MAX_ROUNDS = 3  # warm again when a write retired the generation mid-way, at most this often


async def queue_cache_warming(resources: Resources, defer: float = 0) -> bool:
    """Queue a warm-up (after a write or a sync), to start `defer` seconds from now. One queued
    warm-up at a time: the writes of a burst warm once. Never raises: warming is best effort."""
    try:
        return await resources.jobs.enqueue(WARM_JOB, job_id=WARM_JOB, defer=defer)
    except Exception as exc:
        log.warning("could not queue cache warming: %r", exc)
        return False


async def warm_catalog(resources: Resources) -> dict[str, int]:
    """Fill the cache; returns how many entries of each kind were filled (missing before)."""
    filled: Counter[str] = Counter()
    cache = resources.cache
    for _ in range(MAX_ROUNDS):
        reads = CatalogReads(resources)
        generation = await reads.generation()
        if generation is None:
            log.info("cache warm-up skipped: no cache")
            break
        await _fill(reads, resources.settings.cache_warm_products, filled)
        # A write during the warm-up retired what it filled; its own warm-up request was
        # refused (this one held the job id), so warm the new generation too.
        if await cache.get(GENERATION_KEY, count=False) == generation:
            break
    result = {kind: filled[kind] for kind in
              ("categories", "category_pages", "listing_pages", "products", "already_warm")}
    log.info("cache warm-up filled %d categories entries, %d category pages, %d listing pages, "
             "%d product details (%d entries were warm already)", result["categories"],
             result["category_pages"], result["listing_pages"], result["products"],
             result["already_warm"])
    return result


async def _fill(reads: CatalogReads, products: int, filled: Counter[str]) -> None:
    cache = reads.cache

    async def kind(name: str, *loads: Any) -> None:
        with cache.tally() as tally:
            await asyncio.gather(*loads)
        filled[name] += tally.misses
        filled["already_warm"] += tally.hits

    with cache.tally() as tally:
        categories = await reads.categories()
    filled["categories"] += tally.misses
    filled["already_warm"] += tally.hits
    await kind("categories", reads.category_counts())
    # A few categories at a time: quick, without taking the database's whole pool.
    gate = asyncio.Semaphore(CONCURRENCY)

    async def category_pages(category: CategoryRecord) -> None:
        by_id = ProductQuery(category_id=category.id)  # category(slug) { products }
        by_slug = ProductQuery(category_slug=category.slug)  # products(filter: {categorySlug})
        async with gate:
            await kind("category_pages", reads.products_page(by_id, DEFAULT_SORT, FIRST_PAGE),
                       reads.products_count(by_id))
            await kind("listing_pages", reads.products_page(by_slug, DEFAULT_SORT, FIRST_PAGE),
                       reads.products_count(by_slug))

    await asyncio.gather(*(category_pages(c) for c in categories))
    everything = ProductQuery()
    await kind("listing_pages", reads.products_page(everything, DEFAULT_SORT, FIRST_PAGE),
               reads.products_count(everything))
    top = await product_views(reads.resources).top(products)
    ids = [int(v) for by, v in top if by == "id" and v.isdigit()]
    await kind("products", reads.products_by_ids(ids),
               *(reads.product_by(sku=v) for by, v in top if by == "sku"),
               *(reads.product_by(slug=v) for by, v in top if by == "slug"))


# --- product views ------------------------------------------------------------------------------

VIEWS_RANKING = "product-views"
TRACKED_PRODUCTS = 1000  # the ranking keeps this many products
FLUSH_SECONDS = 1.0


class ProductViews:
    """Counts product detail views, cheaply: in this process first, then added to the shared
    ranking (a Redis sorted set, or an in-memory counter) in one pipelined batch per second."""

    def __init__(self, resources: Resources) -> None:
        self.cache = resources.cache
        self._pending: Counter[str] = Counter()
        self._flush_task: asyncio.Task[None] | None = None

    def record(self, members: list[str]) -> None:
        """`members` as `member()` spells them."""
        if not members or self.cache.kind == "disabled":
            return
        self._pending.update(members)
        if self._flush_task is None:
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        try:
            await asyncio.sleep(FLUSH_SECONDS)
            await self.flush()
        finally:
            self._flush_task = None

    async def flush(self) -> None:
        pending, self._pending = self._pending, Counter()
        await self.cache.rank_add(VIEWS_RANKING, pending, keep=TRACKED_PRODUCTS)

    async def top(self, n: int) -> list[tuple[str, str]]:
        """The `n` most viewed, as (lookup, value): ("id", "12"), ("slug", "blue-mug")."""
        await self.flush()
        return [(by, value) for by, _, value in
                (m.partition(":") for m in await self.cache.rank_top(VIEWS_RANKING, n))]

    async def close(self) -> None:
        if self._flush_task is not None:
            self._flush_task.cancel()
        with contextlib.suppress(Exception):
            await self.flush()


def member(by: str, value: str | int) -> str:
    return f"{by}:{value}"


def product_views(resources: Resources) -> ProductViews:
    """The process's view counter (one per Resources)."""
    views = resources.extras.get("product_views")
    if views is None:
        views = resources.extras["product_views"] = ProductViews(resources)
    return views
