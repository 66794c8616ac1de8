"""GraphQL types, queries, mutations and subscriptions of orders; thin over the order service."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from graphql_api.accounts.models import Role, User
from graphql_api.accounts.permissions import require_admin, require_user
from graphql_api.accounts.types import UserType
from graphql_api.catalog.types import Product
from graphql_api.core.errors import BadUserInput, ErrorCode, NotFound, UserError, UserInputError
from graphql_api.core.events import ORDER_STATUS_CHANGED, PRODUCT_CHANGED
from graphql_api.core.ids import decode_pk, to_global_id
from graphql_api.core.pagination import Connection, PageArgs, to_connection
from graphql_api.core.scalars import Money, Node
from graphql_api.core.streams import SharedExecutions
from graphql_api.orders import addresses, lifecycle, service
from graphql_api.orders.service import (
    OrderLineRecord,
    OrderQuery,
    OrderRecord,
    Outcome,
    StatusChangeRecord,
    StatusEvent,
)
from graphql_api.orders.snapshots import Snapshot, order_feed

if TYPE_CHECKING:
    from graphql_api.context import Context

OrderStatus = strawberry.enum(lifecycle.OrderStatus, name="OrderStatus", description=(
    "PENDING -> PAID | CANCELLED; PAID -> SHIPPED | CANCELLED | REFUNDED; SHIPPED -> DELIVERED; "
    "DELIVERED -> REFUNDED. CANCELLED and REFUNDED are final and put the stock back."))
MAX_NOTE_CHARS = 1000


@strawberry.type
class Address:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code.")


@strawberry.type(description="A line as it was bought: sku, name and price are snapshots.")
class OrderLine:
    sku: str
    name: str
    quantity: int
    unit_price: Money
    line_total: Money
    record: strawberry.Private[OrderLineRecord]

    @strawberry.field(description="The product as it is now; null once it is deleted.")
    async def product(self, info: Info) -> Product | None:
        record = await info.context.catalog.product.load(self.record.product_id)
        return None if record is None else Product.from_record(record)


@strawberry.type
class OrderStatusChange:
    status: OrderStatus  # type: ignore[valid-type]
    previous_status: OrderStatus | None  # type: ignore[valid-type]
    at: datetime
    note: str | None
    version: int


@strawberry.type
class Order(Node):
    number: str = strawberry.field(description="Human-readable and unique, e.g. `7KQ2-X9MD`.")
    status: OrderStatus  # type: ignore[valid-type]
    subtotal: Money = strawberry.field(description="The lines at list prices.")
    discount_total: Money
    total: Money = strawberry.field(description="What was charged: the sum of the line totals.")
    shipping_address: Address
    created_at: datetime
    updated_at: datetime
    version: int = strawberry.field(description="Incremented by each status change.")
    record: strawberry.Private[OrderRecord]

    @classmethod
    def from_record(cls, r: OrderRecord) -> Order:
        def money(amount: object) -> Money:
            return Money(amount=amount, currency=r.currency)  # type: ignore[arg-type]

        return cls(
            id=strawberry.ID(to_global_id("Order", r.id)), number=r.number, status=r.status,
            subtotal=money(r.subtotal), discount_total=money(r.discount_total),
            total=money(r.total), shipping_address=Address(**r.shipping_address),
            created_at=r.created_at, updated_at=r.updated_at, version=r.version, record=r)

    @strawberry.field
    async def lines(self, info: Info) -> list[OrderLine]:
        currency = self.record.currency
        return [
            OrderLine(sku=line.sku, name=line.name, quantity=line.quantity,
                      unit_price=Money(amount=line.unit_price, currency=currency),
                      line_total=Money(amount=line.line_total, currency=currency), record=line)
            for line in await info.context.orders.lines.load(self.record.id)
        ]

    @strawberry.field(description="Every status the order has had, oldest first.")
    async def status_history(self, info: Info) -> list[OrderStatusChange]:
        return [_change(c) for c in await info.context.orders.history.load(self.record.id)]

    @strawberry.field
    async def customer(self, info: Info) -> UserType | None:
        user = await info.context.orders.customer.load(self.record.user_id)
        return None if user is None else UserType.from_model(user)


def _change(c: StatusChangeRecord) -> OrderStatusChange:
    return OrderStatusChange(status=c.status, previous_status=c.previous_status, at=c.at,
                             note=c.note, version=c.version)


def _may_see(user: User, order: OrderRecord) -> bool:
    return order.user_id == user.id or Role(user.role).is_admin


async def visible_order(info: Info, pk: int) -> OrderRecord | None:
    """The order if the caller may see it; someone else's order is indistinguishable from none."""
    user = await info.context.user()
    if user is None:
        return None
    order = await info.context.orders.order.load(pk)
    return order if order is not None and _may_see(user, order) else None


async def resolve_order_node(info: Info, pk: int) -> Order | None:
    order = await visible_order(info, pk)
    return None if order is None else Order.from_record(order)


