"""Hot reads on PostgreSQL run on the pooled connection's asyncpg connection itself.

SQLAlchemy's asyncio adaptation costs about as much CPU as asyncpg's own work for a page of
rows: the greenlet hop, the DB-API cursor emulation and the result's row processing took
~370 µs of a products page's ~770 µs (measured in-process: the same SQL through
`AsyncConnection.execute` 775 µs of CPU, `exec_driver_sql` 769 µs, asyncpg's `fetch` on the same
connection 400 µs). SQLAlchemy stays the data layer: statements are built with it, compiled by
it once per shape (keyed by its own cache key, so a new limit or cursor value reuses the plan),
their parameters bound and processed by it, and the connection comes from its pool, checked out
and returned as for any read. Only the execution and the row objects differ: asyncpg `Record`s
or lists (indexable and sliceable like `Row`s, not attribute-accessible), with the values
SQLAlchemy would have produced: its result processors are asked once per shape, as it asks
them at run time, with the types the server reports, and applied (`UTCDateTime`'s, for one;
its asyncpg dialect sets the JSON codecs on the connection itself, so JSON needs none);
`tests/core/test_driver_reads.py` compares.

Anything the plan cannot take goes through `AsyncConnection.execute` as before: other dialects
(SQLite), connections in a transaction, statements without a cache key, and expanding or
literal-execute parameters. A failure of the driver call is retried through SQLAlchemy on the
same connection, so errors (and the pool's handling of a dead connection) are SQLAlchemy's.
`before_cursor_execute` listeners are called as SQLAlchemy calls them (the tests count
statements with one).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Compiled, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import Select

_MAX_PLANS = 512


@dataclass(slots=True)
class _Plan:
    compiled: Compiled | None  # None: SQLAlchemy executes this shape
    sql: str = ""
    names: tuple[str, ...] = ()
    processors: Mapping[str, Callable[[Any], Any]] | None = None
    result_types: tuple[Any, ...] = ()
    checked: bool = False  # the result processors were asked for the server's column types
    # SQLAlchemy's result processors by column position (its own TypeDecorators, for one).
    row_processors: tuple[tuple[int, Callable[[Any], Any]], ...] = ()


_PLANS: OrderedDict[Any, _Plan] = OrderedDict()


def _plan(dialect: Dialect, stmt: Select[Any], cache_key: Any) -> _Plan:
    plan = _PLANS.get(cache_key.key)
    if plan is not None:
        _PLANS.move_to_end(cache_key.key)
        return plan
    compiled: Any = stmt.compile(dialect=dialect, cache_key=cache_key)
    if compiled.post_compile_params or compiled.literal_execute_params or (
            compiled.positiontup is None):
        plan = _Plan(None)
    else:
        plan = _Plan(compiled, compiled.string, tuple(compiled.positiontup),
                     compiled._bind_processors,
                     tuple(column[3] for column in compiled._result_columns))
    _PLANS[cache_key.key] = plan
    if len(_PLANS) > _MAX_PLANS:
        _PLANS.popitem(last=False)
    return plan


async def _check(plan: _Plan, dialect: Dialect, driver: Any) -> None:
    """SQLAlchemy's result processors for this shape, asked the way it asks at run time: with
    the type the server reports for each column (asyncpg's prepared statement attributes, as a
    cursor description gives them)."""
    attributes = (await driver.prepare(plan.sql)).get_attributes()
    if len(attributes) != len(plan.result_types):
        plan.compiled = None  # not the columns SQLAlchemy expects: leave it to SQLAlchemy
    else:
        processors = [(i, type_.dialect_impl(dialect).result_processor(dialect, attribute.type.oid))
                      for i, (type_, attribute) in enumerate(
                          zip(plan.result_types, attributes, strict=True))]
        plan.row_processors = tuple((i, p) for i, p in processors if p is not None)
    plan.checked = True


async def fetch(conn: AsyncConnection | AsyncSession, stmt: Select[Any],
                params: Mapping[str, Any] | None = None) -> Sequence[Any]:
    """All rows of the read `stmt` (with `params` for its bind parameters, as `execute` takes
    them). On the driver only for a bare AUTOCOMMIT read connection: a session, or a
    connection in a transaction, has SQLAlchemy run it."""
    if not isinstance(conn, AsyncConnection):
        return (await conn.execute(stmt, params)).all()
    dialect = conn.dialect
    sync_conn: Any = conn.sync_connection
    # Only outside transactions: the driver call would not join one SQLAlchemy had begun.
    if dialect.driver != "asyncpg" or sync_conn is None or sync_conn.get_execution_options().get(
            "isolation_level") != "AUTOCOMMIT" or (cache_key := stmt._generate_cache_key()) is None:
        return (await conn.execute(stmt, params)).all()
    plan = _plan(dialect, stmt, cache_key)
    driver: Any = (await conn.get_raw_connection()).driver_connection
    if plan.compiled is not None and not plan.checked:
        try:
            await _check(plan, dialect, driver)
        except Exception:  # as a failed fetch below: SQLAlchemy's to run and report
            return (await conn.execute(stmt, params)).all()
    if plan.compiled is None:
        return (await conn.execute(stmt, params)).all()
    bound: Any = plan.compiled.construct_params(
        dict(params) if params else None, extracted_parameters=cache_key.bindparams,
        escape_names=False)
    processors = plan.processors or {}
    args = [processors[name](bound[name]) if name in processors else bound[name]
            for name in plan.names]
    if sync_conn.dispatch.before_cursor_execute:  # statement counters and loggers still see it
        sync_conn.dispatch.before_cursor_execute(sync_conn, None, plan.sql, tuple(args), None,
                                                 False)
    try:
        rows: Sequence[Any] = await driver.fetch(plan.sql, *args)
    except Exception:
        # SQLAlchemy runs it again and reports the failure its own way (a disconnect, for one,
        # invalidates the pool so that the next read reconnects); listeners see it twice.
        return (await conn.execute(stmt, params)).all()
    if not plan.row_processors:
        return rows
    processed = []
    for row in rows:
        values = list(row)
        for i, process in plan.row_processors:
            values[i] = process(values[i])
        processed.append(values)
    return processed
