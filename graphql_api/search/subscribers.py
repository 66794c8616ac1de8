"""What follows a product change for search: the outbox is drained by a job, soon."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from graphql_api.core.events import PRODUCT_CHANGED
from graphql_api.core.resources import Resources
from graphql_api.search.indexing import pending

log = logging.getLogger(__name__)

REPLAY_SECONDS = 2.0
# One queued drain at a time, however many writes: a drain takes everything the outbox holds
# and loops until it is empty. The id is free again as soon as a drain ends (workers keep no
# result for it), and a write landing as one ends is caught by the replay below.
JOB_ID = "index_search"


def register_search_subscribers(resources: Resources) -> None:
    async def queue_indexing(_: dict[str, Any]) -> None:
        await resources.jobs.enqueue("index_search", job_id=JOB_ID)

    resources.events.on(PRODUCT_CHANGED, queue_indexing)


async def replay_outbox(resources: Resources, every: float = REPLAY_SECONDS) -> None:
    """Forever: whatever the outbox still holds (changes made while Elasticsearch was down, or
    whose job failed) is queued again for indexing."""
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(Exception):
            if await pending(resources):
                # An id of its own per tick: a drain abandoned by a worker that died keeps
                # JOB_ID taken until arq retries it, and must not hold the replay up too.
                tick = int(time.time() // every)
                await resources.jobs.enqueue("index_search", job_id=f"{JOB_ID}:replay:{tick}")
