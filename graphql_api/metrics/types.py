"""GraphQL surface of the metrics: `metrics { kpis series topCountries country topProducts
transactions funnel topSearches }`, for admins only; thin over metrics/reads.py (cached),
service.py and funnel.py (the event log)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.types import Info

from graphql_api.accounts.permissions import require_admin
from graphql_api.core.errors import BadUserInput
from graphql_api.core.pagination import Connection, PageArgs, to_connection
from graphql_api.core.scalars import Money
from graphql_api.metrics import funnel, periods, reads, service
from graphql_api.metrics.ledger import amount_of
from graphql_api.metrics.periods import DayRange, day_range, midnight

CURRENCY = "USD"  # the shop's currency (the catalog's); imported files are read as amounts in it
MAX_LIMIT = 100

SeriesMetric = strawberry.enum(service.SeriesMetric, name="SeriesMetric")
Granularity = strawberry.enum(periods.Granularity, name="Granularity", description=(
    "Calendar periods in UTC; weeks are ISO weeks, starting on Monday."))
SalesMeasure = strawberry.enum(service.Measure, name="SalesMeasure")


def _money(amount: int) -> Money:
    return Money(amount=service.money(amount), currency=CURRENCY)


@strawberry.input(description="Half-open [from, to) in UTC days (each bound a UTC midnight); "
                  "either end may be left out.")
class DateRange:
    from_: datetime | None = strawberry.field(name="from", default=None)
    to: datetime | None = None


def _span(range: DateRange | None) -> DayRange:
    return DayRange() if range is None else day_range(range.from_, range.to)


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise BadUserInput(f"`limit` must be between 1 and {MAX_LIMIT}.", field="limit")
    return limit


@strawberry.type(description="Sales KPIs of a range (see README, Metrics, for the definitions).")
class Kpis:
    revenue: Money = strawberry.field(description="Net: sales minus returns.")
    gross_sales: Money
    returns: Money
    orders: int = strawberry.field(description="Invoices with a sale line.")
    units_sold: int
    customers: int = strawberry.field(description="Distinct known customers with a sale line.")
    average_order_value: Money | None = strawberry.field(
        description="Gross sales / orders, half-up to the cent; null without orders.")
    returns_rate: Decimal | None = strawberry.field(
        description="Returned value / gross sales, to 6 decimals; null without sales.")
    range_from: datetime | None
    range_to: datetime | None
    span: strawberry.Private[DayRange]
    country: strawberry.Private[str | None]

    @classmethod
    def of(cls, totals: service.Totals, span: DayRange, country: str | None) -> Kpis:
        aov = totals.average_order_value
        return cls(revenue=_money(totals.revenue), gross_sales=_money(totals.gross),
                   returns=_money(totals.returns), orders=totals.orders, units_sold=totals.units,
                   customers=totals.customers,
                   average_order_value=None if aov is None else Money(amount=aov, currency=CURRENCY),
                   returns_rate=totals.returns_rate,
                   range_from=None if span.start is None else midnight(span.start),
                   range_to=None if span.end is None else midnight(span.end),
                   span=span, country=country)

    @strawberry.field(description="The same for the period of equal length just before; null "
                      "when the range is open on either side.")
    async def previous(self, info: Info) -> Kpis | None:
        earlier = self.span.previous()
        return None if earlier is None else await _kpis(info, earlier, self.country)


async def _kpis(info: Info, span: DayRange, country: str | None) -> Kpis:
    totals = await reads.totals(info.context.resources, span, country)
    return Kpis.of(totals, span, country)


@strawberry.type
class SeriesPoint:
    period_start: datetime
    value: Decimal


async def _series(info: Info, metric: service.SeriesMetric, granularity: periods.Granularity,
                  span: DayRange, country: str | None) -> list[SeriesPoint]:
    points = await reads.series(info.context.resources, metric, granularity, span, country)
    return [SeriesPoint(period_start=midnight(day), value=value) for day, value in points]


@strawberry.type
class CountrySales:
    country: str
    revenue: Money
    units_sold: int
    orders: int
    share: Decimal | None = strawberry.field(
        description="The country's fraction of the total by the chosen measure (6 decimals).")


@strawberry.type
class ProductSales:
    stock_code: str
    description: str | None
    revenue: Money
    units_sold: int
    orders: int
    share: Decimal | None = strawberry.field(
        description="The product's fraction of the total by the chosen measure (6 decimals).")


async def _top_products(info: Info, by: service.Measure, limit: int, span: DayRange,
                        country: str | None) -> list[ProductSales]:
    rows = await reads.top_products(info.context.resources, by, _limit(limit), span, country)
    return [ProductSales(stock_code=r.key, description=r.description, revenue=_money(r.revenue),
                         units_sold=r.units, orders=r.orders, share=r.share) for r in rows]


@strawberry.type(description="One country's KPIs, monthly series and top products.")
class CountryReport:
    name: str

    @strawberry.field
    async def kpis(self, info: Info, range: DateRange | None = None) -> Kpis:
        return await _kpis(info, _span(range), self.name)

    @strawberry.field(description="Monthly.")
    async def series(self, info: Info, metric: SeriesMetric,  # type: ignore[valid-type]
                     range: DateRange | None = None) -> list[SeriesPoint]:
        return await _series(info, service.SeriesMetric(metric), periods.Granularity.MONTH,
                             _span(range), self.name)

    @strawberry.field
    async def top_products(self, info: Info, by: SalesMeasure = service.Measure.REVENUE,  # type: ignore[valid-type]
                           limit: int = 10, range: DateRange | None = None) -> list[ProductSales]:
        return await _top_products(info, service.Measure(by), limit, _span(range), self.name)


@strawberry.type(description="A sales line: imported, or from a paid (sale) or refunded or "
                 "cancelled (return) order.")
class SalesLine:
    id: strawberry.ID
    source: str = strawberry.field(description="IMPORT, ORDER or SEED (`seed --orders`).")
    invoice: str
    stock_code: str
    description: str
    quantity: int = strawberry.field(description="Units, positive for sales and returns alike.")
    unit_price: Money
    line_total: Money
    invoice_date: datetime
    customer_id: str | None = strawberry.field(description="null: a guest.")
    country: str
    is_return: bool

    @classmethod
    def from_record(cls, r: service.LineRecord) -> SalesLine:
        return cls(id=strawberry.ID(str(r.id)), source=r.source.upper(), invoice=r.invoice,
                   stock_code=r.stock_code, description=r.description, quantity=r.quantity,
                   unit_price=Money(amount=service.shown(r.unit_price), currency=CURRENCY),
                   line_total=_money(amount_of(r.quantity, r.unit_price)),
                   invoice_date=r.invoice_date, customer_id=r.customer_id, country=r.country,
                   is_return=r.is_return)


@strawberry.input
class TransactionFilter:
    country: str | None = None
    from_: datetime | None = strawberry.field(name="from", default=None,
                                              description="Inclusive; any time, with an offset.")
    to: datetime | None = strawberry.field(default=None, description="Exclusive.")
    invoice: str | None = None
    customer_id: str | None = None


def _line_query(filter: TransactionFilter | None) -> service.LineQuery:
    if filter is None:
        return service.LineQuery()
    for moment in (filter.from_, filter.to):
        if moment is not None and moment.tzinfo is None:
            raise BadUserInput("Give times with a UTC offset.")
    return service.LineQuery(country=filter.country, start=filter.from_, end=filter.to,
                             invoice=filter.invoice, customer_id=filter.customer_id)


@strawberry.enum(description="The funnel's steps, in order (funnel.FUNNEL).")
class FunnelStepType(Enum):
    PRODUCT_VIEW = "PRODUCT_VIEW"
    ADD_TO_CART = "ADD_TO_CART"
    CHECKOUT_START = "CHECKOUT_START"
    ORDER_PLACED = "ORDER_PLACED"


@strawberry.type
class FunnelStep:
    step: FunnelStepType
    sessions: int = strawberry.field(description=(
        "Sessions with this step's event and every earlier step's, in the range."))
    conversion: Decimal | None = strawberry.field(description=(
        "sessions / the previous step's sessions (6 decimals); null for the first step and "
        "when the previous step has none."))


@strawberry.type(description="Sessions (client session ids) through product view, add to "
                 "cart, checkout start and order placed (see README, Events).")
class Funnel:
    steps: list[FunnelStep]


@strawberry.type
class SearchStat:
    query: str = strawberry.field(description="Folded as search folds it (case, accents, "
                                  "punctuation).")
    searches: int
    no_results: int = strawberry.field(description="Of those, how many found nothing.")
    sessions: int = strawberry.field(description="Distinct sessions that searched it.")


@strawberry.type(description="Sales metrics (admins only).")
class Metrics:
    @strawberry.field
    async def kpis(self, info: Info, range: DateRange | None = None,
                   country: str | None = None) -> Kpis:
        return await _kpis(info, _span(range), country)

    @strawberry.field(description="Every period overlapping the range, empty ones at zero. "
                      "REVENUE, ORDERS and UNITS add up to their KPI over the same range.")
    async def series(self, info: Info, metric: SeriesMetric,  # type: ignore[valid-type]
                     granularity: Granularity = periods.Granularity.DAY,  # type: ignore[valid-type]
                     range: DateRange | None = None, country: str | None = None
                     ) -> list[SeriesPoint]:
        return await _series(info, service.SeriesMetric(metric), periods.Granularity(granularity),
                             _span(range), country)

    @strawberry.field
    async def top_countries(self, info: Info, by: SalesMeasure = service.Measure.REVENUE,  # type: ignore[valid-type]
                            limit: int = 10, range: DateRange | None = None) -> list[CountrySales]:
        rows = await reads.top_countries(info.context.resources, service.Measure(by), _limit(limit),
                                         _span(range))
        return [CountrySales(country=r.key, revenue=_money(r.revenue), units_sold=r.units,
                             orders=r.orders, share=r.share) for r in rows]

    @strawberry.field
    async def top_products(self, info: Info, by: SalesMeasure = service.Measure.REVENUE,  # type: ignore[valid-type]
                           limit: int = 10, range: DateRange | None = None,
                           country: str | None = None) -> list[ProductSales]:
        return await _top_products(info, service.Measure(by), limit, _span(range), country)

    @strawberry.field(description="One country's report (a country without sales reads zeros).")
    def country(self, name: str) -> CountryReport:
        return CountryReport(name=name)

    @strawberry.field(description="Sales lines, newest first.")
    async def transactions(self, info: Info, first: int | None = None, after: str | None = None,
                           last: int | None = None, before: str | None = None,
                           filter: TransactionFilter | None = None) -> Connection[SalesLine]:
        db = info.context.resources.db
        page = PageArgs(first, after, last, before).validated(
            info.context.resources.settings.max_page_size)
        query = _line_query(filter)
        async with db.read() as conn:
            result = await service.list_lines(conn, query, page)

        async def total() -> int:
            async with db.read() as conn:
                return await service.count_lines(conn, query)

        return to_connection(result, SalesLine.from_record, total)

    @strawberry.field(description="The shopping funnel over client sessions in the range.")
    async def funnel(self, info: Info, range: DateRange | None = None) -> Funnel:
        async with info.context.resources.db.read() as conn:
            steps = await funnel.funnel(conn, _span(range))
        return Funnel(steps=[FunnelStep(step=FunnelStepType[s.type.value], sessions=s.sessions,
                                        conversion=s.conversion) for s in steps])

    @strawberry.field(description="The most frequent searches the server answered in the "
                      "range, most first.")
    async def top_searches(self, info: Info, range: DateRange | None = None,
                           limit: int = 10) -> list[SearchStat]:
        async with info.context.resources.db.read() as conn:
            rows = await funnel.top_searches(conn, _span(range), _limit(limit))
        return [SearchStat(query=r.query, searches=r.searches, no_results=r.no_results,
                           sessions=r.sessions) for r in rows]


@strawberry.type
class MetricsQuery:
    @strawberry.field(description="Admin: sales metrics. A customer gets FORBIDDEN, a guest "
                      "UNAUTHENTICATED.")
    async def metrics(self, info: Info) -> Metrics:
        await require_admin(info)
        return Metrics()

