"""The sliding-window rate limit and the cache breaker it depends on, on this run's cache."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from graphql_api.core import rate_limit
from graphql_api.core.cache import BREAKER_FAILURES, Cache
from graphql_api.core.errors import RateLimited
from graphql_api.core.resources import Resources

WINDOW = 60


class Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # A window boundary a little in the future of the real clock: the counters' TTLs are real.
    import time

    start = (time.time() // WINDOW + 1) * WINDOW - 1
    fake = Clock(start)
    monkeypatch.setattr(rate_limit, "time", SimpleNamespace(time=fake.time))
    return fake


async def allowed(cache: Cache, key: str, limit: int = 5, hits: int = 1) -> bool:
    try:
        await rate_limit.enforce(cache, key, limit, WINDOW, hits)
    except RateLimited:
        return False
    return True


async def test_a_limit_reached_before_a_window_boundary_holds_after_it(
        resources: Resources, clock: Clock) -> None:
    key = f"test:{uuid.uuid4().hex}"
    for _ in range(5):
        assert await allowed(resources.cache, key)  # one second before the boundary
    clock.now += 1.5  # half a second into the next window
    with pytest.raises(RateLimited) as refused:
        await rate_limit.enforce(resources.cache, key, 5, WINDOW)
    # Refused hits count too: with 1 now and 5 before, the earlier window must slide out to
    # 3/5 of its weight, 24 s into this one.
    assert refused.value.extensions["retryAfter"] == 24
    clock.now += 24
    assert await allowed(resources.cache, key)


async def test_hits_below_the_limits_rate_always_pass(resources: Resources,
                                                      clock: Clock) -> None:
    """5 a minute allows one every 15 s for ten minutes; a burst on top of that is refused."""
    key = f"test:{uuid.uuid4().hex}"
    for _ in range(40):
        assert await allowed(resources.cache, key)
        clock.now += 15
    assert [await allowed(resources.cache, key) for _ in range(3)] == [True, False, False]


async def test_several_hits_at_once_count_as_many(resources: Resources, clock: Clock) -> None:
    key = f"test:{uuid.uuid4().hex}"
    assert await allowed(resources.cache, key, hits=4)
    assert not await allowed(resources.cache, key, hits=4)
    other = f"test:{uuid.uuid4().hex}"
    assert await allowed(resources.cache, other, hits=5)


async def test_the_limit_fails_open_while_the_cache_is_unreachable(clock: Clock) -> None:
    cache = Cache.from_url("redis://127.0.0.1:1/0", default_ttl=10)  # nothing listens on port 1
    try:
        for _ in range(10):
            assert await allowed(cache, "test:down", limit=1)
    finally:
        await cache.close()


def test_retry_after_is_when_the_estimate_falls_below_the_limit() -> None:
    # 5 hits in the previous window, 0 now, limit 5, 1 s in: the previous window must slide
    # out to 4/5 of it, at 12 s, so 11 s from now.
    assert rate_limit.retry_after(0, 5, 5, 60, 1.0) == 11
    # 6 hits now (past the limit alone): next window, once this one weighs 4/6 or less.
    assert rate_limit.retry_after(6, 0, 5, 60, 30.0) == 30 + 20


async def test_one_slow_answer_does_not_open_the_cache_breaker() -> None:
    """A single timeout (a held-up event loop, a busy machine) leaves the cache in use; only
    consecutive failures, as in an outage, open the breaker."""
    cache = Cache.from_url(None, default_ttl=10)
    for _ in range(BREAKER_FAILURES - 1):
        cache._degraded("get", TimeoutError())
    await cache.set("k", 1)  # a success in between starts the count again
    assert await cache.get("k") == 1
    for _ in range(BREAKER_FAILURES - 1):
        cache._degraded("get", TimeoutError())
    assert await cache.get("k") == 1
    for _ in range(BREAKER_FAILURES):
        cache._degraded("get", TimeoutError())
    assert await cache.get("k") is None  # open: skipped
