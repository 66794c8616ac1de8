"""Job functions: thin wrappers over services, run by arq workers or the in-process runner.

Each takes arq's `ctx`, whose "resources" entry is the process's Resources. Jobs that meet
transient failures (database, Redis, network) retry with backoff (workers/retry.py).
"""

from __future__ import annotations

from typing import Any

from graphql_api.catalog.warming import warm_catalog
from graphql_api.core.jobs import JobFunction
from graphql_api.metrics.dashboard import warm_dashboard
from graphql_api.search.indexing import drain_outbox
from graphql_api.sync import service as sync
from workers.retry import retried


@retried
async def warm_cache(ctx: dict[str, Any]) -> dict[str, int]:
    """Fill the cache with what storefronts read first (graphql_api/catalog/warming.py) and the
    admin dashboard's default views (graphql_api/metrics/dashboard.py)."""
    return {**await warm_catalog(ctx["resources"]), **await warm_dashboard(ctx["resources"])}


async def warm_catalog_cache(ctx: dict[str, Any]) -> dict[str, int]:
    """The former name of `warm_cache`, for jobs queued under it before an upgrade."""
    return await warm_cache(ctx)


@retried
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


# A sync's changes queue a warm-up through PRODUCT_CHANGED (catalog/subscribers.py).
JOB_FUNCTIONS: list[JobFunction] = [warm_cache, warm_catalog_cache, index_search, sync_catalog]
