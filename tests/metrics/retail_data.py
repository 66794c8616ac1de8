"""A synthetic online-retail file and an independent, plain-Python reading of it: the answers
the metrics must agree with."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
          "CustomerID", "Country"]
COUNTRIES = ["United Kingdom", "France", "Germany", "EIRE", "Spain", "Netherlands", "Côte d'Ivoire"]
PRODUCTS = [(f"{20000 + i}{'A' if i % 3 == 0 else ''}", f"ARTICLE {i} DÉCOR") for i in range(40)]
FIRST_DAY = datetime(2010, 12, 1, tzinfo=UTC)


def _date(moment: datetime) -> str:
    return f"{moment.month}/{moment.day}/{moment.year} {moment.hour}:{moment.minute:02d}"


def write_file(path: Path, invoices: int = 400, seed: int = 7, encoding: str = "utf-8"
               ) -> dict[str, int]:
    """A year of sales from 2010-12-01 with returns, guests, duplicated and bad rows; returns
    how many bad rows and duplicates it holds."""
    rng = random.Random(seed)
    rows: list[list[str]] = []
    counts = {"bad": 0, "duplicates": 0}
    sold: list[list[str]] = []
    for n in range(invoices):
        moment = FIRST_DAY + timedelta(minutes=rng.randrange(0, 370 * 24 * 60))
        country = rng.choice(COUNTRIES)
        customer = "" if rng.random() < 0.2 else f"{rng.randrange(12000, 12060)}.0"
        for code, name in rng.sample(PRODUCTS, rng.randrange(1, 6)):
            price = Decimal(rng.randrange(1, 2000)) / 100
            if rng.random() < 0.05:
                price = Decimal(rng.randrange(1, 100)) / 1000  # three decimals
            row = [str(536000 + n), code, name, str(rng.randrange(1, 25)), _date(moment),
                   str(price), customer, country]
            rows.append(row)
            sold.append(row)
            if rng.random() < 0.03:
                rows.append(list(row))
                counts["duplicates"] += 1
    for n, row in enumerate(rng.sample(sold, len(sold) // 12)):  # returns, a few days later
        moment = datetime.strptime(row[4], "%m/%d/%Y %H:%M").replace(tzinfo=UTC)
        later = moment + timedelta(days=rng.randrange(0, 20), minutes=rng.randrange(0, 600))
        quantity = rng.randrange(1, int(row[3]) + 1)
        rows.append([f"C{580000 + n}", row[1], row[2], str(-quantity), _date(later), row[5],
                     row[6], row[7]])
    bad = [
        ["581001", "22222", "BAD DATE", "3", "13/45/2011 10:00", "1.25", "12001", "France"],
        ["581002", "22222", "BAD DATE", "3", "yesterday", "1.25", "12001", "France"],
        ["581003", "22222", "BAD QTY", "three", "2/1/2011 10:00", "1.25", "12001", "France"],
        ["581004", "22222", "BAD PRICE", "3", "2/1/2011 10:00", "1,25", "12001", "France"],
        ["581005", "22222", "ZERO PRICE", "3", "2/1/2011 10:00", "0", "12001", "France"],
        ["581006", "22222", "ZERO PRICE", "3", "2/1/2011 10:00", "0.00", "12001", "France"],
        ["581007", "22222", "NEGATIVE PRICE", "1", "2/1/2011 10:00", "-11062.06", "", "France"],
    ]
    for row in bad:
        rows.insert(rng.randrange(len(rows)), row)
    counts["bad"] = len(bad)
    with path.open("w", newline="", encoding=encoding) as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return counts


@dataclass(frozen=True)
class Line:
    invoice: str
    stock_code: str
    description: str
    quantity: int
    price: Decimal
    moment: datetime
    customer: str | None
    country: str
    is_return: bool

    @property
    def value(self) -> Decimal:
        return self.quantity * self.price

    @property
    def day(self) -> date:
        return self.moment.date()


def read_reference(path: Path, encoding: str) -> tuple[list[Line], list[int]]:
    """The file's distinct valid lines and the line numbers of its bad rows."""
    lines: dict[tuple[object, ...], Line] = {}
    bad: list[int] = []
    with path.open(newline="", encoding=encoding) as f:
        for number, row in enumerate(csv.DictReader(f), start=2):
            try:
                moment = datetime.strptime(row["InvoiceDate"], "%m/%d/%Y %H:%M").replace(tzinfo=UTC)
                quantity = int(row["Quantity"])
                price = Decimal(row["UnitPrice"])
            except (ValueError, ArithmeticError):
                bad.append(number)
                continue
            if price <= 0:
                bad.append(number)
                continue
            customer = row["CustomerID"].removesuffix(".0") or None
            is_return = row["InvoiceNo"].startswith("C") or quantity < 0
            line = Line(row["InvoiceNo"], row["StockCode"], row["Description"], abs(quantity),
                        price, moment, customer, row["Country"], is_return)
            lines.setdefault((line.invoice, line.stock_code, line.quantity, line.price,
                              line.is_return), line)
    return list(lines.values()), bad


def in_range(line: Line, start: date | None, end: date | None, country: str | None) -> bool:
    return ((start is None or line.day >= start) and (end is None or line.day < end)
            and (country is None or line.country == country))


def first_sales(lines: list[Line]) -> dict[str, tuple[date, str]]:
    """Each invoice with a sale line at its earliest (day, country)."""
    found: dict[str, tuple[date, str]] = {}
    for line in lines:
        if not line.is_return:
            place = (line.day, line.country)
            found[line.invoice] = min(found.get(line.invoice, place), place)
    return found


def kpis(lines: list[Line], start: date | None, end: date | None, country: str | None
         ) -> dict[str, object]:
    chosen = [x for x in lines if in_range(x, start, end, country)]
    gross = sum((x.value for x in chosen if not x.is_return), Decimal(0))
    returns = sum((x.value for x in chosen if x.is_return), Decimal(0))
    orders = sum(1 for day, c in first_sales(lines).values()
                 if (start is None or day >= start) and (end is None or day < end)
                 and (country is None or c == country))
    customers = len({x.customer for x in chosen if not x.is_return and x.customer})
    return {
        "revenue": gross - returns, "grossSales": gross, "returns": returns, "orders": orders,
        "unitsSold": sum(x.quantity for x in chosen if not x.is_return), "customers": customers,
        "averageOrderValue": (gross / orders).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if orders else None,
        "returnsRate": (returns / gross).quantize(Decimal("0.000001"), ROUND_HALF_UP)
        if gross else None,
    }


def by_country(lines: list[Line]) -> dict[str, dict[str, Decimal]]:
    found: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"revenue": Decimal(0), "units": Decimal(0), "orders": Decimal(0)})
    for line in lines:
        entry = found[line.country]
        entry["revenue"] += -line.value if line.is_return else line.value
        if not line.is_return:
            entry["units"] += line.quantity
    for _, country in first_sales(lines).values():
        found[country]["orders"] += 1
    return found
