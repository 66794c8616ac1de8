"""Writes sales lines and keeps the rollups in step, in the caller's transaction.

Only lines that were actually inserted move the rollups: the fact table's natural key makes a
second import of a file (or a line listed twice) insert nothing, so nothing is counted twice.
Imports and paid orders both come through `record`; it imports nothing from other domains.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pycountry
from sqlalchemy import Table, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from graphql_api.metrics.models import (
    AMOUNT_SCALE,
    SalesCountryProductYear,
    SalesCustomerDay,
    SalesDaily,
    SalesDailyCountry,
    SalesLine,
    SalesOrder,
    SalesProduct,
    SalesProductMonth,
    SalesProductYear,
    SalesVersion,
)

Executor = AsyncSession | AsyncConnection

lines_table: Table = SalesLine.__table__  # type: ignore[attr-defined]
daily_country_table: Table = SalesDailyCountry.__table__  # type: ignore[attr-defined]
daily_table: Table = SalesDaily.__table__  # type: ignore[attr-defined]
product_month_table: Table = SalesProductMonth.__table__  # type: ignore[attr-defined]
product_year_table: Table = SalesProductYear.__table__  # type: ignore[attr-defined]
country_product_year_table: Table = SalesCountryProductYear.__table__  # type: ignore[attr-defined]
products_table: Table = SalesProduct.__table__  # type: ignore[attr-defined]
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


async def record(executor: Executor, lines: list[NewLine]) -> int:
    """Insert `lines` (those already present are skipped) and update every rollup with the new
    ones; returns how many were new.

    Set-based: the inserted lines land in a temporary table (`sales_line_fresh`) and a few
    INSERT ... SELECT ... ON CONFLICT statements fold them into the rollups, whatever the batch
    size. Concurrent writers (two imports of overlapping files, an import and a payment) cannot
    count a line twice: only what this transaction's INSERT actually inserted is folded in, and
    an invoice's placement is decided under the lock of its `sales_order` row (taken before the
    per-product placement is read). Every statement writes its rows in key order, and every
    writer touches the tables in the same order, so they wait for each other, never deadlock.
    """
    if not lines:
        return 0
    conn = executor if isinstance(executor, AsyncConnection) else await executor.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        new = await _insert_postgresql(conn, lines)
    else:
        new = await _insert_sqlite(conn, lines)
    if new:
        sql = _SQL[dialect]
        if dialect == "sqlite":
            await conn.execute(text(_SQLITE_DELTA_TABLE))
            await conn.execute(text("DELETE FROM sales_delta"))
        for statement in (sql.orders, sql.deltas, sql.daily, *sql.product_periods,
                          sql.products, sql.daily_country, sql.customers):
            await conn.execute(statement)
        await bump_version(conn)
    return new


COPY_FROM = 200  # lines: from here on PostgreSQL's COPY beats bound parameters (import batches)
_COPIED = ("source", "invoice", "stock_code", "description", "product_id", "quantity", "unit_price",
           "invoice_date", "customer_id", "country", "is_return")
_KEY = "invoice, stock_code, source, quantity, unit_price, is_return"  # uq_sales_line's columns
_FRESH = ("id, invoice, stock_code, description, day, country, customer_id, is_return, "
          "quantity, amount")
_PG_TABLES = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS sales_line_incoming (source varchar(8), "
    "invoice varchar(32), stock_code varchar(64), description varchar(255), product_id integer, "
    "quantity integer, unit_price numeric(14, 4), invoice_date timestamptz, "
    "customer_id varchar(32), country varchar(64), is_return boolean) ON COMMIT DELETE ROWS; "
    "CREATE TEMPORARY TABLE IF NOT EXISTS sales_line_fresh (id integer, invoice varchar(32), "
    "stock_code varchar(64), description varchar(255), day date, country varchar(64), "
    "customer_id varchar(32), is_return boolean, quantity integer, amount bigint) ON COMMIT DELETE ROWS; "
    "CREATE TEMPORARY TABLE IF NOT EXISTS sales_delta (day date, country varchar(64), "
    "stock_code varchar(64), gross bigint, returns bigint, units bigint, returned_units bigint, "
    "orders bigint) ON COMMIT DELETE ROWS; "
    "DELETE FROM sales_line_incoming; DELETE FROM sales_line_fresh; DELETE FROM sales_delta")
# The new lines straight into sales_line_fresh: nothing comes back to Python. Key order, so
# concurrent imports take the unique index's entries in the same order.
_PG_INSERT = (
    f"WITH inserted AS (INSERT INTO sales_line ({', '.join(_COPIED)}) "  # noqa: S608 (constants)
    f"SELECT {', '.join(_COPIED)} FROM sales_line_incoming ORDER BY {_KEY} "
    "ON CONFLICT DO NOTHING RETURNING id, invoice, stock_code, description, invoice_date, country, "
    "customer_id, is_return, quantity, unit_price) "
    f"INSERT INTO sales_line_fresh ({_FRESH}) SELECT id, invoice, stock_code, description, "
    "(invoice_date AT TIME ZONE 'UTC')::date, country, customer_id, is_return, quantity, "
    f"(quantity * unit_price * {AMOUNT_SCALE})::bigint FROM inserted")


async def _insert_postgresql(conn: AsyncConnection, lines: list[NewLine]) -> int:
    """Stage the batch in a temporary table (binary COPY for import batches: it skips the
    per-parameter work on both ends), then one INSERT ... SELECT ... ON CONFLICT DO NOTHING."""
    # SQLAlchemy opens the transaction lazily, at its first statement: make sure it has, so the
    # driver-level statements below run inside it.
    await conn.execute(text("SELECT 1"))
    pg = (await conn.get_raw_connection()).driver_connection
    assert pg is not None
    await pg.execute(_PG_TABLES)
    records = [(x.source, x.invoice, x.stock_code, x.description, x.product_id, x.quantity,
                x.unit_price, x.invoice_date, x.customer_id, x.country, x.is_return) for x in lines]
    if len(lines) >= COPY_FROM:
        await pg.copy_records_to_table("sales_line_incoming", columns=_COPIED, records=records)
    else:
        await pg.executemany(
            f"INSERT INTO sales_line_incoming ({', '.join(_COPIED)}) "  # noqa: S608 (constants)
            f"VALUES ({', '.join(f'${i + 1}' for i in range(len(_COPIED)))})", records)
    status = await pg.execute(_PG_INSERT)
    return int(status.rsplit(" ", 1)[1])  # "INSERT 0 <rows>"


_SQLITE_TABLES = ("CREATE TEMP TABLE IF NOT EXISTS sales_line_fresh (id INTEGER, invoice TEXT, "
                  "stock_code TEXT, description TEXT, day TEXT, country TEXT, customer_id TEXT, "
                  "is_return BOOLEAN, quantity INTEGER, amount INTEGER)")
# The batch's changes per (day, country, product), folded into both product rollups.
_SQLITE_DELTA_TABLE = ("CREATE TEMP TABLE IF NOT EXISTS sales_delta (day TEXT, country TEXT, "
                       "stock_code TEXT, gross INTEGER, returns INTEGER, units INTEGER, "
                       "returned_units INTEGER, orders INTEGER)")
_RETURNED = ("id", "invoice", "stock_code", "description", "invoice_date", "country",
             "customer_id", "is_return", "quantity", "unit_price")


async def _insert_sqlite(conn: AsyncConnection, lines: list[NewLine]) -> int:
    """SQLite: INSERT ... ON CONFLICT DO NOTHING RETURNING first (the transaction's first
    statement is a write, so it waits for a concurrent writer instead of failing on a stale
    snapshot), then the new lines into the temporary table."""
    insert = insert_for(lines_table, "sqlite").on_conflict_do_nothing().returning(
        *(lines_table.c[name] for name in _RETURNED))
    fresh: list[dict[str, Any]] = []
    # executemany: SQLAlchemy batches it into multi-row INSERTs (insertmanyvalues) from one
    # cached compilation. Sorted by the key, like PostgreSQL's.
    ordered = sorted(lines, key=lambda x: (x.invoice, x.stock_code, x.source, x.quantity,
                                           x.unit_price, x.is_return))
    for chunk in _chunks([_values(line) for line in ordered]):
        for row in await conn.execute(insert, chunk):
            fresh.append({"id": row[0], "invoice": row[1], "stock_code": row[2],
                          "description": row[3], "day": row[4].date().isoformat(),
                          "country": row[5], "customer_id": row[6], "is_return": row[7],
                          "quantity": row[8], "amount": amount_of(row[8], Decimal(row[9]))})
    if fresh:
        await conn.execute(text(_SQLITE_TABLES))
        await conn.execute(text("DELETE FROM sales_line_fresh"))
        await conn.execute(text(f"INSERT INTO sales_line_fresh ({_FRESH}) VALUES "  # noqa: S608
                                f"({', '.join(':' + c for c in _FRESH.split(', '))})"), fresh)
    return len(fresh)


def _chunks(rows: list[Any]) -> list[list[Any]]:
    return [rows[i:i + _CHUNK] for i in range(0, len(rows), _CHUNK)]


def _values(line: NewLine) -> dict[str, Any]:
    return {"source": line.source, "invoice": line.invoice, "stock_code": line.stock_code,
            "description": line.description, "product_id": line.product_id,
            "quantity": line.quantity, "unit_price": line.unit_price,
            "invoice_date": line.invoice_date, "customer_id": line.customer_id,
            "country": line.country, "is_return": line.is_return}


async def bump_version(executor: Executor) -> None:
    """Retire every cached metric (see SalesVersion); last in the transaction, as the row is a
    point of contention between concurrent writers."""
    await executor.execute(update(version_table).where(version_table.c.id == 1)
                           .values(version=version_table.c.version + 1))


# --- the roll-up statements, over sales_line_fresh ---------------------------------------------
#
# A "place" is where an invoice (or an invoice's product) is counted: its earliest sale line's
# (day, country), spelt `YYYY-MM-DD` + country so that MIN() picks the earliest (byte order,
# as Python compares the tuples: COLLATE "C" on PostgreSQL).


@dataclass(frozen=True)
class _Statements:
    orders: Any
    deltas: Any  # the batch's changes per (day, country, product) into sales_delta
    daily: Any
    product_periods: tuple[Any, ...]  # the month and year product rollups, the year per country
    products: Any
    daily_country: Any
    customers: Any


def _statements(sale_lines: str, line_day: str, place_day: str, c: str, month: str, year: str
                ) -> _Statements:
    """`sale_lines`: the sale lines `s` of the `touched` invoices, read by the invoice index;
    `line_day`: such a line's UTC day as text; `place_day`: a place's day as the rollups' date
    type (`{}` is the place); `c`: the byte-order collation clause; `month`: the first day of
    the month of `day`; `year`: the first day of its year."""
    touched = "touched AS (SELECT DISTINCT invoice FROM sales_line_fresh WHERE NOT is_return)"
    place = f"({line_day} || s.country){c}"
    orders = f"""WITH {touched}
