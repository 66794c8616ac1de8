"""Reachability of the search backend, for /ready. The search port itself lives in `search/`."""

from __future__ import annotations

import logging

from elasticsearch import AsyncElasticsearch

log = logging.getLogger(__name__)


class SearchProbe:
    def __init__(self, elasticsearch_url: str | None) -> None:
        self.kind = "elasticsearch" if elasticsearch_url else "database"
        self.client = (
            AsyncElasticsearch(elasticsearch_url, request_timeout=3, max_retries=0)
            if elasticsearch_url
            else None
        )

    async def state(self) -> str:
        if self.client is None:
            return "ok"  # database search is as available as the database
        try:
            health = await self.client.cluster.health(timeout="2s")
            return "ok" if health.get("status") in ("green", "yellow") else "degraded"
        except Exception as exc:
            log.warning("elasticsearch not ready: %r", exc)
            return "degraded"

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
