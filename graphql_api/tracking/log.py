"""The event log: an in-process buffer that a background task writes in batches.

eventTrack only appends to a list (no I/O on the request path). A flusher task takes up to
`events_batch_size` events whenever that many are waiting, or `events_flush_interval_ms` after
the first one arrived, and writes them with one INSERT (of arrays on PostgreSQL, multi-row on
SQLite), then appends them to the Redis stream when Redis is configured.

Bounded: past `events_buffer_size` waiting events, clients are refused (`offer` returns False,
eventTrack answers RATE_LIMITED) until the flusher catches up. The server's own records
(`record`: orders placed, products changed) are always kept: they follow committed writes, whose
rate the database already bounds, and losing them would make the funnel lie.

A batch the database refuses stays at the head of the buffer and is retried; after
`ATTEMPTS` failures it is written row by row, so one row the database rejects cannot hold up
the rest (that row is logged and dropped). Closing (the app's lifespan, a worker's shutdown)
writes everything still waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert

from graphql_api.core.database import Database
from graphql_api.core.settings import Settings
from graphql_api.tracking.models import event_table
from graphql_api.tracking.priority import foreground
from graphql_api.tracking.records import Row, metadata_text
from graphql_api.tracking.stream import EventStream

if TYPE_CHECKING:
    from graphql_api.core.resources import Resources

log = logging.getLogger(__name__)

ATTEMPTS = 3
RETRY_SECONDS = 1.0
STATEMENT_ROWS = 200
TASK_NAME = "events:flush"  # tests/conftest.py leaves background statements out of its counts

# SQLite: RETURNING makes SQLAlchemy send a batch as multi-row INSERTs (insertmanyvalues, 1,000
# rows a statement); a plain executemany runs the statement once per row. The ids themselves are
# not needed (their order across rows is not guaranteed either).
_insert = insert(event_table).returning(event_table.c.id)
# PostgreSQL: one statement for any batch, a column per array parameter, which asyncpg encodes
# in C. SQLAlchemy's per-value bind processing of the multi-row INSERT was ~10 ms of CPU per
# 1,000 rows, a tenth of the process's time at 5,000 events/s; this is ~2 ms.
_COLUMNS = ("at", "type", "source", "session_id", "user_id", "product_id", "query",
            "result_count", "path", "metadata")
_UNNEST = """
INSERT INTO event (at, type, source, session_id, user_id, product_id, query, result_count,
                   path, metadata)
SELECT at, type, source, session_id, user_id, product_id, query, result_count, path,
       metadata::jsonb
FROM unnest($1::timestamptz[], $2::varchar[], $3::varchar[], $4::varchar[], $5::int[],
            $6::int[], $7::varchar[], $8::int[], $9::varchar[], $10::text[])
     AS t(at, type, source, session_id, user_id, product_id, query, result_count, path, metadata)
