"""The async engine and sessions; SQLite (embedded) and PostgreSQL share this one code path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from graphql_api.core.settings import Settings

T = TypeVar("T")


def _has_float(value: Any) -> bool:
    kind = type(value)
    if kind is float:
        return True
    if kind is list or kind is dict:
        for item in (value if kind is list else value.values()):
            if type(item) is not str and _has_float(item):
                return True
    return False


def json_loads(text: str) -> Any:
    """A JSON column's value: orjson (a product row's tags and images, two small arrays, cost
    ~60 µs of a 20-product page with the stdlib's decoder), the stdlib for what orjson refuses
    (NaN, lone surrogates) or may read otherwise: orjson reads an integer beyond 64 bits as a
    float, so a value with any float in it is read again by the stdlib."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    return json.loads(text) if _has_float(value) else value


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30},
                                     json_deserializer=json_loads,
                                     skip_autocommit_rollback=True)
        _tune_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        # As many connections as a burst needs, up to twice DB_POOL_SIZE, kept open once made
        # (recycled after pool_recycle): with overflow connections, closed as each burst ended,
        # the listing benchmark's 16 clients made ~60 connections in 13 s, each a TLS
        # handshake and a SCRAM authentication on both sides.
        pool_size=2 * settings.db_pool_size,
        max_overflow=0,
        # No pre-ping: it costs a round trip per checkout. A connection found dead raises a
        # disconnect error, which makes SQLAlchemy drop the whole pool, so the next use reconnects.
        pool_recycle=1800,
        json_deserializer=json_loads,
        skip_autocommit_rollback=True,  # an AUTOCOMMIT read has nothing to roll back
    )


async def to_completion(work: Coroutine[Any, Any, T]) -> T:
    """`work` in a task of its own, finished even if the caller is cancelled meanwhile; the
    caller's cancellation is re-raised once it has.

    Its first step runs at once, in the caller (as an eager task does in Python 3.12): a
    checkout of an idle pooled connection, and most check-ins, finish in it without ever
    waiting, and what never waits cannot be cancelled midway, so they need no task (a task and
    a shield cost ~8 µs, twice per read). Work that does wait goes on in a task from there."""
    try:
        waiting_for = work.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    except BaseException:
        work.close()
        raise
    task = asyncio.ensure_future(_resumed(work, waiting_for))
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            result = await asyncio.shield(task)
            break
        except asyncio.CancelledError as err:
            if task.done():
                raise
            cancelled = err
    if cancelled is not None:
        raise cancelled
    return result


async def _resumed(work: Coroutine[Any, Any, T], waiting_for: Any) -> T:
    """Steps `work` on from where its first step stopped, as a task steps a coroutine: it had
    yielded the future it waits for (or None, to let the loop run once)."""
    while True:
        try:
            if waiting_for is None:
                await asyncio.sleep(0)
            else:
                # The flag its await set is a task's to clear before it waits on the future.
                waiting_for._asyncio_future_blocking = False
                await waiting_for
        except BaseException as error:  # the future failed (or this task is cancelled)
            try:
                waiting_for = work.throw(error)
            except StopIteration as done:
                return cast(T, done.value)
            continue
        try:
            waiting_for = work.send(None)
        except StopIteration as done:
            return cast(T, done.value)


async def _connect(engine: AsyncEngine) -> AsyncConnection:
    """`engine.connect()` that a cancellation cannot leave half done.

    SQLAlchemy checks a connection out of the pool and then, still inside `AsyncConnection.start()`,
    runs the `engine_connect` events: for the AUTOCOMMIT read engine on aiosqlite, setting the
    isolation level is a round trip to the driver's thread. A cancellation landing there unwinds
    the half-built Connection, and the pooled connection it had checked out is referenced by
    nothing, left checked out until the garbage collector finds it ("non-checked-in connection").
    SQLAlchemy runs the close of `async with` to completion, not the checkout. And cancellations
    do come mid-checkout: when one field fails, graphql-core cancels its pending siblings (e.g.
    `categories { products(after: "bad") { ... } }`: the first invalid cursor nulls the whole
    list while the other categories' reads are connecting), and Strawberry cancels a websocket
    operation that its client completes. So the checkout runs to completion, and a caller
    cancelled meanwhile gives the connection back before it sees its cancellation.
    """
    conn = engine.connect()
    try:
        await to_completion(conn.start())
    except asyncio.CancelledError:
        if conn.sync_connection is not None:
            await to_completion(conn.close())
        raise
    return conn


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        # WAL lets readers proceed during a write; foreign keys are off by default in SQLite.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: bulk seeding is index-bound
        cur.close()


class Database:
    def __init__(self, settings: Settings) -> None:
        self.engine = create_engine(settings)
        # Same pool, no transaction: a read is one round trip, not BEGIN, query, ROLLBACK.
        self.read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A bare connection for reads: Core statements skip the ORM session's bookkeeping."""
        conn = await _connect(self.read_engine)
        try:
            yield conn
        finally:
            await to_completion(conn.close())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits together or not at all."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
