"""Fixed-window rate limits counted in the cache, shared by every process when it is Redis."""

from __future__ import annotations

import time

from graphql_api.core.cache import Cache
from graphql_api.core.errors import RateLimited


async def enforce(cache: Cache, key: str, limit: int, window_seconds: int, hits: int = 1) -> None:
    """Count `hits` on `key`; past `limit` in the current window, refuse with RATE_LIMITED.

    With the cache unreachable the limit fails open: an outage must not lock every user out.
    """
    window = int(time.time() // window_seconds)
    count = await cache.increment(f"rate:{key}:{window}", delta=hits)
    if count == hits:  # the window's first hits
        await cache.expire(f"rate:{key}:{window}", window_seconds)
    if count is not None and count > limit:
        retry_after = window_seconds - int(time.time()) % window_seconds
        raise RateLimited("Too many attempts; try again later.", retryAfter=retry_after)