"""
assert tuple(c.name for c in event_table.columns if c.name != "id") == _COLUMNS


def _as_arrays(rows: list[Row]) -> tuple[list[Any], ...]:
    metadata = [None if r["metadata"] is None else metadata_text(r["metadata"]) for r in rows]
    return (*([r[c] for r in rows] for c in _COLUMNS[:-1]), metadata)


Gate = Callable[[], Awaitable[None]]  # awaited before each piece of writing


async def _no_gate() -> None:
    return None


class EventLog:
    def __init__(self, db: Database, settings: Settings, stream: EventStream | None,
                 gate: Gate = _no_gate) -> None:
        self._db, self.stream, self._gate = db, stream, gate
        self.capacity = settings.events_buffer_size
        self.batch_size = settings.events_batch_size
        self.interval = settings.events_flush_interval_ms / 1000
        self._pending: list[Row] = []
        self._arrived = asyncio.Event()  # something is waiting
        self._full = asyncio.Event()  # a whole batch is waiting (or closing: write now)
        self._lock = asyncio.Lock()  # one writer at a time: the flusher or flush()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._failures = 0
        self.written = 0  # rows written since start
        self.inserts = 0  # INSERT transactions since start
        self.refused = 0  # client events refused because the buffer was full

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def offer(self, row: Row) -> bool:
        """A client's event; False (not kept) when the buffer is full."""
        if len(self._pending) >= self.capacity or self._closing:
            self.refused += 1
            return False
        self._append([row])
        return True

    def record(self, rows: list[Row]) -> None:
        """The server's own events: always kept (see the module's docstring)."""
        if rows:
            self._append(rows)

    def _append(self, rows: list[Row]) -> None:
        self._pending.extend(rows)
        self._arrived.set()
        if len(self._pending) >= self.batch_size:
            self._full.set()
        if self._task is None and not self._closing:
            self._task = asyncio.create_task(self._run(), name=TASK_NAME)

    async def _run(self) -> None:
        while not (self._closing and not self._pending):
            await self._arrived.wait()
            if not self._full.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self.interval)
            await self._gate()
            async with self._lock:
                ok = await self._write_batch()
            if not ok:
                await asyncio.sleep(RETRY_SECONDS)

    def _take(self) -> list[Row]:
        batch = self._pending[:self.batch_size]
        del self._pending[:self.batch_size]
        if not self._pending:
            self._arrived.clear()
        if len(self._pending) < self.batch_size and not self._closing:
            self._full.clear()
        return batch

    async def _write_batch(self) -> bool:
        """Write the next batch (under the lock); False when it failed and was put back."""
        batch = self._take()
        if not batch:
            return True
        try:
            if self._failures >= ATTEMPTS:
                await self._insert_one_by_one(batch)
            else:
                await self._insert(batch)
        except Exception as exc:
            self._failures += 1
            log.warning("writing %d events failed (attempt %d): %r", len(batch), self._failures,
                        exc)
            self._pending[:0] = batch
            self._arrived.set()
            return False
        self._failures = 0
        self.written += len(batch)
        if self.stream is not None:
            await self.stream.append(batch)
        return True

    async def _insert(self, rows: list[Row]) -> None:
        """One transaction; a statement per STATEMENT_ROWS rows, each after the requests in
        flight (tracking/priority.py): encoding a statement's parameters is one block of the
        event loop, ~1 ms for STATEMENT_ROWS rows, ~5 ms for a whole batch."""
        async with self._db.engine.begin() as conn:
            for start in range(0, len(rows), STATEMENT_ROWS):
                chunk = rows[start:start + STATEMENT_ROWS]
                if start:
                    await self._gate()
                if self._db.dialect == "postgresql":
                    await conn.exec_driver_sql(_UNNEST, _as_arrays(chunk))
                else:
                    await conn.execute(_insert, chunk)
        self.inserts += 1

    async def _insert_one_by_one(self, rows: list[Row]) -> None:
        """The batch keeps failing: keep what the database takes, log and drop the rest. A
        database that is down fails the first row too: then the batch is put back whole."""
        for position, row in enumerate(rows):
            try:
                await self._insert([row])
            except Exception as exc:
                if position == 0:
                    raise
                log.error("dropping an event the database refuses: %r (%r)", row, exc)
                rows[position] = {}
        rows[:] = [row for row in rows if row]  # what the stream gets: what was written

    async def flush(self) -> None:
        """Write everything waiting now (tests; the flusher does this on its own clock)."""
        async with self._lock:
            while self._pending:
                if not await self._write_batch():
                    raise RuntimeError("the event log could not be written")

    async def close(self) -> None:
        """Write everything accepted, then stop. Nothing is accepted from clients after this."""
        self._closing = True
        self._full.set()
        self._arrived.set()
        if self._task is not None:
            try:
                # Retries after failures: give the database a little while, then give up.
                await asyncio.wait_for(self._task, timeout=10)
            except TimeoutError:
                log.error("the event log closed with %d events unwritten", len(self._pending))
        if self.stream is not None:
            await self.stream.close()


def event_log(resources: Resources) -> EventLog:
    """This process's event log, made on first use (it closes with the resources)."""
    found = resources.extras.get("event_log")
    if found is None:
        settings = resources.settings
        gate = foreground(resources).wait_idle
        stream = (EventStream(settings.redis_url, settings.events_stream_maxlen, gate)
                  if settings.redis_url else None)
        found = resources.extras["event_log"] = EventLog(
            resources.db, settings, stream, gate)
        resources.closers.append(found.close)
    return found