@strawberry.input(description="Every field given narrows the list (AND).")
class OrderFilter:
    status: OrderStatus | None = None  # type: ignore[valid-type]
    created_after: datetime | None = strawberry.field(default=None, description="Inclusive.")
    created_before: datetime | None = strawberry.field(default=None, description="Exclusive.")
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Admins: one customer's orders.")


def _order_query(user: User, filter: OrderFilter | None) -> OrderQuery:
    own = None if Role(user.role).is_admin else user.id
    if filter is None:
        return OrderQuery(user_id=own)
    customer = None
    if filter.customer_id is not None:
        customer = decode_pk(filter.customer_id, "User")
        if customer is None:
            raise BadUserInput("Not a User ID.", field="customerId")
    if own is not None and customer not in (None, own):
        customer = -1  # someone else's orders: none, as far as a customer can tell
    for moment in (filter.created_after, filter.created_before):
        if moment is not None and moment.tzinfo is None:
            raise BadUserInput("Give times with a UTC offset.")
    status = None if filter.status is None else lifecycle.OrderStatus(filter.status)
    return OrderQuery(user_id=customer if customer is not None else own, status=status,
                      created_after=filter.created_after, created_before=filter.created_before)


@strawberry.type
class OrderQueryMixin:
    @strawberry.field(description="One of the caller's orders (admins: any); null otherwise.")
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        pk = decode_pk(id, "Order")
        return None if pk is None else await resolve_order_node(info, pk)

    @strawberry.field(description="The caller's orders, newest first (admins: everyone's).")
    async def orders(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None, filter: OrderFilter | None = None,
    ) -> Connection[Order]:
        user = await require_user(info)
        db = info.context.resources.db
        page = PageArgs(first, after, last, before).validated(
            info.context.resources.settings.max_page_size)
        query = _order_query(user, filter)
        async with db.read() as conn:
            result = await service.list_orders(conn, query, page)

        async def total() -> int:
            async with db.read() as conn:
                return await service.count_orders(conn, query)

        return to_connection(result, Order.from_record, total)


# --- mutations ----------------------------------------------------------------------------------


@strawberry.input
class AddressInput:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code, e.g. `DE`.")
    line2: str | None = None


@strawberry.input
class CheckoutCompleteInput:
    idempotency_key: str = strawberry.field(description=(
        "Chosen by the client, one per checkout attempt (a UUID): a retry with the same key "
        "returns the same order instead of a second one."))
    shipping_address: AddressInput


@strawberry.input
class OrderStatusUpdateInput:
    status: OrderStatus  # type: ignore[valid-type]
    note: str | None = None
    expected_version: int | None = strawberry.field(
        default=None, description="Fail with CONFLICT unless the order still has this version.")


@strawberry.type
class CheckoutCompletePayload:
    order: Order | None
    user_errors: list[UserError]


@strawberry.type
class OrderStatusUpdatePayload:
    order: Order | None
    user_errors: list[UserError]


@strawberry.type
class OrderCancelPayload:
    order: Order | None
    user_errors: list[UserError]


async def _announce(info: Info, outcome: Outcome) -> None:
    """After the commit: subscribers hear the status, the catalog forgets the old stock."""
    events = info.context.resources.events
    if outcome.event is not None:
        await events.emit(ORDER_STATUS_CHANGED, outcome.event.to_json())
    if outcome.stock_changed:
        # One event per transaction, however many lines: each event retires the whole cached
        # catalog (a new generation) and queues indexing, so one per line would multiply both.
        ids = sorted(set(outcome.stock_changed))
        await events.emit(PRODUCT_CHANGED, {"ids": ids, "op": "stock"})


async def _payload_order(info: Info, outcome: Outcome | None) -> Order | None:
    if outcome is None:
        return None
    await _announce(info, outcome)
    return Order.from_record(outcome.order)


def _order_id(id: strawberry.ID) -> int:
    return decode_pk(id, "Order") or 0  # 0 matches no order: NOT_FOUND like any missing one


