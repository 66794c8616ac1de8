"""What follows a catalog write: the cache forgets, and the cache-warming job is queued."""

from __future__ import annotations

from typing import Any

from graphql_api.catalog.reads import invalidate_catalog
from graphql_api.catalog.warming import queue_cache_warming
from graphql_api.core.events import PRODUCT_CHANGED, USER_CHANGED
from graphql_api.core.resources import Resources


def register_catalog_subscribers(resources: Resources) -> None:
    async def forget_cached_catalog(_: dict[str, Any]) -> None:
        await invalidate_catalog(resources)

    async def warm_again(_: dict[str, Any]) -> None:
        settings = resources.settings
        if settings.cache_warm_after_writes:
            # Deferred: the writes that follow within the delay join this warm-up.
            await queue_cache_warming(resources, defer=settings.cache_warm_delay_seconds)

    resources.events.on(PRODUCT_CHANGED, forget_cached_catalog)
    # Reviews show their author's name, and cached catalog responses hold reviews.
    resources.events.on(USER_CHANGED, forget_cached_catalog)
    resources.events.on(PRODUCT_CHANGED, warm_again)
