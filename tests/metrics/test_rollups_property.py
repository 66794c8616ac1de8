"""The rollups always equal a direct aggregation over the sales lines: random lines recorded in
random batches (duplicates and late, earlier lines included), then every rollup row and the
KPIs of a random range and country compared with sums over the fact table."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from graphql_api.core.resources import Resources
from graphql_api.metrics import ledger, service
from graphql_api.metrics.models import AMOUNT_SCALE
from graphql_api.metrics.periods import DayRange
from tests.metrics.conftest import clear_sales

COPY_FROM = ledger.COPY_FROM

START = datetime(2029, 11, 1, tzinfo=UTC)
DAYS = 800  # over two new years: ranges over whole years, months and parts of them
COUNTRIES = ["France", "Japan", "Peru"]


@st.composite
def sales_lines(draw: Any) -> ledger.NewLine:
    is_return = draw(st.booleans())
    invoice = draw(st.sampled_from(["1001", "1002", "1003", "1004", "1005"]))
    return ledger.NewLine(
        source="import", invoice=("C" if is_return else "") + invoice,
        stock_code=draw(st.sampled_from(["A", "B", "C"])),
        description=draw(st.sampled_from(["item", "Item", "zebra"])),
        quantity=draw(st.integers(1, 40)),
        unit_price=draw(st.sampled_from([Decimal("0.01"), Decimal("1.25"), Decimal("0.005"),
                                         Decimal("3.3333"), Decimal("999.99")])),
        invoice_date=START + timedelta(hours=draw(st.integers(0, 24 * DAYS))),
        customer_id=draw(st.sampled_from([None, "k1", "k2", "k3"])),
        country=draw(st.sampled_from(COUNTRIES)), is_return=is_return)


def _direct(facts: list[Any]) -> dict[str, Any]:
    """Every rollup, recomputed from the fact rows alone."""
    by_country: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    by_product: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    first: dict[str, tuple[date, str]] = {}
    first_pair: dict[tuple[str, str], tuple[date, str]] = {}
    customers = set()
    for f in facts:
        day = f.invoice_date.date()
        value = int(f.quantity * Decimal(f.unit_price) * AMOUNT_SCALE)
        delta = [0, value, 0, f.quantity] if f.is_return else [value, 0, f.quantity, 0]
        for i, d in enumerate(delta):
            by_country[(day, f.country)][i] += d
            by_product[(day, f.country, f.stock_code)][i] += d
        if not f.is_return:
            place = (day, f.country)
            first[f.invoice] = min(first.get(f.invoice, place), place)
            pair = (f.invoice, f.stock_code)
            first_pair[pair] = min(first_pair.get(pair, place), place)
            if f.customer_id is not None:
                customers.add((day, f.country, f.customer_id))
    for (_, code), (day, country) in first_pair.items():
        by_product[(day, country, code)][4] += 1
    by_month: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for (day, _, code), values in by_product.items():
        for i, v in enumerate(values):
            by_month[(day.replace(day=1), code)][i] += v
    by_year: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for (month, code), values in by_month.items():
        for i, v in enumerate(values):
            by_year[(month.replace(month=1), code)][i] += v
    by_country_year: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for (day, where, code), values in by_product.items():
        for i, v in enumerate(values):
            by_country_year[(day.replace(month=1, day=1), where, code)][i] += v
    names: dict[str, str] = {}
    for f in facts:
        names[f.stock_code] = max(names.get(f.stock_code, f.description), f.description)
    return {
        "product_month": {k: tuple(v) for k, v in by_month.items()},
        "product_year": {k: tuple(v) for k, v in by_year.items()},
        "country_product_year": {k: tuple(v) for k, v in by_country_year.items()},
        "products": names,
        "daily_country": {k: tuple(v) for k, v in by_country.items()},
        "daily": {k: tuple(v) for k, v in by_product.items()},
        "orders": first,
        "customers": customers,
    }


async def _stored(resources: Resources) -> tuple[list[Any], dict[str, Any]]:
    async with resources.db.read() as conn:
        facts = list(await conn.execute(select(ledger.lines_table)))
        daily_country = {(r.day, r.country): (r.gross, r.returns, r.units, r.returned_units)
                         for r in await conn.execute(select(ledger.daily_country_table))}
        # A product row whose counts all moved elsewhere may stay at zero: not a difference.
        daily = {(r.day, r.country, r.stock_code): (r.gross, r.returns, r.units, r.returned_units,
                                                     r.orders)
                 for r in await conn.execute(select(ledger.daily_table)) if any(
                     (r.gross, r.returns, r.units, r.returned_units, r.orders))}
        product_month = {(r.month, r.stock_code): (r.gross, r.returns, r.units, r.returned_units,
                                                   r.orders)
                         for r in await conn.execute(select(ledger.product_month_table)) if any(
                             (r.gross, r.returns, r.units, r.returned_units, r.orders))}
        product_year = {(r.year, r.stock_code): (r.gross, r.returns, r.units, r.returned_units,
                                                 r.orders)
                        for r in await conn.execute(select(ledger.product_year_table)) if any(
                            (r.gross, r.returns, r.units, r.returned_units, r.orders))}
        country_year = {(r.year, r.country, r.stock_code): (r.gross, r.returns, r.units,
                                                             r.returned_units, r.orders)
                        for r in await conn.execute(select(ledger.country_product_year_table))
                        if any((r.gross, r.returns, r.units, r.returned_units, r.orders))}
        products = {r.stock_code: r.description
                    for r in await conn.execute(select(ledger.products_table))}
        orders = {r.invoice: (r.day, r.country)
                  for r in await conn.execute(select(ledger.orders_table))}
        customers = {(r.day, r.country, r.customer_id)
                     for r in await conn.execute(select(ledger.customers_table))}
    return facts, {"product_month": product_month, "product_year": product_year,
                   "country_product_year": country_year,
                   "products": products, "daily_country": daily_country,
                   "daily": daily, "orders": orders, "customers": customers}


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=st.lists(sales_lines(), max_size=40), cuts=st.lists(st.integers(0, 40), max_size=4),
       again=st.integers(0, 40), start=st.none() | st.integers(-1, DAYS),
       length=st.none() | st.integers(0, DAYS), country=st.none() | st.sampled_from(COUNTRIES),
       by_copy=st.booleans())
async def test_rollups_equal_the_facts(resources: Resources, lines: list[ledger.NewLine],
                                       cuts: list[int], again: int, start: int | None,
                                       length: int | None, country: str | None,
                                       by_copy: bool) -> None:
    await clear_sales(resources)
    # PostgreSQL inserts big batches by COPY, small ones with parameters: both are drawn.
    ledger.COPY_FROM = 1 if by_copy else 10**9
    try:
        await _check(resources, lines, cuts, again, start, length, country)
    finally:
        ledger.COPY_FROM = COPY_FROM


async def _check(resources: Resources, lines: list[ledger.NewLine], cuts: list[int], again: int,
                 start: int | None, length: int | None, country: str | None) -> None:
    bounds = sorted({0, len(lines), *(min(c, len(lines)) for c in cuts)})
    batches = [lines[a:b] for a, b in itertools.pairwise(bounds)]
    batches.append(lines[:again])  # a re-import of a prefix adds nothing
    for batch in reversed(batches):  # later lines first: earlier ones arrive late
        async with resources.db.engine.begin() as conn:
            await ledger.record(conn, batch)
    facts, stored = await _stored(resources)
    assert stored == _direct(facts)

    first_day = None if start is None else START.date() + timedelta(days=start)
    end_day = None if first_day is None or length is None else first_day + timedelta(days=length)
    span = DayRange(first_day, end_day)
    async with resources.db.read() as conn:
        totals = await service.totals(conn, span, country)

    def inside(day: date, where: str) -> bool:
        return ((first_day is None or day >= first_day) and (end_day is None or day < end_day)
                and country in (None, where))

    chosen = [f for f in facts if inside(f.invoice_date.date(), f.country)]
    value = lambda f: int(f.quantity * Decimal(f.unit_price) * AMOUNT_SCALE)  # noqa: E731
    assert totals == service.Totals(
        gross=sum(value(f) for f in chosen if not f.is_return),
        returns=sum(value(f) for f in chosen if f.is_return),
        units=sum(f.quantity for f in chosen if not f.is_return),
        orders=sum(1 for day, where in _direct(facts)["orders"].values() if inside(day, where)),
        customers=len({f.customer_id for f in chosen if not f.is_return and f.customer_id}))

    # Product rankings: whole years and months from their rollups, the ends from the daily one.
    placed = _direct(facts)["daily"]
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for f in chosen:
        expected[f.stock_code][0] += -value(f) if f.is_return else value(f)
        expected[f.stock_code][1] += 0 if f.is_return else f.quantity
    for (day, where, code), counts in placed.items():
        if inside(day, where) and counts[4]:
            expected[code][2] += counts[4]
    for by in service.Measure:
        async with resources.db.read() as conn:
            ranked = await service.top_products(conn, by, 10, span, country)
        pick = {service.Measure.REVENUE: 0, service.Measure.UNITS: 1, service.Measure.ORDERS: 2}[by]
        whole = sum(v[pick] for v in expected.values())
        names = _direct(facts)["products"]
        assert [(r.key, r.revenue, r.units, r.orders, r.share, r.description) for r in ranked] == [
            (code, *v, service._share(v[pick], whole), names[code])
            for code, v in sorted(expected.items(), key=lambda kv: (-kv[1][pick], kv[0]))]
