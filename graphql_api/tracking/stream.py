"""The Redis stream `events`: each flushed batch appended in one pipelined round trip, capped
(approximately: MAXLEN ~ lets Redis trim whole nodes, which is far cheaper than an exact cap)."""

from __future__ import annotations

import logging

import redis.asyncio as aioredis

from graphql_api.tracking.records import Row, stream_fields

log = logging.getLogger(__name__)

STREAM = "events"


class EventStream:
    def __init__(self, url: str, maxlen: int) -> None:
        self._redis = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self.maxlen = maxlen

    async def append(self, rows: list[Row]) -> None:
        """Best effort: the table is the record. A batch Redis refuses is logged and skipped, so
        the stream is at-most-once with respect to the table."""
        try:
            pipe = self._redis.pipeline(transaction=False)
            for row in rows:
                pipe.xadd(STREAM, stream_fields(row), maxlen=self.maxlen,
                          approximate=True)
            await pipe.execute()
        except Exception as exc:
            log.warning("appending %d events to the Redis stream failed: %r", len(rows), exc)

    async def close(self) -> None:
        await self._redis.aclose()
