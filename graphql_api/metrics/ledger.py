"""Writes sales lines and keeps the rollups in step, in the caller's transaction.

Only lines that were actually inserted move the rollups: the fact table's natural key makes a
second import of a file (or a line listed twice) insert nothing, so nothing is counted twice.
Imports and paid orders both come through `record`; it imports nothing from other domains.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pycountry
from sqlalchemy import Table, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from graphql_api.metrics.models import (
    AMOUNT_SCALE,
    SalesCustomerDay,
    SalesDaily,
    SalesDailyCountry,
    SalesLine,
    SalesOrder,
    SalesVersion,
)

Executor = AsyncSession | AsyncConnection

lines_table: Table = SalesLine.__table__  # type: ignore[attr-defined]
daily_country_table: Table = SalesDailyCountry.__table__  # type: ignore[attr-defined]
daily_table: Table = SalesDaily.__table__  # type: ignore[attr-defined]
orders_table: Table = SalesOrder.__table__  # type: ignore[attr-defined]
customers_table: Table = SalesCustomerDay.__table__  # type: ignore[attr-defined]
version_table: Table = SalesVersion.__table__  # type: ignore[attr-defined]

_CHUNK = 1000  # rows per execute (and IN list)


@dataclass(frozen=True, slots=True)
class NewLine:
    source: str  # "import" or "order"
    invoice: str
    stock_code: str
    description: str
    quantity: int  # units, always positive; `is_return` says which way they went
    unit_price: Decimal
    invoice_date: datetime  # aware, UTC
    customer_id: str | None  # None: a guest
    country: str
    is_return: bool
    product_id: int | None = None


def amount_of(quantity: int, unit_price: Decimal) -> int:
    """A line's value in rollup units (exact: prices have at most four decimals)."""
    return int(quantity * unit_price * AMOUNT_SCALE)


def country_name(code: str) -> str:
    """Orders carry ISO alpha-2 codes, the import's layout country names: metrics use names."""
    found = pycountry.countries.get(alpha_2=code.upper())
    return found.name if found is not None else code


def dialect_of(executor: Executor) -> str:
    if isinstance(executor, AsyncConnection):
        return executor.dialect.name
    return executor.get_bind().dialect.name


def insert_for(table: Table, dialect: str) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


def _chunks(rows: list[Any]) -> list[list[Any]]:
    return [rows[i:i + _CHUNK] for i in range(0, len(rows), _CHUNK)]


@dataclass(frozen=True, slots=True)
class _Stored:
    id: int
    invoice: str
    stock_code: str
    quantity: int
    unit_price: Decimal
    day: date
    customer_id: str | None
    country: str
    is_return: bool


async def record(executor: Executor, lines: list[NewLine]) -> int:
    """Insert `lines` (those already present are skipped) and update every rollup with the new
    ones; returns how many were new."""
    if not lines:
        return 0
    dialect = dialect_of(executor)
    if dialect == "postgresql" and len(lines) >= COPY_FROM:
        stored = await _insert_by_copy(executor, lines)
    else:
        stored = await _insert(executor, dialect, lines)
    if stored:
        await _roll_up(executor, dialect, stored)
        await bump_version(executor)
    return len(stored)


_RETURNED = ("id", "invoice", "stock_code", "quantity", "unit_price", "invoice_date", "customer_id",
             "country", "is_return")
_COPIED = ("source", "invoice", "stock_code", "description", "product_id", "quantity", "unit_price",
           "invoice_date", "customer_id", "country", "is_return")
COPY_FROM = 200  # lines: from here on PostgreSQL's COPY beats bound parameters (import batches)


def _stored(row: Any) -> _Stored:
    return _Stored(row[0], row[1], row[2], row[3], Decimal(row[4]), row[5].date(), row[6], row[7],
                   row[8])


async def _insert(executor: Executor, dialect: str, lines: list[NewLine]) -> list[_Stored]:
    insert = insert_for(lines_table, dialect).on_conflict_do_nothing().returning(
        *(lines_table.c[name] for name in _RETURNED))
    stored: list[_Stored] = []
    # executemany: SQLAlchemy batches it into multi-row INSERTs (insertmanyvalues) from one
    # cached compilation; `.values(rows)` would compile thousands of parameters per call.
    for chunk in _chunks([_values(line) for line in lines]):
        stored += [_stored(row) for row in await executor.execute(insert, chunk)]
    return stored


async def _insert_by_copy(executor: Executor, lines: list[NewLine]) -> list[_Stored]:
    """COPY the batch into a temporary table, then one INSERT ... SELECT ... ON CONFLICT DO
    NOTHING: binary COPY skips per-parameter work on both ends (the import's hot path)."""
    conn = executor if isinstance(executor, AsyncConnection) else await executor.connection()
    # SQLAlchemy opens the transaction lazily, at its first statement: make sure it has, so the
    # driver-level statements below run inside it.
    await conn.execute(text("SELECT 1"))
    pg = (await conn.get_raw_connection()).driver_connection
    assert pg is not None
    await pg.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS sales_line_incoming (source varchar(8), "
        "invoice varchar(32), stock_code varchar(64), description varchar(255), "
        "product_id integer, quantity integer, unit_price numeric(14, 4), "
        "invoice_date timestamptz, customer_id varchar(32), country varchar(64), "
        "is_return boolean) ON COMMIT DELETE ROWS")
    await pg.execute("TRUNCATE sales_line_incoming")
    await pg.copy_records_to_table(
        "sales_line_incoming", columns=_COPIED,
        records=[(x.source, x.invoice, x.stock_code, x.description, x.product_id, x.quantity,
                  x.unit_price, x.invoice_date, x.customer_id, x.country, x.is_return)
                 for x in lines])
    columns = ", ".join(_COPIED)
    rows = await pg.fetch(
        f"INSERT INTO sales_line ({columns}) SELECT {columns} FROM sales_line_incoming "  # noqa: S608 (constant names)
        f"ON CONFLICT DO NOTHING RETURNING {', '.join(_RETURNED)}")
    return [_stored(row) for row in rows]


