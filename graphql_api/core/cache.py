"""The cache port: aiocache in memory or on Redis, JSON-serialised, failing soft to a miss."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiocache import Cache as AioCache
from aiocache.base import BaseCache
from aiocache.serializers import JsonSerializer
from redis import exceptions as redis_exceptions

log = logging.getLogger(__name__)

# A cache call that takes longer than this is treated as an outage: a slow cache must not slow reads.
OP_TIMEOUT_SECONDS = 0.5
BREAKER_SECONDS = 5.0
# The breaker opens on BREAKER_FAILURES consecutive outage failures with no call answered for
# BREAKER_QUIET_SECONDS. Timeouts alone do not tell an outage from a saturated event loop: in a
# burst of requests (CI's concurrency tests, a flash sale) hundreds of calls in flight time out
# together while others are answered between them; opening then turned the cache, and every rate
# limit with it, off for 5 s under exactly the load they are for. In an outage nothing answers.
BREAKER_FAILURES = 3
BREAKER_QUIET_SECONDS = 1.0
# What opens the breaker: the cache unreachable or too slow, not one call's bad answer.
_OUTAGES = (OSError, TimeoutError, asyncio.TimeoutError, redis_exceptions.ConnectionError,
            redis_exceptions.TimeoutError)
MAX_MEMORY_ENTRIES = 20_000
STATS_FLUSH_SECONDS = 1.0  # how stale another process's share of the shared hit counts may be


# `Cache.admit` on Redis: the key holds the client's theoretical arrival time (TAT); hits are
# admitted while it stays within a window of now. Numbers are kept and returned as strings of
# full precision (tostring keeps 14 digits, a reply's number is truncated to an integer).
_ADMIT = """
local now, interval, window, hits = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
    tonumber(ARGV[4])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local new = tat + hits * interval
if new - now > window then
    return string.format('%.17g', new - now - window)
end
-- At least 1 ms: with a limit so high that a hit's interval is below the clock's resolution
-- at `now`, new == now, and PX 0 is an error.
redis.call('SET', KEYS[1], string.format('%.17g', new), 'PX',
    math.max(1, math.ceil((new - now) * 1000)))
