"""Metrics tables: the sales-line facts and the rollups kept beside them.

Amounts in the rollups are integers in ten-thousandths of the currency unit (`AMOUNT_SCALE`):
SQLite sums NUMERIC columns as floats, integers it sums exactly, so every backend adds money
without rounding. Unit prices have at most four decimals (the import refuses more).

Distinct counts stay exact because each is a plain COUNT over a table that holds one row per
thing counted, not a sum of per-day distincts:
- `sales_order`: one row per invoice with a sale line, placed at its first sale line (the
  earliest (day, country)). Orders in a range = COUNT(*) of rows whose day is in it, so a
  REVENUE/ORDERS/UNITS series adds up to its KPI, and a country's orders are its rows.
- `sales_customer_day`: one row per (day, country, known customer) with a sale line. Customers
  in a range = COUNT(DISTINCT customer_id) over it: a few rows per customer per active day,
  far fewer than the sales lines (one invoice holds many lines), and exact across days.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, Numeric, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from graphql_api.core.models import TimestampType

AMOUNT_SCALE = 10_000  # rollup amounts are in 1/10,000 of the currency unit
PriceType = Numeric(14, 4)


class SalesLine(SQLModel, table=True):
    """One sales line: sold (`is_return` false) or taken back. `quantity` is always positive."""

    __tablename__ = "sales_line"
    __table_args__ = (
        # The natural key: importing a file again, or a line listed twice, adds nothing. Invoice
        # first, so it is also the index of the ledger's look-ups by invoice. Few indexes on
        # purpose: each costs the import on every line (the transaction list filters by country
        # or customer along the date index).
        UniqueConstraint("invoice", "stock_code", "source", "quantity", "unit_price", "is_return",
                         name="uq_sales_line"),
        Index("ix_sales_line_date", "invoice_date", "id"),
        Index("ix_sales_line_stock_code", "stock_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(sa_column=Column(String(8), nullable=False))  # import | order
    invoice: str = Field(sa_column=Column(String(32), nullable=False))
    stock_code: str = Field(sa_column=Column(String(64), nullable=False))
    description: str = Field(sa_column=Column(String(255), nullable=False))
    product_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    unit_price: Decimal = Field(sa_type=PriceType)
    invoice_date: datetime = Field(sa_type=TimestampType)
    customer_id: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    country: str = Field(sa_column=Column(String(64), nullable=False))
    is_return: bool = Field(sa_column=Column(Boolean, nullable=False))


class SalesDailyCountry(SQLModel, table=True):
    """Per UTC day and country: what KPIs, series and country rankings read."""

    __tablename__ = "sales_daily_country"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    country: str = Field(sa_column=Column(String(64), primary_key=True))
    gross: int = Field(sa_column=Column(BigInteger, nullable=False))  # sale lines' value
    returns: int = Field(sa_column=Column(BigInteger, nullable=False))  # returned value
    units: int = Field(sa_column=Column(BigInteger, nullable=False))  # units on sale lines
    returned_units: int = Field(sa_column=Column(BigInteger, nullable=False))


class SalesDaily(SQLModel, table=True):
    """Per UTC day, country and product (stock code): what product rankings read."""

    __tablename__ = "sales_daily"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    country: str = Field(sa_column=Column(String(64), primary_key=True))
    stock_code: str = Field(sa_column=Column(String(64), primary_key=True))
    gross: int = Field(sa_column=Column(BigInteger, nullable=False))
    returns: int = Field(sa_column=Column(BigInteger, nullable=False))
    units: int = Field(sa_column=Column(BigInteger, nullable=False))
    returned_units: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Invoices whose first sale line of this product falls here: each (invoice, product) counts
    # once, so summing days stays a distinct count.
    orders: int = Field(sa_column=Column(BigInteger, nullable=False))


class ProductSales(SQLModel):
    """The measures of a product rollup over a period (no table of its own)."""

    gross: int = Field(sa_type=BigInteger, nullable=False)
    returns: int = Field(sa_type=BigInteger, nullable=False)
    units: int = Field(sa_type=BigInteger, nullable=False)
    returned_units: int = Field(sa_type=BigInteger, nullable=False)
    orders: int = Field(sa_type=BigInteger, nullable=False)


class SalesProductMonth(ProductSales, table=True):
    """Per month (its first day) and product, all countries: what product rankings read for the
    whole months of a range without a country (a few rows per product, where `sales_daily` has
    one per day and country it sold in). Equal to the sums of `sales_daily` over the month."""

    __tablename__ = "sales_product_month"

    month: date = Field(sa_column=Column(Date, primary_key=True))
    stock_code: str = Field(sa_column=Column(String(64), primary_key=True))


class SalesProductYear(ProductSales, table=True):
    """Per year (its 1 January) and product, all countries: the whole years of a ranking's range
    (`sales_product_month` would give twelve rows a product). The sums of its months."""

    __tablename__ = "sales_product_year"

    year: date = Field(sa_column=Column(Date, primary_key=True))
    stock_code: str = Field(sa_column=Column(String(64), primary_key=True))


class SalesCountryProductYear(ProductSales, table=True):
    """Per year, country and product: the whole years of a ranking's range in one country (the
    rest of the range from that country's `sales_daily` rows). No monthly one per country: at
    about a row per sales line it cost the import more than it saves a ranking."""

    __tablename__ = "sales_country_product_year"

    # Country first: it is always read for one country (all its years, or a few).
    country: str = Field(sa_column=Column(String(64), primary_key=True))
    year: date = Field(sa_column=Column(Date, primary_key=True))
    stock_code: str = Field(sa_column=Column(String(64), primary_key=True))


class SalesProduct(SQLModel, table=True):
    """A product's name as its sales lines give it (the greatest of their descriptions), so that
    a ranking names its products without reading the lines."""

    __tablename__ = "sales_product"

    stock_code: str = Field(sa_column=Column(String(64), primary_key=True))
    description: str = Field(sa_column=Column(String(255), nullable=False))


class SalesOrder(SQLModel, table=True):
    """One row per invoice with a sale line, at its earliest (day, country)."""

    __tablename__ = "sales_order"
    __table_args__ = (Index("ix_sales_order_day_country", "day", "country"),)

    invoice: str = Field(sa_column=Column(String(32), primary_key=True))
    day: date = Field(sa_column=Column(Date, nullable=False))
    country: str = Field(sa_column=Column(String(64), nullable=False))


class SalesCustomerDay(SQLModel, table=True):
    """A known customer bought something in a country on a day."""

    __tablename__ = "sales_customer_day"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    country: str = Field(sa_column=Column(String(64), primary_key=True))
    customer_id: str = Field(sa_column=Column(String(32), primary_key=True))


class SalesVersion(SQLModel, table=True):
    """One row counting the writes that added sales lines: cached metrics are keyed by it, so
    the first new sale (from any process, the import command included) retires them all.
    Bumped in the writing transaction, so a reader never sees new facts under an old version."""

    __tablename__ = "sales_version"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
