"""Sliding-window rate limits counted in the cache, shared by every process when it is Redis.

A fixed window lets a client spend its limit twice across a window boundary (and made a limit
hit just after one boundary look like a fresh start). So the count is the current window's hits
plus the previous window's, weighted by how much of the previous window still lies within the
last `window_seconds`: the usual approximation of a sliding log, two counters per client.
"""

from __future__ import annotations

import math
import time

from graphql_api.core.cache import Cache
from graphql_api.core.errors import RateLimited


async def enforce(cache: Cache, key: str, limit: int, window_seconds: int, hits: int = 1) -> None:
    """Count `hits` on `key`; past `limit` in the last `window_seconds`, refuse with
    RATE_LIMITED (refused hits count too: a client that keeps hammering stays refused).

    With the cache unreachable the limit fails open: an outage must not lock every user out.
    """
    window, elapsed = divmod(time.time(), window_seconds)
    counts = await cache.count_hits(f"rate:{key}:{int(window)}", hits, 2 * window_seconds,
                                    previous=f"rate:{key}:{int(window) - 1}")
    if counts is None:
        return
    current, previous = counts
    weight = 1 - elapsed / window_seconds  # the share of the previous window still counted
    if current + previous * weight <= limit:
        return
    raise RateLimited("Too many attempts; try again later.",
                      retryAfter=retry_after(current, previous, limit, window_seconds, elapsed))


def retry_after(current: int, previous: int, limit: int, window_seconds: int,
                elapsed: float) -> int:
    """Whole seconds until one more hit is allowed, if no other hit comes meanwhile."""
    room = limit - 1  # the estimate must fall to this for the next hit to pass
    if current <= room:
        # Within this window, once enough of the previous one has slid out.
        until = window_seconds * (1 - (room - current) / previous)
        wait = until - elapsed
    else:
        # In the next window, once enough of this one has slid out.
        wait = window_seconds - elapsed + window_seconds * (1 - room / current)
    return max(1, math.ceil(wait))