INSERT INTO sales_order (invoice, day, country)
SELECT invoice, {place_day.format('first')}, substr(first, 11) FROM (
  SELECT s.invoice, MIN({place}) AS first FROM {sale_lines} GROUP BY s.invoice) AS p
WHERE true ORDER BY invoice
ON CONFLICT (invoice) DO UPDATE SET day = excluded.day, country = excluded.country
WHERE excluded.day < sales_order.day
   OR (excluded.day = sales_order.day AND excluded.country{c} < sales_order.country{c})"""  # noqa: S608 (constants)
    # Per (invoice, product): its place before this batch (lines not in sales_line_fresh) and
    # after; where it moved, +1 order at the new place and -1 at the old.
    deltas = f"""WITH {touched},
pairs AS (
  SELECT s.invoice, s.stock_code,
         MIN(CASE WHEN f.id IS NULL THEN {place} END) AS before, MIN({place}) AS after
  FROM {sale_lines} LEFT JOIN sales_line_fresh f ON f.id = s.id
  GROUP BY s.invoice, s.stock_code),
moves AS (
  SELECT after AS place, stock_code, 1 AS n FROM pairs WHERE before IS NULL OR before <> after
  UNION ALL
  SELECT before, stock_code, -1 FROM pairs WHERE before <> after),
