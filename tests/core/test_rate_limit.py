"""The rate limit (a generic cell rate algorithm) and the cache breaker it depends on, on this run's cache."""

from __future__ import annotations

import asyncio
import time
import uuid
from types import SimpleNamespace

import pytest

from graphql_api.core import rate_limit
from graphql_api.core.cache import BREAKER_FAILURES, BREAKER_QUIET_SECONDS, Cache
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


async def test_a_burst_up_to_the_limit_passes_and_then_one_more_each_interval(
        resources: Resources, clock: Clock) -> None:
    key = f"test:{uuid.uuid4().hex}"
    for _ in range(5):  # 5 a minute: all at once is allowed
        assert await allowed(resources.cache, key)
    with pytest.raises(RateLimited) as refused:
        await rate_limit.enforce(resources.cache, key, 5, WINDOW)
    assert refused.value.extensions["retryAfter"] == 12  # one place frees every 60 / 5 s
    clock.now += 11
    assert not await allowed(resources.cache, key)  # refusals are not counted...
    clock.now += 1
    assert await allowed(resources.cache, key)  # ...so the wait it named was exact
    assert not await allowed(resources.cache, key)


async def test_a_limit_reached_before_a_window_boundary_holds_after_it(
        resources: Resources, clock: Clock) -> None:
    """The fixed windows this replaced let the same client start afresh at each boundary."""
    key = f"test:{uuid.uuid4().hex}"
    for _ in range(5):
        assert await allowed(resources.cache, key)  # one second before the boundary
    clock.now += 1.5
    assert not await allowed(resources.cache, key)


async def test_hits_at_the_limits_rate_always_pass(resources: Resources, clock: Clock) -> None:
    """5 a minute allows one every 12 s for ten minutes; a burst on top of that is refused."""
    key = f"test:{uuid.uuid4().hex}"
    for _ in range(50):
        assert await allowed(resources.cache, key)
        clock.now += WINDOW / 5
    assert [await allowed(resources.cache, key) for _ in range(6)] == [True] * 5 + [False]


async def test_the_wait_is_never_longer_than_the_window(resources: Resources,
                                                        clock: Clock) -> None:
    key = f"test:{uuid.uuid4().hex}"
    for _ in range(200):  # a client that keeps hammering
        try:
            await rate_limit.enforce(resources.cache, key, 5, WINDOW)
        except RateLimited as refused:
            assert 1 <= refused.extensions["retryAfter"] <= WINDOW
        clock.now += 0.01
    clock.now += WINDOW
    assert [await allowed(resources.cache, key) for _ in range(6)] == [True] * 5 + [False]


async def test_a_limit_finer_than_the_clock_admits_without_a_cache_error(
        resources: Resources, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    """A trillion a minute: one hit's interval (60 ps) is lost in the clock's resolution, so
    the arrival time does not move; Redis once refused the counter's zero expiry."""
    key = f"test:{uuid.uuid4().hex}"
    with caplog.at_level("WARNING", logger="graphql_api.core.cache"):
        assert await resources.cache.admit(key, 1, 10**12, WINDOW, clock.now) == 0.0
        assert await resources.cache.admit(key, 25, 10**12, WINDOW, clock.now) == 0.0
    assert "admit failed" not in caplog.text


async def test_several_hits_at_once_count_as_many(resources: Resources, clock: Clock) -> None:
    key = f"test:{uuid.uuid4().hex}"
    assert await allowed(resources.cache, key, hits=4)
    assert not await allowed(resources.cache, key, hits=4)  # refused whole
    assert await allowed(resources.cache, key, hits=1)
    other = f"test:{uuid.uuid4().hex}"
    assert await allowed(resources.cache, other, hits=5)


async def test_processes_sharing_the_cache_share_the_limit(resources: Resources,
                                                           clock: Clock) -> None:
    """Concurrent admissions from two caches (two processes) never pass more than the limit."""
    import asyncio

    settings = resources.settings
    other = Cache.from_url(settings.redis_url, default_ttl=10)
    key = f"test:{uuid.uuid4().hex}"
    try:
        results = await asyncio.gather(*(allowed(cache, key, limit=10)
                                          for cache in [resources.cache, other] * 15))
        assert sum(results) == (10 if settings.redis_url else 20)  # in memory: one each
    finally:
        await other.close()


async def test_the_limit_fails_open_while_the_cache_is_unreachable(clock: Clock) -> None:
    cache = Cache.from_url("redis://127.0.0.1:1/0", default_ttl=10)  # nothing listens on port 1
    try:
        for _ in range(10):
            assert await allowed(cache, "test:down", limit=1)
    finally:
        await cache.close()


async def test_one_slow_answer_does_not_open_the_cache_breaker() -> None:
    """A single timeout (a held-up event loop, a busy machine) leaves the cache in use; only
    consecutive failures, as in an outage, open the breaker."""
    cache = Cache.from_url(None, default_ttl=10)
    cache._answered_at -= BREAKER_QUIET_SECONDS  # nothing answered for a while
    for _ in range(BREAKER_FAILURES - 1):
        cache._degraded("get", TimeoutError())
    await cache.set("k", 1)  # a success in between starts the count again
    assert await cache.get("k") == 1
    cache._answered_at -= BREAKER_QUIET_SECONDS
    for _ in range(BREAKER_FAILURES - 1):
        cache._degraded("get", TimeoutError())
    assert await cache.get("k") == 1
    cache._answered_at -= BREAKER_QUIET_SECONDS
    for _ in range(BREAKER_FAILURES):
        cache._degraded("get", TimeoutError())
    assert await cache.get("k") is None  # open: skipped


async def test_timeouts_while_other_calls_are_answered_do_not_open_the_breaker() -> None:
    """A saturated event loop times out many calls in flight at once while others are answered
    between them (a burst of requests): not an outage, and the cache, rate limits included,
    stays on under the load it is for."""
    cache = Cache.from_url(None, default_ttl=10)
    await cache.set("k", 1)  # answered just now
    for _ in range(BREAKER_FAILURES * 50):
        cache._degraded("get", TimeoutError())
    assert await cache.get("k") == 1
    assert await allowed(cache, "test:burst", limit=1)
    assert not await allowed(cache, "test:burst", limit=1)  # the limit still holds


async def test_a_crowd_of_concurrent_checks_keeps_the_limit(resources: Resources) -> None:
    """On this run's cache (Redis in the services run): hundreds of limit checks at once admit
    no more than the limit, and leave the breaker closed and the limit enforced."""
    cache, key = resources.cache, f"rate:test:crowd:{uuid.uuid4().hex}"
    now = time.time()
    results = await asyncio.gather(*(cache.admit(key, 1, 100, WINDOW, now) for _ in range(400)))
    assert sum(1 for r in results if r == 0.0) == 100  # exactly the limit, however they raced
    assert not cache._skipping
    assert await cache.admit(key, 1, 100, WINDOW, now)  # refused: a wait
