"""Rate limits kept in the cache, shared by every process when it is Redis.

A generic cell rate algorithm (`Cache.admit`): `limit` hits per window, in a burst or spread
out, and then one more each `window / limit` seconds. Unlike fixed windows it never lets a client
spend its limit twice across a window boundary, and the wait it names is exact and never longer
than the window.
"""

from __future__ import annotations

import math
import time

from graphql_api.core.cache import Cache
from graphql_api.core.errors import RateLimited


async def enforce(cache: Cache, key: str, limit: int, window_seconds: int, hits: int = 1) -> None:
    """Admit `hits` on `key`, or refuse them all with RATE_LIMITED and `retryAfter` (whole
    seconds). Refused hits are not counted: a client that waits as told is admitted.

    With the cache unreachable the limit fails open: an outage must not lock every user out.
    """
    wait = await cache.admit(f"rate:{key}", hits, limit, window_seconds, time.time())
    if wait:
        raise RateLimited("Too many attempts; try again later.",
                          retryAfter=max(1, math.ceil(wait)))