deltas AS (
  SELECT day, country, stock_code,
         CASE WHEN is_return THEN 0 ELSE amount END AS gross,
         CASE WHEN is_return THEN amount ELSE 0 END AS returns,
         CASE WHEN is_return THEN 0 ELSE quantity END AS units,
         CASE WHEN is_return THEN quantity ELSE 0 END AS returned_units, 0 AS orders
  FROM sales_line_fresh
  UNION ALL
  SELECT {place_day.format('place')}, substr(place, 11), stock_code, 0, 0, 0, 0, n FROM moves)
INSERT INTO sales_delta (day, country, stock_code, gross, returns, units, returned_units, orders)
SELECT day, country, stock_code, SUM(gross), SUM(returns), SUM(units), SUM(returned_units),
       SUM(orders)
FROM deltas GROUP BY day, country, stock_code"""  # noqa: S608 (constants)
    daily = """INSERT INTO sales_daily (day, country, stock_code, gross, returns, units,
  returned_units, orders)
SELECT day, country, stock_code, gross, returns, units, returned_units, orders
FROM sales_delta WHERE true ORDER BY day, country, stock_code
ON CONFLICT (day, country, stock_code) DO UPDATE SET gross = sales_daily.gross + excluded.gross,
  returns = sales_daily.returns + excluded.returns, units = sales_daily.units + excluded.units,
  returned_units = sales_daily.returned_units + excluded.returned_units,
  orders = sales_daily.orders + excluded.orders"""
    product_periods = tuple(f"""INSERT INTO {table} ({name}, {by}stock_code, gross, returns,
  units, returned_units, orders)
