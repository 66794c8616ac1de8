"""The pub/sub port: in-process queues, or Redis channels so events cross processes."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

Message = dict[str, Any]


class PubSub(Protocol):
    kind: str

    async def publish(self, channel: str, message: Message) -> None: ...

    def subscribe(self, channel: str) -> Any:
        """An async context manager yielding an async iterator of messages."""

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class InProcessPubSub:
    kind = "memory"

    def __init__(self, queue_size: int = 1000) -> None:
        self._queues: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)
        self._queue_size = queue_size

    async def publish(self, channel: str, message: Message) -> None:
        # A round trip through JSON keeps the in-process adapter as strict as Redis.
        payload = json.loads(json.dumps(message))
        for queue in list(self._queues.get(channel, ())):
            if queue.full():
                log.warning("subscriber on %s is too slow; dropping a message", channel)
                continue
            queue.put_nowait(payload)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        queue: asyncio.Queue[Message] = asyncio.Queue(self._queue_size)
        self._queues[channel].add(queue)

        async def messages() -> AsyncIterator[Message]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._queues[channel].discard(queue)
            if not self._queues[channel]:
                del self._queues[channel]

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._queues.clear()


class RedisPubSub:
    kind = "redis"

    def __init__(self, url: str) -> None:
        # Two clients: publishing must time out, while a subscriber waits on its socket forever.
        self._publisher = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._redis = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=None)

    async def publish(self, channel: str, message: Message) -> None:
        await self._publisher.publish(channel, json.dumps(message))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)

        async def messages() -> AsyncIterator[Message]:
            async for raw in pubsub.listen():
                if raw.get("type") == "message":
                    yield json.loads(raw["data"])

        try:
            yield messages()
        finally:
            try:
                await asyncio.wait_for(pubsub.unsubscribe(channel), 2)
            except Exception as exc:
                log.debug("unsubscribe from %s failed: %r", channel, exc)
            finally:
                await pubsub.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._publisher.ping(), 1))
        except Exception:
            return False

    async def close(self) -> None:
        await self._publisher.aclose()
        await self._redis.aclose()


def create_pubsub(redis_url: str | None) -> PubSub:
    return RedisPubSub(redis_url) if redis_url else InProcessPubSub()