@strawberry.type
class OrderMutation:
    @strawberry.mutation(description="Turn the caller's cart into an order, at current prices.")
    async def checkout_complete(self, info: Info, input: CheckoutCompleteInput
                                ) -> CheckoutCompletePayload:
        user = await require_user(info)
        assert user.id is not None
        a = input.shipping_address
        try:
            address = addresses.validated(a.name, a.line1, a.line2, a.city, a.postal_code,
                                          a.country)
        except UserInputError as exc:
            return CheckoutCompletePayload(order=None, user_errors=exc.errors)
        outcome, errors = await service.place_order(info.context.resources.db, user.id,
                                                    input.idempotency_key, address)
        return CheckoutCompletePayload(order=await _payload_order(info, outcome),
                                       user_errors=errors)

    @strawberry.mutation(description="Admin: move an order along its lifecycle.")
    async def order_status_update(self, info: Info, id: strawberry.ID,
                                  input: OrderStatusUpdateInput) -> OrderStatusUpdatePayload:
        admin = await require_admin(info)
        note = (input.note or "").strip() or None
        if note is not None and len(note) > MAX_NOTE_CHARS:
            return OrderStatusUpdatePayload(order=None, user_errors=UserInputError.single(
                "note", ErrorCode.TOO_LONG, f"A note is at most {MAX_NOTE_CHARS} characters.").errors)
        outcome, errors = await service.update_status(
            info.context.resources.db, _order_id(id), lifecycle.OrderStatus(input.status),
            actor_id=admin.id, note=note, expected_version=input.expected_version)
        return OrderStatusUpdatePayload(order=await _payload_order(info, outcome),
                                        user_errors=errors)

    @strawberry.mutation(description="Cancel one of your orders while it is PENDING or PAID.")
    async def order_cancel(self, info: Info, id: strawberry.ID) -> OrderCancelPayload:
        user = await require_user(info)
        outcome, errors = await service.update_status(
            info.context.resources.db, _order_id(id), lifecycle.OrderStatus.CANCELLED,
            actor_id=user.id, owner_id=user.id, note="Cancelled by the customer.")
        return OrderCancelPayload(order=await _payload_order(info, outcome), user_errors=errors)


# --- subscriptions ------------------------------------------------------------------------------


@strawberry.type
class OrderStatusEvent:
    status: OrderStatus  # type: ignore[valid-type]
    previous_status: OrderStatus | None  # type: ignore[valid-type]
    at: datetime
    version: int
    order: Order = strawberry.field(description="The order as it is now.")
    # Its subscribers execute each distinct (operation, caller) on it once (core/streams.py).
    executions: strawberry.Private[SharedExecutions]


async def _order_events(info: Info, wanted: OrderFilterFn
                       ) -> AsyncGenerator[OrderStatusEvent, None]:
    """The order events this subscriber may see, from the process's feed: each event parsed, its
    order read and its admins checked once for all subscribers (orders/snapshots.py), and built
    once, so that its subscribers share its executions (core/streams.py)."""
    async with order_feed(info.context.resources, _shared_event).subscribe(wanted) as events:
        await wanted.ready(info)
        async for event in events:
            yield event


def _shared_event(event: StatusEvent, snapshot: Snapshot) -> OrderStatusEvent:
    def prepare(subscriber: Context, shared: bool) -> Context:
        # Fresh loaders (the event's order as it is now), primed with the snapshot's lines and
        # history; a shared execution gets a copy of the first subscriber's context.
        context = subscriber.for_shared_execution() if shared else subscriber
        context.refresh_loaders()
        context.orders.lines.prime(event.order_id, snapshot.lines)
        context.orders.history.prime(event.order_id, snapshot.history)
        return context

    return OrderStatusEvent(status=event.status, previous_status=event.previous_status,
                            at=event.at, version=event.version,
                            order=Order.from_record(snapshot.order),
                            executions=SharedExecutions(_caller, prepare))


def _caller(context: Context) -> tuple[int | None, str] | None:
    # What a resolver under OrderStatusEvent could learn of the caller: see core/streams.py.
    return context.caller_identity()


class OrderFilterFn:
    """Which events a subscription delivers, and whether the caller may still see them."""

    def __init__(self, user: User, order_id: int | None) -> None:
        assert user.id is not None
        self.user_id, self.order_id = user.id, order_id
        self.as_admin = Role(user.role).is_admin

    async def ready(self, info: Info) -> None:
        """Checked once subscribed, so no event can fall between the check and the stream."""
        if self.order_id is not None and await visible_order(info, self.order_id) is None:
            raise NotFound("Order not found.")

    def verdict(self, event: StatusEvent) -> bool | None:
        if self.order_id is not None and event.order_id != self.order_id:
            return False
        if event.user_id == self.user_id:
            return True
        # Seeing other people's orders rests on the admin role: the feed checks it is still
        # held, as of each event (None: "if still an admin").
        return None if self.as_admin else False


@strawberry.type
class OrderSubscription:
    @strawberry.subscription(description="Status changes of one order (its owner or an admin).")
    async def order_status_changed(self, info: Info, order_id: strawberry.ID
                                   ) -> AsyncGenerator[OrderStatusEvent, None]:
        user = await require_user(info)
        pk = decode_pk(order_id, "Order")
        if pk is None:
            raise NotFound("Order not found.")
        async for event in _order_events(info, OrderFilterFn(user, pk)):
            yield event

    @strawberry.subscription(description="Status changes of every order of the caller (admins: "
                             "of every order), including new orders.")
    async def my_order_updates(self, info: Info) -> AsyncGenerator[OrderStatusEvent, None]:
        user = await require_user(info)
        async for event in _order_events(info, OrderFilterFn(user, None)):
            yield event
