"""Metric reads, from the rollups (and the facts for the transaction list). No GraphQL here.

Definitions (README "Metrics"): revenue is net (sales minus returns, each quantity x unit
price); unitsSold counts units on sale lines; orders counts invoices with a sale line (each at
its first one); customers counts distinct known customers with a sale line; averageOrderValue
is gross sales / orders; returnsRate is returned value / gross sales.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_api.core.pagination import KeyColumn, Page, PageArgs, SortKey, build_page, keyset_statement
from graphql_api.metrics.ledger import (
    country_product_year_table,
    customers_table,
    daily_country_table,
    daily_table,
    dialect_of,
    lines_table,
    orders_table,
    product_month_table,
    product_year_table,
    products_table,
)
from graphql_api.metrics.models import AMOUNT_SCALE
from graphql_api.metrics.periods import (
    DayRange,
    Granularity,
    period_start,
    periods,
    split_periods,
    split_years,
    sql_period_start,
)

CENT = Decimal("0.01")
RATE = Decimal("0.000001")


class SeriesMetric(StrEnum):
    REVENUE = "REVENUE"
    ORDERS = "ORDERS"
    UNITS = "UNITS"
    CUSTOMERS = "CUSTOMERS"


class Measure(StrEnum):
    REVENUE = "REVENUE"
    UNITS = "UNITS"
    ORDERS = "ORDERS"


def money(amount: int) -> Decimal:
    """Rollup units as a currency amount."""
    return shown(Decimal(amount).scaleb(-4))


def shown(value: Decimal) -> Decimal:
    """An amount to the cent when it is exact at cents, else with its (up to four) decimals."""
    cents = value.quantize(CENT)
    return cents if cents == value else value.normalize()


@dataclass(frozen=True, slots=True)
class Totals:
    gross: int = 0  # rollup units
    returns: int = 0
    units: int = 0
    orders: int = 0
    customers: int = 0

    @property
    def revenue(self) -> int:
        return self.gross - self.returns

    @property
    def average_order_value(self) -> Decimal | None:
        if not self.orders:
            return None
        return (Decimal(self.gross) / AMOUNT_SCALE / self.orders).quantize(CENT, ROUND_HALF_UP)

    @property
    def returns_rate(self) -> Decimal | None:
        if not self.gross:
            return None
        return (Decimal(self.returns) / self.gross).quantize(RATE, ROUND_HALF_UP)


def _days(column: Any, span: DayRange) -> list[Any]:
    conditions = []
    if span.start is not None:
        conditions.append(column >= span.start)
    if span.end is not None:
        conditions.append(column < span.end)
    return conditions


def _where(table: Any, span: DayRange, country: str | None) -> list[Any]:
    conditions = _days(table.c.day, span)
    if country is not None:
        conditions.append(table.c.country == country)
    return conditions


async def totals(conn: AsyncConnection, span: DayRange, country: str | None = None) -> Totals:
    """Every KPI of a range in one statement (scalar subqueries over the three small tables)."""
    if span.empty:
        return Totals()
    d, o, c = daily_country_table, orders_table, customers_table
    money_part = select(func.coalesce(func.sum(d.c.gross), 0), func.coalesce(func.sum(d.c.returns), 0),
                        func.coalesce(func.sum(d.c.units), 0)).where(*_where(d, span, country))
    orders = select(func.count()).select_from(o).where(*_where(o, span, country)).scalar_subquery()
    # DISTINCT in a subquery: PostgreSQL hashes it, where COUNT(DISTINCT) sorts (twice as slow).
    known = select(c.c.customer_id).where(*_where(c, span, country)).distinct().subquery()
    customers = select(func.count()).select_from(known).scalar_subquery()
    row = (await conn.execute(money_part.add_columns(orders, customers))).one()
    return Totals(*(int(v) for v in row))


async def _bounds(conn: AsyncConnection, span: DayRange, country: str | None) -> DayRange | None:
    """An open range closed by the first and last day with sales (None: no sales at all)."""
    if span.start is not None and span.end is not None:
        return span
    d = daily_country_table
    stmt = select(func.min(d.c.day), func.max(d.c.day))
    if country is not None:
        stmt = stmt.where(d.c.country == country)
    first, last = (await conn.execute(stmt)).one()
    if first is None:
        return None if span.start is None or span.end is None else span
    end = span.end if span.end is not None else date.fromordinal(_as_date(last).toordinal() + 1)
    return DayRange(span.start if span.start is not None else _as_date(first), end)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def series(conn: AsyncConnection, metric: SeriesMetric, granularity: Granularity,
                 span: DayRange, country: str | None = None) -> list[tuple[date, Decimal]]:
    """(period start, value) for every period overlapping the range, empty ones at zero; only
    days inside the range count, so a REVENUE/ORDERS/UNITS series sums to its KPI."""
    if span.empty:
        return []
    closed = await _bounds(conn, span, country)
    if closed is None or closed.start is None or closed.end is None:
        return []
    starts = periods(closed.start, closed.end, granularity)
    values: dict[date, Decimal] = dict.fromkeys(starts, Decimal(0))
    if metric is SeriesMetric.CUSTOMERS:  # distinct per period: grouped in SQL
        c = customers_table
        period = sql_period_start(c.c.day, granularity, dialect_of(conn)).label("period")
        pairs = (select(period, c.c.customer_id).where(*_where(c, closed, country))
                 .distinct().subquery())
        stmt: Select[Any] = (select(pairs.c.period, func.count())
                             .group_by(pairs.c.period))
        for start, count in await conn.execute(stmt):
            values[_as_date(start)] = Decimal(count)
        return list(values.items())
    if metric is SeriesMetric.ORDERS:
        o = orders_table
        stmt = (select(o.c.day, func.count()).where(*_where(o, closed, country)).group_by(o.c.day))
    else:
        d = daily_country_table
        measure = (func.sum(d.c.gross) - func.sum(d.c.returns) if metric is SeriesMetric.REVENUE
                   else func.sum(d.c.units))
        stmt = select(d.c.day, measure).where(*_where(d, closed, country)).group_by(d.c.day)
    for day, amount in await conn.execute(stmt):
        key = period_start(_as_date(day), granularity)
        values[key] += Decimal(int(amount))
    if metric is SeriesMetric.REVENUE:
        return [(k, money(int(v))) for k, v in values.items()]
    return list(values.items())


@dataclass(frozen=True, slots=True)
class Ranked:
    key: str  # a country, or a stock code
    revenue: int  # rollup units
    units: int
    orders: int
    share: Decimal | None  # of the total by the chosen measure
    description: str | None = None


def _measure(row: Ranked, by: Measure) -> int:
    return row.revenue if by is Measure.REVENUE else row.units if by is Measure.UNITS else row.orders


def _share(part: int, whole: int) -> Decimal | None:
    return None if whole == 0 else (Decimal(part) / whole).quantize(RATE, ROUND_HALF_UP)


async def top_countries(conn: AsyncConnection, by: Measure, limit: int, span: DayRange
                        ) -> list[Ranked]:
    if span.empty:
        return []
    d, o = daily_country_table, orders_table
    sums = await conn.execute(
        select(d.c.country, func.sum(d.c.gross) - func.sum(d.c.returns), func.sum(d.c.units))
        .where(*_days(d.c.day, span)).group_by(d.c.country))
    counts: dict[str, int] = {country: int(n) for country, n in await conn.execute(
        select(o.c.country, func.count()).where(*_days(o.c.day, span)).group_by(o.c.country))}
    rows = [Ranked(country, int(revenue), int(units), int(counts.get(country, 0)), None)
            for country, revenue, units in sums]
    return _ranked(rows, by, limit)


def _ranked(rows: list[Ranked], by: Measure, limit: int) -> list[Ranked]:
    whole = sum(_measure(r, by) for r in rows)
    rows.sort(key=lambda r: (-_measure(r, by), r.key))
    return [Ranked(r.key, r.revenue, r.units, r.orders, _share(_measure(r, by), whole), r.description)
            for r in rows[:limit]]


async def top_products(conn: AsyncConnection, by: Measure, limit: int, span: DayRange,
                       country: str | None = None) -> list[Ranked]:
    """The whole years of the range come from a yearly product rollup, the whole months outside
    them from a monthly one and only the days at the range's ends from the daily one (a row per
    product, day and country): a few rows per product, where the daily rollup has one per day
    and country it sold in. In one country: its yearly rollup, and its daily rows elsewhere."""
    if span.empty:
        return []
    d = daily_table
    if country is None:
        cut, m, y = split_periods(span), product_month_table, product_year_table
    else:
        cut, m, y = split_years(span), None, country_product_year_table

    def columns(table: Any) -> tuple[Any, ...]:
        return table.c.stock_code, table.c.gross, table.c.returns, table.c.units, table.c.orders

    def where(table: Any) -> list[Any]:
        return [] if country is None else [table.c.country == country]

    parts: list[Select[Any]] = [select(*columns(d)).where(*_days(d.c.day, days), *where(d))
                                for days in cut.days]
    if m is not None:
        parts += [select(*columns(m)).where(*_days(m.c.month, months)) for months in cut.months]
    if cut.years is not None:
        parts.append(select(*columns(y)).where(*_days(y.c.year, cut.years), *where(y)))
    rows = parts[0].subquery() if len(parts) == 1 else union_all(*parts).subquery()
    revenue = (func.sum(rows.c.gross) - func.sum(rows.c.returns)).label("revenue")
    units, orders = func.sum(rows.c.units).label("units"), func.sum(rows.c.orders).label("orders")
    measure = {Measure.REVENUE: revenue, Measure.UNITS: units, Measure.ORDERS: orders}[by]
    # The total by the measure over every product, in the same pass (a window over the groups).
    whole = func.sum(measure).over().label("whole")
    picked = list(await conn.execute(
        select(rows.c.stock_code, revenue, units, orders, whole).group_by(rows.c.stock_code)
        .order_by(measure.desc(), rows.c.stock_code).limit(limit)))
    ranked = [Ranked(code, int(r), int(u), int(o), None) for code, r, u, o, _ in picked]
    total = int(picked[0][4]) if picked else 0
    names = await _descriptions(conn, [r.key for r in ranked])
    return [Ranked(r.key, r.revenue, r.units, r.orders, _share(_measure(r, by), total),
                   names.get(r.key)) for r in ranked]


async def _descriptions(conn: AsyncConnection, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    p = products_table
    rows = await conn.execute(select(p.c.stock_code, p.c.description)
                              .where(p.c.stock_code.in_(codes)))
    return {code: name for code, name in rows}


# --- the sales lines ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LineQuery:
    country: str | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive
    invoice: str | None = None
    customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class LineRecord:
    id: int
    source: str
    invoice: str
    stock_code: str
    description: str
    product_id: int | None
    quantity: int
    unit_price: Decimal
    invoice_date: datetime
    customer_id: str | None
    country: str
    is_return: bool


_LINE_COLUMNS = [lines_table.c[f] for f in LineRecord.__dataclass_fields__]
LINE_SORT = SortKey(columns=[KeyColumn(lines_table.c.invoice_date, datetime),
                             KeyColumn(lines_table.c.id, int)], descending=True)


def _line_filter(stmt: Select[Any], query: LineQuery) -> Select[Any]:
    l = lines_table  # noqa: E741
    conditions = []
    if query.country is not None:
        conditions.append(l.c.country == query.country)
    if query.start is not None:
        conditions.append(l.c.invoice_date >= query.start)
    if query.end is not None:
        conditions.append(l.c.invoice_date < query.end)
    if query.invoice is not None:
        conditions.append(l.c.invoice == query.invoice)
    if query.customer_id is not None:
        conditions.append(l.c.customer_id == query.customer_id)
    return stmt.where(and_(*conditions)) if conditions else stmt


async def list_lines(conn: AsyncConnection, query: LineQuery, page: PageArgs) -> Page[LineRecord]:
    stmt = keyset_statement(_line_filter(select(*_LINE_COLUMNS), query), LINE_SORT, page)
    rows = [LineRecord(*row) for row in await conn.execute(stmt)]
    return build_page(rows, page, lambda r: [r.invoice_date, r.id])


async def count_lines(conn: AsyncConnection, query: LineQuery) -> int:
    stmt = _line_filter(select(func.count()).select_from(lines_table), query)
    return int((await conn.execute(stmt)).scalar_one())
