"""Job functions: thin wrappers over services, run by arq workers or the in-process runner.

Each takes arq's `ctx`, whose "resources" entry is the process's Resources.
"""

from __future__ import annotations

from typing import Any

from graphql_api.catalog.reads import CatalogReads
from graphql_api.catalog.service import ProductQuery, ProductSort
from graphql_api.core.jobs import JobFunction
from graphql_api.core.pagination import DEFAULT_PAGE_SIZE, PageArgs
from graphql_api.search.indexing import drain_outbox
from graphql_api.sync import service as sync


async def warm_catalog_cache(ctx: dict[str, Any]) -> dict[str, int]:
    """Fill the cache with what nearly every visit reads: categories and the first product page."""
    reads = CatalogReads(ctx["resources"])
    categories = await reads.categories()
    await reads.category_counts()
    page = await reads.products_page(ProductQuery(), ProductSort(), PageArgs(DEFAULT_PAGE_SIZE))
    await reads.products_count(ProductQuery())
    return {"categories": len(categories), "products": len(page.rows)}


async def index_search(ctx: dict[str, Any]) -> dict[str, int]:
    """Drain the search outbox into the index (a no-op drain with the database adapter)."""
    resources = ctx["resources"]
    return {"indexed": await drain_outbox(resources, resources.search)}


async def sync_catalog(ctx: dict[str, Any], prune: bool = False) -> dict[str, Any] | None:
    """Run a catalog sync (a queued trigger's, or a new one); None when one runs elsewhere or
    sync is off (SYNC_SOURCE_URL unset: the cron may still fire)."""
    try:
        run = await sync.sync_catalog(ctx["resources"], prune)
    except sync.SyncNotConfigured:
        return None
    if run is None:
        return None
    return {"run": run.id, "status": run.status, "created": run.created, "updated": run.updated}


JOB_FUNCTIONS: list[JobFunction] = [warm_catalog_cache, index_search, sync_catalog]