async def bump_version(executor: Executor) -> None:
    """Retire every cached metric (see SalesVersion); last in the transaction, as the row is a
    point of contention between concurrent writers."""
    await executor.execute(update(version_table).where(version_table.c.id == 1)
                           .values(version=version_table.c.version + 1))


def _values(line: NewLine) -> dict[str, Any]:
    return {"source": line.source, "invoice": line.invoice, "stock_code": line.stock_code,
            "description": line.description, "product_id": line.product_id,
            "quantity": line.quantity, "unit_price": line.unit_price,
            "invoice_date": line.invoice_date, "customer_id": line.customer_id,
            "country": line.country, "is_return": line.is_return}


async def _roll_up(executor: Executor, dialect: str, stored: list[_Stored]) -> None:
    by_country: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    by_product: dict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    customers: set[tuple[date, str, str]] = set()
    for line in stored:
        value = amount_of(line.quantity, line.unit_price)
        # [gross, returns, units, returned_units]
        delta = (0, value, 0, line.quantity) if line.is_return else (value, 0, line.quantity, 0)
        for totals in (by_country[(line.day, line.country)],
                       by_product[(line.day, line.country, line.stock_code)]):
            for i, d in enumerate(delta):
                totals[i] += d
        if not line.is_return and line.customer_id is not None:
            customers.add((line.day, line.country, line.customer_id))
    await _place_orders(executor, dialect, stored, by_product)
    await _add(executor, dialect, daily_country_table, ["day", "country"],
               ["gross", "returns", "units", "returned_units"], by_country)
    await _add(executor, dialect, daily_table, ["day", "country", "stock_code"],
               ["gross", "returns", "units", "returned_units", "orders"], by_product)
    if customers:
        insert = insert_for(customers_table, dialect).on_conflict_do_nothing()
        rows = [{"day": d, "country": c, "customer_id": k} for d, c, k in sorted(customers)]
        for chunk in _chunks(rows):
            await executor.execute(insert, chunk)


async def _place_orders(executor: Executor, dialect: str, stored: list[_Stored],
                        by_product: dict[tuple[date, str, str], list[int]]) -> None:
    """An invoice (and each of its products) is counted at its earliest sale line: compare the
    earliest (day, country) before this batch with the earliest including it, and move the
    count where it changed. Order-independent, so re-imports and late lines stay exact."""
    new_ids = {line.id for line in stored}
    invoices = sorted({line.invoice for line in stored if not line.is_return})
    before: dict[str, tuple[date, str]] = {}
    after: dict[str, tuple[date, str]] = {}
    pair_before: dict[tuple[str, str], tuple[date, str]] = {}
    pair_after: dict[tuple[str, str], tuple[date, str]] = {}
    for chunk in _chunks(invoices):
        rows = await executor.execute(
            select(lines_table.c.id, lines_table.c.invoice, lines_table.c.stock_code,
                   lines_table.c.invoice_date, lines_table.c.country)
            .where(lines_table.c.invoice.in_(chunk), lines_table.c.is_return.is_(False)))
        for row in rows:
            place = (row.invoice_date.date(), row.country)
            pair = (row.invoice, row.stock_code)
            _earliest(after, row.invoice, place)
            _earliest(pair_after, pair, place)
            if row.id not in new_ids:
                _earliest(before, row.invoice, place)
                _earliest(pair_before, pair, place)
    moved = [(invoice, place) for invoice, place in after.items() if before.get(invoice) != place]
    if moved:
        insert = insert_for(orders_table, dialect)
        upsert = insert.on_conflict_do_update(
            index_elements=["invoice"], set_={"day": insert.excluded.day,
                                              "country": insert.excluded.country})
        for chunk in _chunks([{"invoice": i, "day": d, "country": c} for i, (d, c) in moved]):
            await executor.execute(upsert, chunk)
    for pair, place in pair_after.items():
        old = pair_before.get(pair)
        if old != place:
            by_product[(*place, pair[1])][4] += 1
            if old is not None:
                by_product[(*old, pair[1])][4] -= 1


def _earliest(found: dict[Any, tuple[date, str]], key: Any, place: tuple[date, str]) -> None:
    if key not in found or place < found[key]:
        found[key] = place


async def _add(executor: Executor, dialect: str, table: Table, keys: list[str], measures: list[str],
               deltas: dict[Any, list[int]]) -> None:
    """Add `deltas` to the rollup rows (created at zero when missing)."""
    insert = insert_for(table, dialect)
    upsert = insert.on_conflict_do_update(
        index_elements=keys,
        set_={m: table.c[m] + getattr(insert.excluded, m) for m in measures})
    rows = [{**dict(zip(keys, key, strict=True)), **dict(zip(measures, values, strict=True))}
            for key, values in sorted(deltas.items())]
    for chunk in _chunks(rows):
        await executor.execute(upsert, chunk)
