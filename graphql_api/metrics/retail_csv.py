"""Reads the online-retail CSV layout into sales lines, streaming, and says what it refused.

`InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country` (columns
found by name; `Invoice`, `Price` and `Customer ID` of the later edition are accepted too).
Dates are `M/D/YYYY H:MM` (or ISO `YYYY-MM-DD HH:MM[:SS]`), read as UTC. An invoice starting
with `C` or a negative quantity is a return; an empty customer id is a guest.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql_api.metrics.ledger import NewLine

_COLUMNS = {
    "invoice": ("InvoiceNo", "Invoice"),
    "stock_code": ("StockCode",),
    "description": ("Description",),
    "quantity": ("Quantity",),
    "date": ("InvoiceDate",),
    "price": ("UnitPrice", "Price"),
    "customer": ("CustomerID", "Customer ID"),
    "country": ("Country",),
}
_MAX_PRICE_DECIMALS = 4  # the rollups count in ten-thousandths
_MAX_QUANTITY = 10_000_000
_MAX_PRICE = Decimal("100000000")


class LayoutError(ValueError):
    """The file is not in the expected layout at all (a missing column): nothing is imported."""


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int  # 1-based line of the file (the header is line 1)
    reason: str


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without a byte-order mark) when every byte decodes as such, else Latin-1,
    which decodes anything. One streamed pass: memory stays flat."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        head = f.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        try:
            decoder.decode(head)
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8"


# Invoice dates and prices repeat (an invoice's lines share its date; a catalog has a few
# thousand prices), so each distinct text is parsed once: a third of the import's Python time.
@lru_cache(maxsize=1 << 16)
def _parse_date(text: str) -> datetime:
    text = text.strip()
    if "/" in text:  # M/D/YYYY H:MM[:SS], by hand: strptime is the import's slowest step
        day_part, _, time_part = text.partition(" ")
        month, day, year = (int(p) for p in day_part.split("/"))
        clock = [int(p) for p in time_part.split(":")] if time_part else [0, 0]
        if len(clock) == 2:
            clock.append(0)
        if len(clock) != 3:
            raise ValueError(text)
        return datetime(year, month, day, clock[0], clock[1], clock[2], tzinfo=UTC)
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_UNREADABLE, _NOT_POSITIVE, _OUT_OF_RANGE = "unreadable", "not positive", "out of range"


@lru_cache(maxsize=1 << 16)
def _parse_price(text: str) -> Decimal | str:
    """The price, or what is wrong with it (reported after the date, as before)."""
    try:
        price = Decimal(text.strip())
    except InvalidOperation:
        return _UNREADABLE
    if not price.is_finite() or price <= 0:
        return _NOT_POSITIVE
    if price >= _MAX_PRICE or -price.as_tuple().exponent > _MAX_PRICE_DECIMALS:  # type: ignore[operator]
        return _OUT_OF_RANGE
    return price


def _parse_quantity(text: str) -> int:
    try:
        return int(text)  # the common case; "6.0" and the like go through Decimal
    except ValueError:
        pass
    value = Decimal(text.strip())
    if value != value.to_integral_value():
        raise ValueError(text)
    return int(value)


def _customer(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if text.endswith(".0"):  # spreadsheets export the ids as floats: 17850.0
        text = text[:-2]
    return text


Columns = tuple[int, int, int, int, int, int, int, int]  # where each of _COLUMNS is in a row


def parse_row(row: list[str], at: Columns, line: int) -> NewLine | BadRow:
    invoice_at, code_at, description_at, quantity_at, date_at, price_at, customer_at, country_at = at
    invoice = row[invoice_at].strip()
    stock_code = row[code_at].strip()
    if not invoice or not stock_code:
        return BadRow(line, "missing invoice or stock code")
    if len(invoice) > 32 or len(stock_code) > 64:
        return BadRow(line, "invoice or stock code too long")
    try:
        quantity = _parse_quantity(row[quantity_at])
    except (ValueError, InvalidOperation):
        return BadRow(line, f"unreadable quantity {row[quantity_at]!r}")
    price = _parse_price(row[price_at])
    if price is _UNREADABLE:
        return BadRow(line, f"unreadable unit price {row[price_at]!r}")
    try:
        moment = _parse_date(row[date_at])
    except (ValueError, OverflowError):
        return BadRow(line, f"unreadable date {row[date_at]!r}")
    if isinstance(price, str):
        reason = "is not positive" if price is _NOT_POSITIVE else "out of range"
        return BadRow(line, f"unit price {row[price_at].strip()!r} {reason}")
    if quantity == 0 or abs(quantity) > _MAX_QUANTITY:
        return BadRow(line, f"quantity {quantity} out of range")
    customer = _customer(row[customer_at])
    if customer is not None and len(customer) > 32:
        return BadRow(line, "customer id too long")
    return NewLine(
        source="import", invoice=invoice, stock_code=stock_code,
        description=row[description_at].strip()[:255], quantity=abs(quantity),
        unit_price=price, invoice_date=moment, customer_id=customer,
        country=row[country_at].strip()[:64] or "Unspecified",
        is_return=invoice[0] in "Cc" or quantity < 0)


class _Counting(io.RawIOBase):
    """A binary file that counts the bytes read from it: the progress of a streamed read."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n or 0


class RetailFile:
    """Each data row of the file as a sales line or a refusal, in file order; `bytes_read`
    tells how far the reading has got."""

    def __init__(self, path: Path, encoding: str | None = None) -> None:
        self.path = path
        self.encoding = encoding or detect_encoding(path)
        self._counter: _Counting | None = None

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def bytes_read(self) -> int:
        return 0 if self._counter is None else self._counter.count

    def __iter__(self) -> Iterator[NewLine | BadRow]:
        with self.path.open("rb") as raw:
            self._counter = _Counting(raw)
            text = io.TextIOWrapper(io.BufferedReader(self._counter), encoding=self.encoding,
                                    newline="")
            yield from _rows(csv.reader(text))


def _rows(reader: Any) -> Iterator[NewLine | BadRow]:
    header = next(reader, None)
    if header is None:
        return
    names = [name.strip().lstrip("\ufeff") for name in header]
    index: dict[str, int] = {}
    for key, candidates in _COLUMNS.items():
        found = next((names.index(c) for c in candidates if c in names), None)
        if found is None:
            raise LayoutError(f"no {candidates[0]} column (found: {', '.join(names)})")
        index[key] = found
    width = max(index.values()) + 1
    at: Columns = tuple(index[key] for key in _COLUMNS)  # type: ignore[assignment]
    previous = reader.line_num
    for row in reader:
        line, previous = previous + 1, reader.line_num  # where the row starts (quoted newlines)
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not rows
        if len(row) < width:
            yield BadRow(line, f"{len(row)} columns, expected {len(names)}")
            continue
        yield parse_row(row, at, line)
