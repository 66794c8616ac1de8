"""The cache port: aiocache in memory or on Redis, JSON-serialised, failing soft to a miss."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiocache import Cache as AioCache
from aiocache.base import BaseCache
from aiocache.serializers import JsonSerializer

log = logging.getLogger(__name__)

# A cache call that takes longer than this is treated as an outage: a slow cache must not slow reads.
OP_TIMEOUT_SECONDS = 0.5
BREAKER_SECONDS = 5.0
MAX_MEMORY_ENTRIES = 20_000


class _Json(JsonSerializer):
    """JSON, except that counters (stored raw by the memory backend's increment) pass through."""

    def loads(self, value: Any) -> Any:
        if isinstance(value, int | float):
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


class Cache:
    """Values are JSON, so both backends behave alike and nothing mutable is shared between readers."""

    def __init__(self, backend: BaseCache, kind: str, default_ttl: int) -> None:
        self.backend = backend
        self.kind = kind
        self.default_ttl = default_ttl
        self._last_warning = 0.0
        self._open_until = 0.0  # circuit breaker: skip the backend until then

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
        # After a failure, skip the cache for a while: an outage costs one timeout, not one
        # per call.
        self._open_until = now + BREAKER_SECONDS
        if now - self._last_warning > 10:  # one line per outage, not one per request
            log.warning("cache %s failed, serving without cache: %r", op, exc)
            self._last_warning = now

    @property
    def _skipping(self) -> bool:
        return time.monotonic() < self._open_until

    async def get(self, key: str) -> Any | None:
        if self._skipping:
            return None
        try:
            return await self.backend.get(key)
        except Exception as exc:
            self._degraded("get", exc)
            return None

    async def multi_get(self, keys: list[str]) -> list[Any | None]:
        if not keys or self._skipping:
            return [None] * len(keys)
        try:
            return list(await self.backend.multi_get(keys))
        except Exception as exc:
            self._degraded("multi_get", exc)
            return [None] * len(keys)

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
        except Exception as exc:
            self._degraded("set", exc)

    async def multi_set(self, pairs: list[tuple[str, Any]], ttl: int | None = None) -> None:
        """Many keys in one round trip."""
        if not pairs or self._skipping:
            return
        try:
            await self.backend.multi_set(pairs, ttl=ttl or self.default_ttl)
        except Exception as exc:
            self._degraded("multi_set", exc)

    async def increment(self, key: str, attempts: int = 1) -> int | None:
        """Attempts > 1 is for invalidations: they try even while the breaker is open."""
        if attempts == 1 and self._skipping:
            return None
        for attempt in range(attempts):
            try:
                value = await self.backend.increment(key)
                return None if value is None else int(value)
            except Exception as exc:
                self._degraded("increment", exc)
                if attempt + 1 < attempts:
                    await asyncio.sleep(0.1 * (attempt + 1))
        return None

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
        try:
            await self.backend.close()
        except Exception as exc:
            log.debug("closing cache: %r", exc)
