"""Sync tests: an upstream server per test, and each test starting with no sync history."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text

from graphql_api.catalog.reads import GENERATION_KEY
from graphql_api.core.jobs import InProcessJobs
from graphql_api.core.resources import Resources
from graphql_api.sync import service
from graphql_api.sync.fetch import FetchPolicy
from graphql_api.sync.models import SyncRun
from graphql_api.sync.provider import get_provider
from graphql_api.sync.sources import HttpSource
from tests.sync.upstream import Upstream

# Fast retries: the rules are the same, the waits are not.
FAST = FetchPolicy(timeout=0.5, concurrency=4, attempts=4, backoff=0.01, max_backoff=0.05)
PAGE_SIZE = 50
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b.*?\b(product|category|product_source|sync_page|"
                    r"search_outbox)\b", re.IGNORECASE | re.DOTALL)


@pytest.fixture(autouse=True)
async def no_sync_history(resources: Resources) -> None:
    """Forget earlier tests' runs and mappings (their products stay, under their own SKUs)."""
    await settle(resources)
    async with resources.db.transaction() as session:
        for table in ("product_source", "sync_page", "sync_run"):
            await session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (fixed names)


@pytest.fixture
async def upstream() -> AsyncIterator[Callable[[int], Awaitable[Upstream]]]:
    started: list[Upstream] = []

    async def start(count: int) -> Upstream:
        server = await Upstream.generated(f"T{uuid.uuid4().hex[:8]}", count).start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


def source(upstream: Upstream, policy: FetchPolicy = FAST, page_size: int = PAGE_SIZE) -> HttpSource:
    return HttpSource(get_provider("dummyjson"), upstream.url, page_size, policy)


async def settle(resources: Resources) -> None:
    """Let in-process jobs (indexing, warming) queued by earlier writes finish."""
    if isinstance(resources.jobs, InProcessJobs):
        await resources.jobs.drain()


async def run_sync(resources: Resources, upstream: Upstream, prune: bool = False,
                   **kwargs: Any) -> SyncRun:
    run = await service.sync_catalog(resources, prune, source(upstream, **kwargs))
    assert run is not None
    await settle(resources)
    return run


async def generation(resources: Resources) -> Any:
    return await resources.cache.get(GENERATION_KEY)


def catalog_writes(statements: list[str]) -> list[str]:
    return [s for s in statements if WRITES.match(s)]
