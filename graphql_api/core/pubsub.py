"""The pub/sub port: in-process queues, or Redis channels so events cross processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter, defaultdict
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
    """Redis channels, so events cross processes.

    A process holds one Redis subscription connection whatever its number of subscribers: a
    reader task receives each channel once and fans messages out to local queues.
    """

    kind = "redis"

    def __init__(self, url: str) -> None:
        # Publishing must time out; the subscription connection waits on its socket forever.
        self._publisher = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._listener = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=None)
        self._pubsub = self._listener.pubsub(ignore_subscribe_messages=True)
        self._prefix = channel_prefix(self._publisher)
        self._local = InProcessPubSub()
        self._subscribers: Counter[str] = Counter()
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None

    async def publish(self, channel: str, message: Message) -> None:
        await self._publisher.publish(self._prefix + channel, json.dumps(message))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        async with self._local.subscribe(channel) as messages:
            await self._join(channel)
            try:
                yield messages
            finally:
                await self._leave(channel)

    async def _join(self, channel: str) -> None:
        async with self._lock:
            if self._subscribers[channel] == 0:
                await asyncio.wait_for(self._pubsub.subscribe(self._prefix + channel), 5)
            self._subscribers[channel] += 1
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(), name="pubsub-reader")

    async def _leave(self, channel: str) -> None:
        async with self._lock:
            self._subscribers[channel] -= 1
            if self._subscribers[channel] > 0:
                return
            del self._subscribers[channel]
            try:
                await asyncio.wait_for(self._pubsub.unsubscribe(self._prefix + channel), 2)
            except Exception as exc:
                log.debug("unsubscribe from %s failed: %r", channel, exc)

    async def _read(self) -> None:
        while self._subscribers:
            try:
                raw = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # redis-py reconnects and re-subscribes on the next call; wait out the outage.
                log.warning("pub/sub connection lost, retrying: %r", exc)
                await asyncio.sleep(1)
                continue
            if raw and raw.get("type") == "message":
                channel = raw["channel"]
                name = channel.decode() if isinstance(channel, bytes) else str(channel)
                await self._local.publish(name.removeprefix(self._prefix), json.loads(raw["data"]))

    async def ping(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._publisher.ping(), 1))
        except Exception:
            return False

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        await self._pubsub.aclose()
        await self._publisher.aclose()
        await self._listener.aclose()


def channel_prefix(client: aioredis.Redis) -> str:
    """Redis channels are global to the server, unlike keys: without the database number in
    their names, deployments (or test runs) sharing a Redis on different databases would hear
    each other's events: another shop's order status on a subscription for the same order id."""
    return f"db{client.connection_pool.connection_kwargs.get('db', 0)}:"


def create_pubsub(redis_url: str | None) -> PubSub:
    return RedisPubSub(redis_url) if redis_url else InProcessPubSub()
