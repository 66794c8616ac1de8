"""Cart operations on a session: whose cart, its lines, the guest merge. No GraphQL here.

Every change starts by taking the cart: an UPDATE that bumps its version (a row lock on
PostgreSQL, the write lock on SQLite). Changes to one cart, and its checkout, are therefore
serialised, and each reads the lines as the previous one left them: no lost updates.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from graphql_api.carts.models import Cart, CartLine
from graphql_api.catalog.models import Product
from graphql_api.core import driver_reads
from graphql_api.core.errors import ErrorCode, UserError, UserInputError
from graphql_api.core.models import utcnow
from graphql_api.core.sql import insert_ignoring_conflicts

MAX_QUANTITY = 99
MAX_LINES = 100  # distinct products in one cart
MAX_TOKEN_CHARS = 100

_carts = Cart.__table__  # type: ignore[attr-defined]
_lines = CartLine.__table__  # type: ignore[attr-defined]
_products = Product.__table__  # type: ignore[attr-defined]

Executor = AsyncSession | AsyncConnection


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CartOwner:
    """Whose cart: a signed-in customer's, or a guest's by its cart token."""

    user_id: int | None = None
    token: str | None = None

    def condition(self) -> ColumnElement[bool]:
        if self.user_id is not None:
            return _carts.c.user_id == self.user_id
        return _carts.c.token_hash == hash_token(self.token or "")

    def cart_read(self) -> tuple[Select[Any], dict[str, Any]]:
        """`read_cart`'s statement (one of two, built once) and its parameter."""
        if self.user_id is not None:
            return _CART_BY_USER, {"owner": self.user_id}
        return _CART_BY_TOKEN, {"owner": hash_token(self.token or "")}


@dataclass(slots=True)
class CartLineRecord:
    product_id: int
    quantity: int
    added_at: datetime


