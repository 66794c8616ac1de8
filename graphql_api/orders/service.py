"""Order operations on a session: checkout, status changes and order reads. No GraphQL here."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from graphql_api.carts import service as carts
from graphql_api.catalog.models import Product
from graphql_api.catalog.pricing import line_total, sale_price
from graphql_api.core.database import Database
from graphql_api.core.errors import ErrorCode, UserError, UserInputError
from graphql_api.core.ids import to_global_id
from graphql_api.core.models import utcnow
from graphql_api.core.mutations import in_transaction
from graphql_api.core.pagination import KeyColumn, Page, PageArgs, SortKey, build_page, keyset_statement
from graphql_api.metrics import ledger as sales_ledger
from graphql_api.orders.addresses import Address
from graphql_api.orders.lifecycle import (
    INITIAL,
    OWNER_CANCELLABLE,
    PAID_STATUSES,
    RESTOCKING,
    OrderStatus,
    allowed,
)
from graphql_api.orders.models import Order, OrderLine, OrderStatusChange
from graphql_api.search import outbox as search_outbox

Executor = AsyncSession | AsyncConnection

_orders = Order.__table__  # type: ignore[attr-defined]
_lines = OrderLine.__table__  # type: ignore[attr-defined]
_changes = OrderStatusChange.__table__  # type: ignore[attr-defined]
_products = Product.__table__  # type: ignore[attr-defined]

MAX_IDEMPOTENCY_KEY = 100
# No 0/O or 1/I: order numbers are read out over the phone.
_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass(slots=True)
class OrderRecord:
    id: int
    number: str
    user_id: int
    status: OrderStatus
    currency: str
    subtotal: Decimal
    discount_total: Decimal
    total: Decimal
    shipping_address: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class OrderLineRecord:
    order_id: int
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(slots=True)
class StatusChangeRecord:
    order_id: int
    status: OrderStatus
    previous_status: OrderStatus | None
    version: int
    note: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """What subscribers hear after a status change commits (also the very first status)."""

    order_id: int
    user_id: int
    status: OrderStatus
    previous_status: OrderStatus | None
    version: int
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "user_id": self.user_id, "status": self.status.value,
                "previous_status": self.previous_status and self.previous_status.value,
                "version": self.version, "at": self.at.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StatusEvent:
        previous = data.get("previous_status")
        return cls(order_id=int(data["order_id"]), user_id=int(data["user_id"]),
                   status=OrderStatus(data["status"]),
                   previous_status=None if previous is None else OrderStatus(previous),
                   version=int(data["version"]), at=datetime.fromisoformat(data["at"]))


@dataclass(slots=True)
class Outcome:
    """A write's result and what to announce once it has committed."""

    order: OrderRecord
    event: StatusEvent | None = None
    stock_changed: list[int] = field(default_factory=list)  # product ids


_ORDER_COLUMNS = [_orders.c[name] for name in (
    "id", "number", "user_id", "status", "currency", "subtotal", "discount_total", "total",
    "shipping_address", "version", "created_at", "updated_at")]


def _order_record(row: Any) -> OrderRecord:
    record = OrderRecord(*row)
    record.status = OrderStatus(record.status)
    return record


def _select_orders() -> Select[Any]:
    return select(*_ORDER_COLUMNS)


# --- checkout -----------------------------------------------------------------------------------


def new_order_number() -> str:
    code = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def _digest(lines: list[carts.CartLineRecord], address: Address) -> str:
    """What an idempotency key was used for: the lines bought and where they go."""
    basis = {"lines": sorted((line.product_id, line.quantity) for line in lines),
             "address": address.to_json()}
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


async def _order_by_key(session: AsyncSession, user_id: int, key: str
                        ) -> tuple[OrderRecord, str] | None:
    row = (await session.execute(
        select(*_ORDER_COLUMNS, _orders.c.request_digest)
        .where(_orders.c.user_id == user_id, _orders.c.idempotency_key == key))).first()
    return None if row is None else (_order_record(row[:-1]), row[-1])


def _check_key(key: str) -> str:
    key = key.strip()
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise UserInputError.single("idempotencyKey", ErrorCode.INVALID,
                                    f"An idempotency key is 1 to {MAX_IDEMPOTENCY_KEY} characters.")
    return key


