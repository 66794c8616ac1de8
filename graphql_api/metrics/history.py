"""`seed --orders N`: a made-up but realistic sales history over the demo catalog, for demos and
benchmarks, written through the same ledger path as the import.

Two years up to `until` (default: today, UTC), 36 countries with a long tail, more orders on
weekdays, in the run-up to Christmas and as the shop grows, business hours, returning
customers and ~15% guests, 1 to 8 lines of popular and less popular products at their sale
price, and ~4% of orders partly returned (`C<invoice>`, days later).

Deterministic: order `n` of seed `s` is drawn from its own generator, so the same seed gives
the same orders, and `--orders 2000` starts with the 1,000 orders of `--orders 1000`.
Idempotent: a line's natural key (invoice, product, quantity, price) does not hold its date, so
running again, even on another day, adds only the orders not seeded yet (`S<seed>-<n>`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from sqlalchemy import select

from graphql_api.catalog.models import Product
from graphql_api.catalog.pricing import sale_price
from graphql_api.core.database import Database
from graphql_api.metrics import ledger
from graphql_api.metrics.imports import write_batches

DAYS = 730
BATCH_LINES = 20_000
GUEST_SHARE = 0.15
RETURN_SHARE = 0.04
SOURCE = "seed"
CUSTOMERS = 20_000  # shared among the countries by their weights; low numbers buy most often
# Names as the metrics show them (orders use pycountry's names), biggest market first.
COUNTRIES = [
    "United Kingdom", "United States", "Germany", "France", "Netherlands", "Ireland", "Spain",
    "Italy", "Belgium", "Switzerland", "Sweden", "Norway", "Denmark", "Finland", "Austria",
    "Portugal", "Poland", "Czechia", "Australia", "Canada", "Japan", "Singapore", "Hong Kong",
    "Israel", "United Arab Emirates", "Saudi Arabia", "Brazil", "Mexico", "South Africa",
    "New Zealand", "Greece", "Cyprus", "Malta", "Iceland", "Lithuania", "Lebanon",
]
_COUNTRY_WEIGHTS = list(accumulate(1 / (i + 1) ** 0.9 for i in range(len(COUNTRIES))))
_POOLS = [max(10, int(CUSTOMERS * (b - a) / _COUNTRY_WEIGHTS[-1]))
          for a, b in zip([0.0, *_COUNTRY_WEIGHTS], _COUNTRY_WEIGHTS, strict=False)]
# Monday first; Saturday and Sunday are quieter.
_WEEKDAY = (1.1, 1.15, 1.1, 1.05, 1.0, 0.7, 0.75)
# January first: the summer lull, the run-up to Christmas.
_MONTH = (0.8, 0.75, 0.9, 0.9, 0.95, 0.85, 0.8, 0.85, 1.0, 1.15, 1.6, 1.8)
_HOURS = list(accumulate(math.exp(-((h - 13) / 4) ** 2) + 0.02 for h in range(24)))


@dataclass(frozen=True, slots=True)
class CatalogItem:
    id: int
    sku: str
    name: str
    unit_price: Decimal


@dataclass
class SeedReport:
    orders: int = 0  # orders (invoices) generated
    lines: int = 0  # their lines, returns included
    imported: int = 0  # new sales lines
    already_present: int = 0


def _day_weights(until: date) -> tuple[list[date], list[float]]:
    """The days of the two years up to `until` (inclusive), weighted by weekday, month and a
    steady growth (the second year sells ~50% more)."""
    first = until - timedelta(days=DAYS - 1)
    days = [first + timedelta(days=i) for i in range(DAYS)]
    weights = [_WEEKDAY[d.weekday()] * _MONTH[d.month - 1] * (1 + 0.5 * i / DAYS)
               for i, d in enumerate(days)]
    return days, list(accumulate(weights))


def generate(catalog: list[CatalogItem], orders: int, seed: int, until: date
             ) -> Iterator[ledger.NewLine]:
    """The sales lines of orders 0 .. `orders` - 1 (each order's returns right after it)."""
    if not catalog:
        return
    days, day_weights = _day_weights(until)
    # Popularity: a long tail over a seed-shuffled catalog (not the catalog's own order).
    ranked = list(catalog)
    random.Random(seed).shuffle(ranked)
    popularity = list(accumulate(1 / (i + 1) ** 0.8 for i in range(len(ranked))))
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    for n in range(orders):
        rng = random.Random(seed * 1_000_003 + n)  # order n's own draws
        day = rng.choices(days, cum_weights=day_weights)[0]
        hour = rng.choices(range(24), cum_weights=_HOURS)[0]
        moment = datetime(day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=UTC)
        place = rng.choices(range(len(COUNTRIES)), cum_weights=_COUNTRY_WEIGHTS)[0]
        country = COUNTRIES[place]
        # Customers belong to a country (their orders ship there).
        customer = None if rng.random() < GUEST_SHARE else (
            f"seed:{place}:{int(_POOLS[place] * rng.random() ** 2)}")
        invoice = f"S{seed}-{n}"
        size = min(len(ranked), 1 + int(rng.expovariate(0.5)) % 8)
        picked: dict[int, CatalogItem] = {}
        while len(picked) < size:
            item = rng.choices(ranked, cum_weights=popularity)[0]
            picked[item.id] = item
        sold = []
        for item in picked.values():
            quantity = 1 + int(rng.expovariate(0.9)) % 6
            sold.append((item, quantity))
            yield ledger.NewLine(source=SOURCE, invoice=invoice, stock_code=item.sku,
                                 description=item.name[:255], quantity=quantity,
                                 unit_price=item.unit_price, invoice_date=moment,
                                 customer_id=customer, country=country, is_return=False,
                                 product_id=item.id)
        if rng.random() < RETURN_SHARE:
            back = moment + timedelta(days=rng.randrange(1, 30), hours=rng.randrange(0, 8))
            if back >= end:
                continue  # not returned yet
            for item, quantity in rng.sample(sold, rng.randrange(1, len(sold) + 1)):
                yield ledger.NewLine(source=SOURCE, invoice="C" + invoice, stock_code=item.sku,
                                     description=item.name[:255],
                                     quantity=rng.randrange(1, quantity + 1),
                                     unit_price=item.unit_price, invoice_date=back,
                                     customer_id=customer, country=country, is_return=True,
                                     product_id=item.id)


def _batches(lines: Iterator[ledger.NewLine], size: int, report: SeedReport
             ) -> Iterator[list[ledger.NewLine]]:
    batch: list[ledger.NewLine] = []
    last_invoice = None
    for line in lines:
        report.lines += 1
        if not line.is_return and line.invoice != last_invoice:
            report.orders += 1
            last_invoice = line.invoice
        batch.append(line)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def load_catalog(db: Database) -> list[CatalogItem]:
    """The live products, by id, at their sale price (what checkout would charge)."""
    table: Any = Product.__table__  # type: ignore[attr-defined]
    async with db.read() as conn:
        rows = await conn.execute(
            select(table.c.id, table.c.sku, table.c.name, table.c.price, table.c.discount_percent)
            .where(table.c.deleted_at.is_(None)).order_by(table.c.id))
        return [CatalogItem(r.id, r.sku, r.name, sale_price(Decimal(r.price), r.discount_percent))
                for r in rows]


class NoCatalog(RuntimeError):
    """There are no products to sell: seed the catalog first."""


async def seed_sales(db: Database, orders: int, *, seed: int = 2026, until: date | None = None,
                     batch_lines: int = BATCH_LINES,
                     progress: Callable[[int, int], None] | None = None) -> SeedReport:
    """Write `orders` orders of history through the ledger (those already there add nothing).
    `progress(orders done, orders)`."""
    catalog = await load_catalog(db)
    if not catalog:
        raise NoCatalog("no products: run `graphql-api seed` (the demo catalog) first")
    report = SeedReport()
    lines = generate(catalog, orders, seed, until or datetime.now(UTC).date())
    await write_batches(db, _batches(lines, batch_lines, report), report,
                        None if progress is None else lambda: progress(report.orders, orders))
    return report
