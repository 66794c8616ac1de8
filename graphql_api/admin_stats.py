"""`adminStats` (admin): the dashboard's first screen. It spans domains (accounts, catalog,
orders, metrics), so it lives beside schema.py; each figure is its own resolver, so a client
pays only for what it asks, and the lists reuse the `Order` and `Product` types and loaders."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.accounts import service as accounts
from graphql_api.accounts.permissions import require_admin
from graphql_api.catalog.service import ProductQuery
from graphql_api.catalog.types import Product
from graphql_api.core.errors import BadUserInput
from graphql_api.core.pagination import PageArgs
from graphql_api.core.resources import Resources
from graphql_api.core.scalars import Money
from graphql_api.metrics import reads
from graphql_api.metrics.dashboard import today
from graphql_api.metrics.service import money
from graphql_api.metrics.types import CURRENCY
from graphql_api.orders import service as orders
from graphql_api.orders.service import OrderQuery
from graphql_api.orders.types import Order, OrderStatus

DEFAULT_FIRST = 10
DEFAULT_LOW_STOCK = 5  # units


async def revenue_today(resources: Resources) -> int:
    """Net revenue of the current UTC day in rollup units: the `kpis` of that day, cached (and
    warmed, metrics/dashboard.py) alike."""
    return (await reads.totals(resources, today(), None)).revenue


def _first(info: Info, first: int) -> int:
    largest = info.context.resources.settings.max_page_size
    if not 1 <= first <= largest:
        raise BadUserInput(f"`first` must be between 1 and {largest}.", field="first")
    return first


@strawberry.type
class OrderStatusCount:
    status: OrderStatus  # type: ignore[valid-type]
    count: int


@strawberry.type(description="Admin dashboard figures; each is read when asked for.")
class AdminStats:
    @strawberry.field(description="Active accounts (deactivated ones are not counted).")
    async def users(self, info: Info) -> int:
        async with info.context.resources.db.session() as session:
            return await accounts.count_users(session, accounts.UserQuery(is_active=True))

    @strawberry.field(description="Live (not deleted) products.")
    async def products(self, info: Info) -> int:
        return await info.context.catalog.reads.products_count(ProductQuery())

    @strawberry.field(description="Every order status with its number of orders, zeros included.")
    async def orders_by_status(self, info: Info) -> list[OrderStatusCount]:
        async with info.context.resources.db.read() as conn:
            counts = await orders.count_by_status(conn)
        return [OrderStatusCount(status=status, count=n) for status, n in counts.items()]

    @strawberry.field(description="Net revenue (sales minus returns) of the current UTC day, from "
                      "the same facts as `metrics`: `metrics.kpis` of that day gives the same.")
    async def revenue_today(self, info: Info) -> Money:
        return Money(amount=money(await revenue_today(info.context.resources)), currency=CURRENCY)

    @strawberry.field(description="The newest orders, newest first (1 to the page size limit).")
    async def recent_orders(self, info: Info, first: int = DEFAULT_FIRST) -> list[Order]:
        page = PageArgs(first=_first(info, first))
        async with info.context.resources.db.read() as conn:
            result = await orders.list_orders(conn, OrderQuery(), page)
        return [Order.from_record(r) for r in result.rows]

    @strawberry.field(description="Live products with at most `threshold` units in stock, fewest "
                      "first.")
    async def low_stock(self, info: Info, threshold: int = DEFAULT_LOW_STOCK,
                        first: int = DEFAULT_FIRST) -> list[Product]:
        if threshold < 0:
            raise BadUserInput("`threshold` must not be negative.", field="threshold")
        rows = await info.context.catalog.reads.low_stock(threshold, _first(info, first))
        return [Product.from_record(r) for r in rows]


@strawberry.type
class AdminStatsQuery:
    @strawberry.field(description="Admin: dashboard figures. A customer gets FORBIDDEN, a guest "
                      "UNAUTHENTICATED.")
    async def admin_stats(self, info: Info) -> AdminStats:
        await require_admin(info)
        return AdminStats()