async def checkout(session: AsyncSession, user_id: int, idempotency_key: str, address: Address
                   ) -> Outcome:
    """The customer's cart becomes an order, in the caller's transaction, or nothing changes.

    Lock order, the same in every write that touches stock: the cart row first (serialising this
    customer's checkouts), then product rows in id order (so two checkouts never deadlock).
    Replays of the key return the first order: found here under the cart lock, and guaranteed
    by the (user, key) unique constraint should two ever get past it.
    """
    key = _check_key(idempotency_key)
    cart_id = await carts.take_cart(session, carts.CartOwner(user_id=user_id), create=False)
    lines = await carts.cart_lines(session, cart_id) if cart_id is not None else []
    live = await _live_products(session, [line.product_id for line in lines])
    # Lines of products deleted since are not sold: the cart no longer shows them either.
    lines = sorted((line for line in lines if line.product_id in live),
                   key=lambda line: line.product_id)
    digest = _digest(lines, address)
    existing = await _order_by_key(session, user_id, key)
    if existing is not None:
        order, used_for = existing
        same = used_for == digest if lines else order.shipping_address == address.to_json()
        if not same:
            raise UserInputError.single(
                "idempotencyKey", ErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This idempotency key was used for a different checkout: use a new key.")
        return Outcome(order=order)
    if not lines:
        raise UserInputError.single("cart", ErrorCode.CART_EMPTY, "The cart is empty.")
    priced = await _take_stock(session, lines)
    order = await _insert_order(session, user_id, key, digest, address, lines, priced)
    assert cart_id is not None
    await carts.empty(session, cart_id)
    event = StatusEvent(order.id, user_id, order.status, None, order.version, order.created_at)
    return Outcome(order=order, event=event, stock_changed=[line.product_id for line in lines])


async def _live_products(session: AsyncSession, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    rows = await session.execute(select(_products.c.id).where(
        _products.c.id.in_(sorted(set(ids))), _products.c.deleted_at.is_(None)))
    return {row.id for row in rows}


async def _take_stock(session: AsyncSession, lines: list[carts.CartLineRecord]) -> dict[int, Any]:
    """A conditional decrement per line (`stock >= quantity`), in product-id order; each returns
    the product as it is at that moment, so the order is priced at exactly what was taken.
    Every short product is named, and the caller's rollback undoes the decrements made."""
    now = utcnow()
    priced: dict[int, Any] = {}
    short: list[carts.CartLineRecord] = []
    for line in lines:
        row = (await session.execute(
            update(_products)
            .where(_products.c.id == line.product_id, _products.c.deleted_at.is_(None),
                   _products.c.stock >= line.quantity)
            .values(stock=_products.c.stock - line.quantity, updated_at=now)
            .returning(_products.c.sku, _products.c.name, _products.c.price,
                       _products.c.discount_percent, _products.c.currency))).first()
        if row is None:
            short.append(line)
        else:
            priced[line.product_id] = row
    if short:
        raise UserInputError(await _shortages(session, short))
    await search_outbox.enqueue(session, priced.keys())  # stock is searched (inStock) and ranks ties
    return priced


async def _shortages(session: AsyncSession, short: list[carts.CartLineRecord]) -> list[UserError]:
    rows = await session.execute(select(_products.c.id, _products.c.name, _products.c.stock)
                                 .where(_products.c.id.in_([line.product_id for line in short])))
    found = {row.id: row for row in rows}
    errors = []
    for line in short:
        product = found[line.product_id]
        errors.append(UserError(
            field=["cart", "lines", to_global_id("Product", line.product_id)],
            code=ErrorCode.INSUFFICIENT_STOCK,
            message=f"Only {max(product.stock, 0)} of \"{product.name}\" available "
            f"(the cart has {line.quantity})."))
    return errors


async def _insert_order(session: AsyncSession, user_id: int, key: str, digest: str,
                        address: Address, lines: list[carts.CartLineRecord],
                        priced: dict[int, Any]) -> OrderRecord:
    currencies = {priced[line.product_id].currency for line in lines}
    if len(currencies) != 1:
        raise UserInputError.single("cart", ErrorCode.INVALID,
                                    "A cart in several currencies cannot be checked out.")
    subtotal = total = Decimal("0.00")
    rows = []
    for line in lines:
        product = priced[line.product_id]
        unit = sale_price(product.price, product.discount_percent)
        amount = line_total(unit, line.quantity)
        subtotal += line_total(product.price, line.quantity)
        total += amount
        rows.append({"product_id": line.product_id, "sku": product.sku, "name": product.name,
                     "quantity": line.quantity, "unit_price": unit, "line_total": amount})
    now = utcnow()
    values = {"number": new_order_number(), "user_id": user_id, "status": INITIAL.value,
              "currency": currencies.pop(), "subtotal": subtotal,
              "discount_total": subtotal - total, "total": total,
              "shipping_address": address.to_json(), "idempotency_key": key,
              "request_digest": digest, "version": 1, "created_at": now, "updated_at": now}
    order_id = (await session.execute(
        _orders.insert().values(**values).returning(_orders.c.id))).scalar_one()
    await session.execute(_lines.insert(), [{"order_id": order_id, **row} for row in rows])
    await session.execute(_changes.insert().values(
        order_id=order_id, status=INITIAL.value, previous_status=None, version=1, note=None,
        actor_id=user_id, at=now))
    return _order_record([values.get(c.name, order_id) for c in _ORDER_COLUMNS])


# --- status changes -----------------------------------------------------------------------------


async def change_status(session: AsyncSession, order_id: int, new: OrderStatus, *,
                        actor_id: int, note: str | None = None, owner_id: int | None = None,
                        expected_version: int | None = None) -> Outcome:
    """Move an order along the lifecycle. `owner_id`: the owner acting (may only cancel, and
    only their own order); otherwise an admin. The version is compared-and-set, so of two
    concurrent changes exactly one wins; entering CANCELLED or REFUNDED puts the stock back."""
    stmt = _select_orders().where(_orders.c.id == order_id)
    if owner_id is not None:
        stmt = stmt.where(_orders.c.user_id == owner_id)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise UserInputError.single("id", ErrorCode.NOT_FOUND, "Order not found.")
    order = _order_record(row)
    if expected_version is not None and expected_version != order.version:
        raise _conflict(order)
    owner_may = owner_id is None or (new is OrderStatus.CANCELLED
                                     and order.status in OWNER_CANCELLABLE)
    if not (owner_may and allowed(order.status, new)):
        raise UserInputError.single("status", ErrorCode.INVALID_TRANSITION,
                                    f"An order that is {order.status.value} cannot become "
                                    f"{new.value}.")
    now = utcnow()
    won = (await session.execute(
        update(_orders).where(_orders.c.id == order_id, _orders.c.version == order.version)
        .values(status=new.value, version=order.version + 1, updated_at=now)
        .returning(_orders.c.id))).first()
    if won is None:
        raise _conflict(order)
    restocked = await _restock(session, order_id) if new in RESTOCKING else []
    await _record_sales(session, order, new, now)
    version = order.version + 1
    await session.execute(_changes.insert().values(
        order_id=order_id, status=new.value, previous_status=order.status.value, version=version,
        note=note, actor_id=actor_id, at=now))
    event = StatusEvent(order_id, order.user_id, new, order.status, version, now)
    order.status, order.version, order.updated_at = new, version, now
    return Outcome(order=order, event=event, stock_changed=restocked)


async def _record_sales(session: AsyncSession, order: OrderRecord, new: OrderStatus,
                        at: datetime) -> None:
    """The metrics' facts, in the status change's transaction: paying makes the lines sales;
    a refund or cancellation after payment makes them returns (invoice `C<number>`, as the
    retail layout marks cancellations)."""
    paid_before = order.status in PAID_STATUSES
    if new is OrderStatus.PAID and not paid_before:
        is_return = False
    elif new in RESTOCKING and paid_before:
        is_return = True
    else:
        return
    country = sales_ledger.country_name(str(order.shipping_address.get("country", "")))
    await sales_ledger.record(session, [sales_ledger.NewLine(
        source="order", invoice=("C" if is_return else "") + order.number, stock_code=line.sku,
        description=line.name, quantity=line.quantity, unit_price=line.unit_price,
        invoice_date=at, customer_id=f"user:{order.user_id}", country=country,
        is_return=is_return, product_id=line.product_id)
        for line in (await lines_of(session, [order.id]))[order.id]])


def _conflict(order: OrderRecord) -> UserInputError:
    return UserInputError.single("id", ErrorCode.CONFLICT,
                                 "The order was changed meanwhile: read it again and retry.")


async def _restock(session: AsyncSession, order_id: int) -> list[int]:
    rows = (await session.execute(
        select(_lines.c.product_id, func.sum(_lines.c.quantity))
        .where(_lines.c.order_id == order_id).group_by(_lines.c.product_id)
        .order_by(_lines.c.product_id))).all()
    for product_id, quantity in rows:
        await session.execute(update(_products).where(_products.c.id == product_id)
                              .values(stock=_products.c.stock + quantity, updated_at=utcnow()))
    await search_outbox.enqueue(session, [product_id for product_id, _ in rows])
    return [product_id for product_id, _ in rows]


# --- reads --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderQuery:
    """Filters of an order listing (AND). `user_id`: one customer's orders only."""

    user_id: int | None = None
    status: OrderStatus | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


ORDER_SORT = SortKey(columns=[KeyColumn(_orders.c.created_at, datetime),
                              KeyColumn(_orders.c.id, int)], descending=True)


def _filtered(stmt: Select[Any], query: OrderQuery) -> Select[Any]:
    conditions = []
    if query.user_id is not None:
        conditions.append(_orders.c.user_id == query.user_id)
    if query.status is not None:
        conditions.append(_orders.c.status == query.status.value)
    if query.created_after is not None:
        conditions.append(_orders.c.created_at >= query.created_after)
    if query.created_before is not None:
        conditions.append(_orders.c.created_at < query.created_before)
    return stmt.where(and_(*conditions)) if conditions else stmt


async def list_orders(executor: Executor, query: OrderQuery, page: PageArgs) -> Page[OrderRecord]:
    stmt = keyset_statement(_filtered(_select_orders(), query), ORDER_SORT, page)
    rows = [_order_record(row) for row in await executor.execute(stmt)]
    return build_page(rows, page, lambda o: [o.created_at, o.id])


async def count_orders(executor: Executor, query: OrderQuery) -> int:
    stmt = _filtered(select(func.count()).select_from(_orders), query)
    return int((await executor.execute(stmt)).scalar_one())


async def count_by_status(executor: Executor) -> dict[OrderStatus, int]:
    """Every status with its number of orders (zero included), in the lifecycle's order."""
    rows = await executor.execute(select(_orders.c.status, func.count()).group_by(_orders.c.status))
    found = {OrderStatus(status): int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in OrderStatus}


async def orders_by_ids(executor: Executor, ids: list[int]) -> dict[int, OrderRecord]:
    rows = await executor.execute(_select_orders().where(_orders.c.id.in_(ids)))
    return {record.id: record for record in map(_order_record, rows)}


async def lines_of(executor: Executor, order_ids: list[int]) -> dict[int, list[OrderLineRecord]]:
    rows = await executor.execute(
        select(_lines.c.order_id, _lines.c.product_id, _lines.c.sku, _lines.c.name,
               _lines.c.quantity, _lines.c.unit_price, _lines.c.line_total)
        .where(_lines.c.order_id.in_(order_ids)).order_by(_lines.c.order_id, _lines.c.product_id))
    found: dict[int, list[OrderLineRecord]] = {i: [] for i in order_ids}
    for row in rows:
        found[row.order_id].append(OrderLineRecord(*row))
    return found


async def history_of(executor: Executor, order_ids: list[int]
                     ) -> dict[int, list[StatusChangeRecord]]:
    rows = await executor.execute(
        select(_changes.c.order_id, _changes.c.status, _changes.c.previous_status,
               _changes.c.version, _changes.c.note, _changes.c.at)
        .where(_changes.c.order_id.in_(order_ids))
        .order_by(_changes.c.order_id, _changes.c.version))
    found: dict[int, list[StatusChangeRecord]] = {i: [] for i in order_ids}
    for row in rows:
        previous = None if row.previous_status is None else OrderStatus(row.previous_status)
        found[row.order_id].append(StatusChangeRecord(
            row.order_id, OrderStatus(row.status), previous, row.version, row.note, row.at))
    return found


async def place_order(db: Database, user_id: int, idempotency_key: str, address: Address
                      ) -> tuple[Outcome | None, list[UserError]]:
    """`checkout` in a transaction of its own, retried when a unique constraint fires: a racing
    request with the same key committed first (the retry returns its order) or, rarely, a new
    order number was taken."""
    for _ in range(3):
        try:
            async with db.transaction() as session:
                return await checkout(session, user_id, idempotency_key, address), []
        except UserInputError as exc:
            return None, exc.errors
        except IntegrityError:
            continue
    return None, [UserError(field=None, code=ErrorCode.CONFLICT,
                            message="The checkout conflicted with concurrent ones; try again.")]


async def update_status(db: Database, order_id: int, new: OrderStatus, **kwargs: Any
                        ) -> tuple[Outcome | None, list[UserError]]:
    """`change_status` in a transaction of its own."""
    return await in_transaction(db, lambda s: change_status(s, order_id, new, **kwargs))
