"""Everything a process holds open: database, cache, pub/sub, jobs and the event bus.

Adapters are chosen once here from settings; domain code never asks which one it has.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql_api.core.cache import Cache
from graphql_api.core.database import Database
from graphql_api.core.events import EventBus
from graphql_api.core.jobs import ArqJobs, InProcessJobs, JobFunction, JobQueue
from graphql_api.core.pubsub import PubSub, create_pubsub
from graphql_api.core.search_probe import SearchProbe
from graphql_api.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Resources:
    settings: Settings
    db: Database
    cache: Cache
    pubsub: PubSub
    jobs: JobQueue
    events: EventBus
    # The reachability probe until the app puts its SearchEngine here (search/factory.py).
    search: Any
    extras: dict[str, Any] = field(default_factory=dict)
    # What holds work in memory and must finish it before the connections close (the event
    # log's buffer): run first by close(), newest first.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @classmethod
    async def open(cls, settings: Settings, job_functions: Sequence[JobFunction] = ()) -> Resources:
        db = Database(settings)
        cache = Cache.from_url(settings.redis_url, settings.cache_ttl_seconds,
                               enabled=settings.cache_enabled)
        pubsub = create_pubsub(settings.redis_url)
        ctx: dict[str, Any] = {}
        jobs: JobQueue = (
            ArqJobs(settings.redis_url) if settings.redis_url else InProcessJobs(job_functions, ctx)
        )
        resources = cls(
            settings=settings,
            db=db,
            cache=cache,
            pubsub=pubsub,
            jobs=jobs,
            events=EventBus(pubsub),
            search=SearchProbe(settings.elasticsearch_url),
        )
        ctx["resources"] = resources
        return resources

    async def readiness(self) -> dict[str, str]:
        """Each dependency's state; only the database is required to serve."""

        async def db_state() -> str:
            try:
                await asyncio.wait_for(self.db.ping(), 3)
                return "ok"
            except Exception as exc:
                log.warning("database not ready: %r", exc)
                return "unavailable"

        async def cache_state() -> str:
            ok = await self.cache.ping()
            return "ok" if ok else "degraded"

        async def pubsub_state() -> str:
            return "ok" if await self.pubsub.ping() else "degraded"

        database, cache, pubsub, search = await asyncio.gather(
            db_state(), cache_state(), pubsub_state(), self.search.state()
        )
        return {
            "database": database,
            f"cache:{self.cache.kind}": cache,
            f"pubsub:{self.pubsub.kind}": pubsub,
            f"search:{self.search.kind}": search,
        }

    async def close(self) -> None:
        while self.closers:
            try:
                await self.closers.pop()()
            except Exception:
                log.exception("closing failed")
        await self.jobs.close()
        await self.cache.close()
        await self.pubsub.close()
        await self.search.close()
        await self.db.close()