return '0'
"""

RAW_MARK = "\x00"  # a stored value starting with it is RawText; JSON text never does


class RawText(str):
    """Text stored as is, not as JSON: a cached response body would otherwise be escaped into a
    JSON string and decoded again on every hit (about 30 µs for 3 KB, a tenth of a hit). It must
    start with RAW_MARK, and reads give it back as a plain str, mark included."""

    def __new__(cls, text: str) -> RawText:
        if not text.startswith(RAW_MARK):
            raise ValueError("RawText starts with RAW_MARK")
        return super().__new__(cls, text)


class _Json(JsonSerializer):
    """JSON, except that counters (stored raw by the memory backend's increment) and RawText
    pass through."""

    def dumps(self, value: Any) -> Any:
        if isinstance(value, RawText):
            return str(value)
        return super().dumps(value)

    def loads(self, value: Any) -> Any:
        if isinstance(value, int | float):
            return value
        if isinstance(value, str) and value.startswith(RAW_MARK):
            return value
        return super().loads(value)


class _Disabled(BaseCache):
    """Every read misses (benchmarks of the database path, and debugging)."""

    async def _get(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def _multi_get(self, keys: list[str], *args: Any, **kwargs: Any) -> list[None]:
        return [None] * len(keys)

    async def _set(self, *args: Any, **kwargs: Any) -> bool:
        return True

    async def _multi_set(self, *args: Any, **kwargs: Any) -> bool:
        return True

    async def _increment(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def _expire(self, *args: Any, **kwargs: Any) -> bool:
        return True

    async def _clear(self, *args: Any, **kwargs: Any) -> bool:
        return True

    async def _close(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Tally:
    """Hits and misses of the lookups made in one context (see `Cache.tally`)."""

    hits: int = 0
    misses: int = 0


@dataclass(frozen=True)
class CacheStats:
    backend: str
    hits: int
    misses: int
    keys: int

    @property
    def hit_rate(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


_tally: ContextVar[Tally | None] = ContextVar("cache_tally", default=None)


class Cache:
    """Values are JSON, so both backends behave alike and nothing mutable is shared between readers.

    Lookups are counted as hits and misses: in this process's memory, and on Redis also in two
    shared counters (batched, one pipelined INCRBY pair per STATS_FLUSH_SECONDS at most), so
    `stats()` adds up every process sharing the cache.
    """

    def __init__(self, backend: BaseCache, kind: str, default_ttl: int) -> None:
        self.backend = backend
        self.kind = kind
        self.default_ttl = default_ttl
        self._last_warning = 0.0
        self._open_until = 0.0  # circuit breaker: skip the backend until then
        self._failures = 0  # consecutive outage failures
        self._answered_at = -math.inf  # monotonic time of the last call the backend answered
        self.hits = 0
        self.misses = 0
        self._unflushed = Tally()
        self._flush_task: asyncio.Task[None] | None = None
        namespace = getattr(backend, "namespace", None) or ""
        # Outside the namespace, so counting the cache's keys does not count these.
        self._stats_prefix = f"{namespace}-stats"
        self._stats_keys = (f"{self._stats_prefix}:hits", f"{self._stats_prefix}:misses")
        self._ranks: dict[str, Counter[str]] = {}  # rankings of the in-memory backend
        self._arrivals: dict[str, float] = {}  # rate limits of the in-memory backend (`admit`)
        self._admit_script: Any = None

    @classmethod
    def from_url(cls, redis_url: str | None, default_ttl: int, namespace: str = "gql",
                 enabled: bool = True) -> Cache:
        if not enabled:
            return cls(_Disabled(), "disabled", default_ttl)
        if redis_url:
            backend = AioCache.from_url(redis_url)
            backend.serializer = _Json()
            backend.namespace = namespace
            backend.timeout = OP_TIMEOUT_SECONDS
            return cls(backend, "redis", default_ttl)
        memory = AioCache(AioCache.MEMORY, serializer=_Json(), namespace=namespace)
        return cls(memory, "memory", default_ttl)

    def _degraded(self, op: str, exc: BaseException) -> None:
        now = time.monotonic()
        if not isinstance(exc, _OUTAGES):
            # A bad answer to one call (a value that does not decode, a key of another type) is
            # not an outage: logged every time, and the cache stays in use for everyone else.
            log.warning("cache %s failed: %r", op, exc)
            return
        self._failures += 1
        if self._failures < BREAKER_FAILURES or now - self._answered_at < BREAKER_QUIET_SECONDS:
            log.info("cache %s failed (%d in a row): %r", op, self._failures, exc)
            return
        # Then skip the cache for a while: an outage costs a few timeouts, not one per call.
        self._failures = 0
        self._open_until = now + BREAKER_SECONDS
        if now - self._last_warning > 10:  # one line per outage, not one per request
            log.warning("cache %s failed, serving without cache for %.0f s: %r", op,
                        BREAKER_SECONDS, exc)
            self._last_warning = now

    def _answered(self) -> None:
        self._failures = 0
        self._answered_at = time.monotonic()

    @property
    def enabled(self) -> bool:
        return self.kind != "disabled"

    @property
    def _skipping(self) -> bool:
        # A disabled cache answers nothing: no backend call (each is a task under aiocache's
        # timeout) for a value known to be absent.
        return not self.enabled or time.monotonic() < self._open_until

    # --- hit and miss counting -------------------------------------------------------------

    @contextlib.contextmanager
    def tally(self) -> Iterator[Tally]:
        """Lookups made inside the block (and tasks it starts) are counted here instead of in
        the cache's statistics: a warm-up's reads are not visitors' hits."""
        tally = Tally()
        token = _tally.set(tally)
        try:
            yield tally
        finally:
            _tally.reset(token)

    def _count(self, hits: int, misses: int) -> None:
        tally = _tally.get()
        if tally is not None:
            tally.hits += hits
            tally.misses += misses
            return
        self.hits += hits
        self.misses += misses
        if self.kind == "redis":
            self._unflushed.hits += hits
            self._unflushed.misses += misses
            if self._flush_task is None:
                self._flush_task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        try:
            await asyncio.sleep(STATS_FLUSH_SECONDS)
            await self.flush_stats()
        finally:
            self._flush_task = None

    async def flush_stats(self) -> None:
        """Add this process's uncounted lookups to the shared counters (Redis only)."""
        pending, self._unflushed = self._unflushed, Tally()
        if self.kind != "redis" or not (pending.hits or pending.misses) or self._skipping:
            return  # counts made during an outage are kept only in this process
        try:
            async with self.backend.client.pipeline(transaction=False) as pipe:
                pipe.incrby(self._stats_keys[0], pending.hits)
                pipe.incrby(self._stats_keys[1], pending.misses)
                await asyncio.wait_for(pipe.execute(), OP_TIMEOUT_SECONDS)
            self._answered()
        except Exception as exc:
            self._degraded("stats", exc)

    async def stats(self) -> CacheStats:
        """Hits and misses (of every process on Redis, of this one in memory) and the key count."""
        if self.kind != "redis":
            keys = len(self.backend._cache) if self.kind == "memory" else 0
            return CacheStats(self.kind, self.hits, self.misses, keys)
        await self.flush_stats()
        client = self.backend.client
        try:
            hits, misses = await asyncio.wait_for(client.mget(*self._stats_keys), OP_TIMEOUT_SECONDS)
            self._answered()
            keys = 0
            # SCAN, not KEYS: never blocks Redis; the count is of our namespace only (arq's
            # queue and other databases' users share the instance).
            async for _ in client.scan_iter(match=f"{self.backend.namespace}:*", count=1000):
                keys += 1
        except Exception as exc:
            self._degraded("stats", exc)
            return CacheStats(self.kind, self.hits, self.misses, 0)
        return CacheStats(self.kind, int(hits or 0), int(misses or 0), keys)

    # --- rankings (popular keys) ---------------------------------------------------------------

    async def rank_add(self, name: str, counts: Mapping[str, int], keep: int) -> None:
        """Add `counts` to the ranking `name`, which keeps its `keep` highest members."""
        if not counts or self.kind == "disabled":
            return
        if self.kind == "memory":
            ranking = self._ranks.setdefault(name, Counter())
            ranking.update(counts)
            if len(ranking) > 2 * keep:  # trim now and then, not on every add
                self._ranks[name] = Counter(dict(ranking.most_common(keep)))
            return
        if self._skipping:
            return
        key = f"{self._stats_prefix}:rank:{name}"
        try:
            async with self.backend.client.pipeline(transaction=False) as pipe:
                for member, count in counts.items():
                    pipe.zincrby(key, count, member)
                pipe.zremrangebyrank(key, 0, -(keep + 1))  # drop all but the top `keep`
                await asyncio.wait_for(pipe.execute(), OP_TIMEOUT_SECONDS)
            self._answered()
        except Exception as exc:
            self._degraded("rank_add", exc)

    async def rank_top(self, name: str, n: int) -> list[str]:
        """The `n` highest members of a ranking, highest first."""
        if n <= 0 or self.kind == "disabled":
            return []
        if self.kind == "memory":
            return [m for m, _ in self._ranks.get(name, Counter()).most_common(n)]
        if self._skipping:
            return []
        try:
            members = await asyncio.wait_for(self.backend.client.zrevrange(
                f"{self._stats_prefix}:rank:{name}", 0, n - 1), OP_TIMEOUT_SECONDS)
            self._answered()
        except Exception as exc:
            self._degraded("rank_top", exc)
            return []
        return [m.decode() if isinstance(m, bytes) else str(m) for m in members]

    # --- operations -------------------------------------------------------------------------

    async def get(self, key: str, *, count: bool = True) -> Any | None:
        """`count=False` for bookkeeping reads (the catalog generation), which are not lookups
        of cached data."""
        if self._skipping:
            value = None
        else:
            try:
                value = await self.backend.get(key)
                self._answered()
            except Exception as exc:
                self._degraded("get", exc)
                value = None
        if count:
            self._count(value is not None, value is None)
        return value

    async def multi_get(self, keys: list[str], *, count: bool = True) -> list[Any | None]:
        """Many keys in one round trip (MGET). `count=False` when the caller judges the values
        first and counts them itself (`count_lookups`)."""
        if not keys:
            return []
        values: list[Any | None] = [None] * len(keys)
        if not self._skipping:
            try:
                if self.kind == "redis":
                    values = await self._redis_mget(keys)
                else:
                    values = list(await self.backend.multi_get(keys))
                self._answered()
            except Exception as exc:
                self._degraded("multi_get", exc)
        if count:
            found = sum(v is not None for v in values)
            self._count(found, len(keys) - found)
        return values

    async def _redis_mget(self, keys: list[str]) -> list[Any | None]:
        """aiocache's multi_get without its wrappers: every response-cache hit is one of these,
        and aiocache's timeout (a task per call with `asyncio.wait_for`), plugin and enabled
        hooks cost about as much CPU as the rest of the hit. Same keys and values as aiocache's."""
        backend = self.backend
        async with asyncio.timeout(OP_TIMEOUT_SECONDS):
            raw = await backend.client.mget([backend.build_key(k) for k in keys])
        loads = backend.serializer.loads
        # A plain counter (the catalog generation, on every hit) is read without the JSON
        # decoder: what json.loads gives for it (JSON has no leading zeros).
        return [None if v is None else int(v) if v.isdigit() and (len(v) == 1 or v[0] != 48)
                else loads(v.decode()) for v in raw]

    def count_lookups(self, hits: int, misses: int) -> None:
        """Lookups read with `count=False` and judged by the caller (an entry that is there but
        no longer valid is a miss)."""
        self._count(hits, misses)

    async def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        if self._skipping:
            return
        if self.kind == "memory" and len(self.backend._cache) >= MAX_MEMORY_ENTRIES:
            # The in-process backend has no size bound of its own: rather than grow with every
            # distinct query, start afresh (entries are cheap to rebuild; Redis bounds itself).
            log.info("in-memory cache reached %d entries; clearing it", MAX_MEMORY_ENTRIES)
            await self.clear()
        try:
            await self.backend.set(key, value, ttl=ttl or self.default_ttl)
            self._answered()
        except Exception as exc:
            self._degraded("set", exc)

    async def multi_set(self, pairs: list[tuple[str, Any]], ttl: int | None = None) -> None:
        """Many keys in one round trip."""
        if not pairs or self._skipping:
            return
        try:
            await self.backend.multi_set(pairs, ttl=ttl or self.default_ttl)
            self._answered()
        except Exception as exc:
            self._degraded("multi_set", exc)

    async def increment(self, key: str, attempts: int = 1, delta: int = 1) -> int | None:
        """Attempts > 1 is for invalidations: they try even while the breaker is open."""
        if attempts == 1 and self._skipping:
            return None
        for attempt in range(attempts):
            try:
                value = await self.backend.increment(key, delta)
                self._answered()
                return None if value is None else int(value)
            except Exception as exc:
                self._degraded("increment", exc)
                if attempt + 1 < attempts:
                    await asyncio.sleep(0.1 * (attempt + 1))
        return None

    async def admit(self, key: str, hits: int, limit: int, window_seconds: float,
                    now: float) -> float | None:
        """A rate limit as a generic cell rate algorithm: `limit` hits per `window_seconds`, a
        burst of up to `limit` allowed. Admits `hits` on `key` (counting them) and gives 0.0, or
        refuses them (not counting them) and gives the seconds until they would be admitted;
        None while the cache is unreachable. One key per client and one round trip (a script
        on Redis, so concurrent processes never both take the last place)."""
        if self.kind == "disabled" or self._skipping:
            return None
        interval = window_seconds / limit
        if self.kind == "memory":
            return self._admit_here(key, hits, interval, window_seconds, now)
        try:
            async with asyncio.timeout(OP_TIMEOUT_SECONDS):
                if self._admit_script is None:  # EVALSHA, loading the script when Redis lacks it
                    self._admit_script = self.backend.client.register_script(_ADMIT)
                wait = await self._admit_script(keys=[self.backend.build_key(key)],
                                                args=[now, interval, window_seconds, hits])
            self._answered()
        except Exception as exc:
            self._degraded("admit", exc)
            return None
        return float(wait)

    def _admit_here(self, key: str, hits: int, interval: float, window_seconds: float,
                    now: float) -> float:
        """`admit` in this process (synchronous, so atomic on the event loop)."""
        arrivals = self._arrivals
        if len(arrivals) >= MAX_MEMORY_ENTRIES:  # forget the clients that are not limited now
            for stale in [k for k, tat in arrivals.items() if tat <= now]:
                del arrivals[stale]
        new = max(arrivals.get(key, now), now) + hits * interval
        if new - now > window_seconds:
            return new - now - window_seconds
        arrivals[key] = new
        return 0.0

    async def get_or_set(
        self, key: str, factory: Callable[[], Awaitable[Any]], ttl: int | None = None
    ) -> Any:
        cached = await self.get(key)
        if cached is not None:
            return cached
        value = await factory()
        if value is not None:
            await self.set(key, value, ttl)
        return value

    async def expire(self, key: str, ttl: int) -> None:
        if self._skipping:
            return
        try:
            await self.backend.expire(key, ttl)
        except Exception as exc:
            self._degraded("expire", exc)

    async def ping(self) -> bool:
        if self.kind == "disabled":
            return True
        try:
            await self.backend.set("__ping__", 1, ttl=5)
            return bool(await self.backend.get("__ping__") == 1)
        except Exception:
            return False

    async def clear(self) -> None:
        try:
            await self.backend.clear()
        except Exception as exc:
            self._degraded("clear", exc)

    async def close(self) -> None:
        if self._flush_task is not None:
            self._flush_task.cancel()
        await self.flush_stats()
        try:
            await self.backend.close()
        except Exception as exc:
            log.debug("closing cache: %r", exc)