SELECT {period}, {by}stock_code, SUM(gross), SUM(returns), SUM(units), SUM(returned_units),
       SUM(orders)
FROM sales_delta WHERE true GROUP BY {period}, {by}stock_code ORDER BY {period}, {by}stock_code
ON CONFLICT ({name}, {by}stock_code) DO UPDATE SET
  gross = {table}.gross + excluded.gross,
  returns = {table}.returns + excluded.returns,
  units = {table}.units + excluded.units,
  returned_units = {table}.returned_units + excluded.returned_units,
  orders = {table}.orders + excluded.orders"""  # noqa: S608 (constants)
        for table, name, period, by in (
            ("sales_product_month", "month", month, ""),
            ("sales_product_year", "year", year, ""),
            ("sales_country_product_year", "year", year, "country, ")))
    # The greatest description in byte order (the same on both databases): only a greater one
    # rewrites the row.
    products = f"""INSERT INTO sales_product (stock_code, description)
SELECT stock_code, MAX(description{c}) FROM sales_line_fresh WHERE true GROUP BY stock_code
ORDER BY stock_code
ON CONFLICT (stock_code) DO UPDATE SET description = excluded.description
WHERE excluded.description{c} > sales_product.description{c}"""  # noqa: S608 (constants)
    daily_country = """INSERT INTO sales_daily_country (day, country, gross, returns, units,
  returned_units)
SELECT day, country, SUM(CASE WHEN is_return THEN 0 ELSE amount END),
       SUM(CASE WHEN is_return THEN amount ELSE 0 END),
       SUM(CASE WHEN is_return THEN 0 ELSE quantity END),
       SUM(CASE WHEN is_return THEN quantity ELSE 0 END)
FROM sales_line_fresh WHERE true GROUP BY day, country ORDER BY day, country
ON CONFLICT (day, country) DO UPDATE SET gross = sales_daily_country.gross + excluded.gross,
  returns = sales_daily_country.returns + excluded.returns,
  units = sales_daily_country.units + excluded.units,
  returned_units = sales_daily_country.returned_units + excluded.returned_units"""
    customers = """INSERT INTO sales_customer_day (day, country, customer_id)
SELECT DISTINCT day, country, customer_id FROM sales_line_fresh
WHERE NOT is_return AND customer_id IS NOT NULL ORDER BY day, country, customer_id
ON CONFLICT DO NOTHING"""
    return _Statements(text(orders), text(deltas), text(daily),
                       tuple(text(s) for s in product_periods),
                       *(text(s) for s in (products, daily_country, customers)))


_SQL = {
    # LATERAL (OFFSET 0 keeps it from being flattened into a join): an index scan per invoice. As
    # a join, the planner hashed the whole fact table for each batch (statistics lag behind an
    # import): 50 ms a batch at 100,000 lines, growing with the table.
    "postgresql": _statements("touched t CROSS JOIN LATERAL (SELECT l.id, l.invoice, l.stock_code, "
                              "l.invoice_date, l.country FROM sales_line l "
                              "WHERE l.invoice = t.invoice AND NOT l.is_return OFFSET 0) AS s",
                              "to_char(s.invoice_date AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
                              "CAST(substr({}, 1, 10) AS date)", ' COLLATE "C"',
                              "CAST(date_trunc('month', day) AS date)",
                              "CAST(date_trunc('year', day) AS date)"),
    # SQLite keeps timestamps as 'YYYY-MM-DD HH:MM:SS...' (UTC, see UTCDateTime) and dates as text.
    "sqlite": _statements("touched t JOIN sales_line s ON s.invoice = t.invoice AND NOT s.is_return",
                          "substr(s.invoice_date, 1, 10)", "substr({}, 1, 10)", "",
                          "substr(day, 1, 8) || '01'", "substr(day, 1, 5) || '01-01'"),
}