@dataclass(slots=True)
class CartRecord:
    id: int
    user_id: int | None
    version: int
    updated_at: datetime
    lines: list[CartLineRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LineChange:
    product_id: int | None  # None: the input's ID was not a Product's
    quantity: int


async def create_guest_cart(session: AsyncSession) -> tuple[CartRecord, str]:
    """A new guest cart and its token: the only time the token is seen (it is stored hashed)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    result = await session.execute(
        _carts.insert().values(token_hash=hash_token(token), version=1, created_at=now,
                               updated_at=now).returning(_carts.c.id))
    return CartRecord(id=result.scalar_one(), user_id=None, version=1, updated_at=now), token


def _cart_with_lines(owner: ColumnElement[bool]) -> Select[Any]:
    return (select(_carts.c.id, _carts.c.user_id, _carts.c.version, _carts.c.updated_at,
                   _lines.c.product_id, _lines.c.quantity, _lines.c.added_at)
            .select_from(_carts.outerjoin(_lines, _lines.c.cart_id == _carts.c.id))
            .where(owner).order_by(_lines.c.added_at, _lines.c.id))


# Built once, the owner a parameter: every cart read runs one of them.
_CART_BY_USER = _cart_with_lines(_carts.c.user_id == bindparam("owner"))
_CART_BY_TOKEN = _cart_with_lines(_carts.c.token_hash == bindparam("owner"))


async def read_cart(executor: Executor, owner: CartOwner) -> CartRecord | None:
    """The cart and its lines in one round trip (every cart read starts here): a row per line,
    or one row without a line for an empty cart."""
    stmt, params = owner.cart_read()
    rows = await driver_reads.fetch(executor, stmt, params)
    if not rows:
        return None
    cart = CartRecord(*rows[0][:4])
    cart.lines = [CartLineRecord(*row[4:]) for row in rows if row[4] is not None]
    return cart


async def cart_lines(executor: Executor, cart_id: int) -> list[CartLineRecord]:
    rows = await executor.execute(
        select(_lines.c.product_id, _lines.c.quantity, _lines.c.added_at)
        .where(_lines.c.cart_id == cart_id).order_by(_lines.c.added_at, _lines.c.id))
    return [CartLineRecord(*row) for row in rows]


async def take_cart(session: AsyncSession, owner: CartOwner, create: bool) -> int | None:
    """Lock the owner's cart for this transaction (see the module docstring); its id, or None.

    A customer's cart is made on first use (`create`); a guest's must exist.
    """
    if create and owner.user_id is not None:
        now = utcnow()
        await session.execute(insert_ignoring_conflicts(
            _carts, session.get_bind().dialect.name, user_id=owner.user_id, version=0, created_at=now,
            updated_at=now))
    result = await session.execute(
        update(_carts).where(owner.condition())
        .values(version=_carts.c.version + 1, updated_at=utcnow()).returning(_carts.c.id))
    return result.scalar_one_or_none()


async def _taken(session: AsyncSession, owner: CartOwner) -> int:
    cart_id = await take_cart(session, owner, create=True)
    if cart_id is None:
        raise UserInputError.single("cartToken", ErrorCode.NOT_FOUND,
                                    "No cart has this cart token: create one with cartCreate.")
    return cart_id


@dataclass(slots=True)
class _Stock:
    name: str
    stock: int


async def _live_stock(session: AsyncSession, ids: Iterable[int]) -> dict[int, _Stock]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(_products.c.id, _products.c.name, _products.c.stock)
        .where(_products.c.id.in_(wanted), _products.c.deleted_at.is_(None)))
    return {row.id: _Stock(row.name, row.stock) for row in rows}


def _line_field(index: int, name: str) -> list[str]:
    return ["lines", str(index), name]


def _check_input(changes: Sequence[LineChange], allow_zero: bool) -> list[UserError]:
    errors: list[UserError] = []
    seen: set[int] = set()
    if len(changes) > MAX_LINES:
        errors.append(UserError(field=["lines"], code=ErrorCode.INVALID,
                                message=f"At most {MAX_LINES} lines at once."))
        return errors
    low = 0 if allow_zero else 1
    for i, change in enumerate(changes):
        if change.product_id is None:
            errors.append(UserError(field=_line_field(i, "productId"), code=ErrorCode.NOT_FOUND,
                                    message="Not a Product ID."))
        elif change.product_id in seen:
            errors.append(UserError(field=_line_field(i, "productId"), code=ErrorCode.INVALID,
                                    message="This product is listed twice."))
        else:
            seen.add(change.product_id)
        if not low <= change.quantity <= MAX_QUANTITY:
            errors.append(UserError(field=_line_field(i, "quantity"), code=ErrorCode.INVALID,
                                    message=f"A quantity is {low} to {MAX_QUANTITY}."))
    return errors


def _short(index: int, product_id: int, stock: _Stock, wanted: int) -> UserError:
    return UserError(field=_line_field(index, "quantity"), code=ErrorCode.INSUFFICIENT_STOCK,
                     message=f"Only {stock.stock} of \"{stock.name}\" available "
                     f"(asked for {wanted}).")


async def _set_quantities(session: AsyncSession, cart_id: int, current: dict[int, int],
                          wanted: dict[int, int]) -> None:
    """Write `wanted` (product id -> quantity; 0 removes) over the cart's `current` lines."""
    now = utcnow()
    for product_id, quantity in sorted(wanted.items()):
        where = (_lines.c.cart_id == cart_id) & (_lines.c.product_id == product_id)
        if quantity <= 0:
            if product_id in current:
                await session.execute(delete(_lines).where(where))
        elif product_id in current:
            if current[product_id] != quantity:
                await session.execute(update(_lines).where(where).values(quantity=quantity))
        else:
            await session.execute(_lines.insert().values(
                cart_id=cart_id, product_id=product_id, quantity=quantity, added_at=now))


async def _apply(session: AsyncSession, owner: CartOwner, changes: Sequence[LineChange],
                 adding: bool) -> CartRecord:
    errors = _check_input(changes, allow_zero=not adding)
    if errors:
        raise UserInputError(errors)
    cart_id = await _taken(session, owner)
    current = {line.product_id: line.quantity for line in await cart_lines(session, cart_id)}
    stocks = await _live_stock(session, (c.product_id for c in changes if c.product_id))
    wanted: dict[int, int] = {}
    for i, change in enumerate(changes):
        assert change.product_id is not None
        pid = change.product_id
        quantity = current.get(pid, 0) + change.quantity if adding else change.quantity
        stock = stocks.get(pid)
        if quantity == 0:
            wanted[pid] = 0  # removing needs no live product
        elif stock is None:
            errors.append(UserError(field=_line_field(i, "productId"), code=ErrorCode.NOT_FOUND,
                                    message="No such product."))
        elif quantity > MAX_QUANTITY:
            errors.append(UserError(
                field=_line_field(i, "quantity"), code=ErrorCode.INVALID,
                message=f"At most {MAX_QUANTITY} of a product ({current.get(pid, 0)} in the cart)."))
        elif quantity > stock.stock:
            errors.append(_short(i, pid, stock, quantity))
        else:
            wanted[pid] = quantity
    if len({p for p, q in {**current, **wanted}.items() if q > 0}) > MAX_LINES:
        errors.append(UserError(field=["lines"], code=ErrorCode.INVALID,
                                message=f"A cart holds at most {MAX_LINES} products."))
    if errors:
        raise UserInputError(errors)
    await _set_quantities(session, cart_id, current, wanted)
    return await _reread(session, owner)


async def add_lines(session: AsyncSession, owner: CartOwner, changes: Sequence[LineChange]
                    ) -> CartRecord:
    """Add each quantity to what the cart holds of that product."""
    return await _apply(session, owner, changes, adding=True)


async def update_lines(session: AsyncSession, owner: CartOwner, changes: Sequence[LineChange]
                       ) -> CartRecord:
    """Set each listed product's quantity; 0 removes it."""
    return await _apply(session, owner, changes, adding=False)


async def remove_lines(session: AsyncSession, owner: CartOwner, product_ids: Sequence[int]
                       ) -> CartRecord:
    if len(product_ids) > MAX_LINES:
        raise UserInputError.single("productIds", ErrorCode.INVALID,
                                    f"At most {MAX_LINES} products at once.")
    cart_id = await _taken(session, owner)
    if product_ids:
        await session.execute(delete(_lines).where(
            _lines.c.cart_id == cart_id, _lines.c.product_id.in_(sorted(set(product_ids)))))
    return await _reread(session, owner)


async def clear(session: AsyncSession, owner: CartOwner) -> CartRecord:
    cart_id = await _taken(session, owner)
    await empty(session, cart_id)
    return await _reread(session, owner)


async def empty(session: AsyncSession, cart_id: int) -> None:
    await session.execute(delete(_lines).where(_lines.c.cart_id == cart_id))


async def _reread(session: AsyncSession, owner: CartOwner) -> CartRecord:
    cart = await read_cart(session, owner)
    assert cart is not None  # taken in this transaction
    return cart


async def merge_guest_cart(session: AsyncSession, token: str, user_id: int) -> bool:
    """Move a guest cart into the customer's: quantities added, capped by stock and the
    per-product maximum; the guest cart is gone afterwards. False when no cart has the token."""
    if len(token) > MAX_TOKEN_CHARS:
        return False
    guest = CartOwner(token=token)
    guest_id = await take_cart(session, guest, create=False)
    if guest_id is None:
        return False
    own_id = await take_cart(session, CartOwner(user_id=user_id), create=True)
    assert own_id is not None
    incoming = await cart_lines(session, guest_id)
    current = {line.product_id: line.quantity for line in await cart_lines(session, own_id)}
    stocks = await _live_stock(session, (line.product_id for line in incoming))
    wanted: dict[int, int] = {}
    room = MAX_LINES - len(current)
    for line in incoming:
        stock = stocks.get(line.product_id)
        if stock is None:
            continue  # no longer sold
        if line.product_id not in current:
            if room <= 0:
                continue
            room -= 1
        total = current.get(line.product_id, 0) + line.quantity
        wanted[line.product_id] = min(total, stock.stock, MAX_QUANTITY)
    await _set_quantities(session, own_id, current, wanted)
    await session.execute(delete(_carts).where(_carts.c.id == guest_id))
    return True


def as_values(record: CartRecord) -> list[dict[str, Any]]:
    """The lines as plain data, in product-id order (the order checkout takes stock in)."""
    return [{"product_id": line.product_id, "quantity": line.quantity}
            for line in sorted(record.lines, key=lambda line: line.product_id)]
