"""GraphQL types, queries and mutations of carts; thin over the cart service and catalog loaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from graphql_api.carts import service
from graphql_api.carts.service import CartOwner, CartRecord, LineChange
from graphql_api.catalog.pricing import line_total, sale_price
from graphql_api.catalog.types import Product
from graphql_api.core.errors import ErrorCode, UserError
from graphql_api.core.ids import decode_pk, to_global_id
from graphql_api.core.mutations import in_transaction
from graphql_api.core.scalars import Money, Node

DEFAULT_CURRENCY = "USD"


@strawberry.type
class CartLine:
    product: Product
    quantity: int
    unit_price: Money = strawberry.field(description="The product's current sale price.")
    line_total: Money = strawberry.field(description="`unitPrice` x `quantity`.")


@strawberry.type(description="Prices are the products' current ones: `subtotal` at list prices, "
                 "`discountTotal` what the discounts take off it, `total` what checkout charges.")
class Cart(Node):
    lines: list[CartLine]
    subtotal: Money
    discount_total: Money
    total: Money
    item_count: int = strawberry.field(description="Units over all lines.")
    updated_at: datetime


async def build_cart(info: Info, record: CartRecord) -> Cart:
    """The cart at current prices. Lines of products deleted since are not shown (nor sold)."""
    products = await info.context.catalog.product.load_many([line.product_id for line in record.lines])
    lines: list[CartLine] = []
    subtotal = total = Decimal("0.00")
    currency = DEFAULT_CURRENCY
    for line, product in zip(record.lines, products, strict=True):
        if product is None:
            continue
        currency = product.currency
        unit = sale_price(product.price, product.discount_percent)
        amount = line_total(unit, line.quantity)
        subtotal += line_total(product.price, line.quantity)
        total += amount
        lines.append(CartLine(product=Product.from_record(product), quantity=line.quantity,
                              unit_price=Money(amount=unit, currency=currency),
                              line_total=Money(amount=amount, currency=currency)))
    return Cart(
        id=strawberry.ID(to_global_id("Cart", record.id)), lines=lines,
        subtotal=Money(amount=subtotal, currency=currency),
        discount_total=Money(amount=subtotal - total, currency=currency),
        total=Money(amount=total, currency=currency),
        item_count=sum(line.quantity for line in lines), updated_at=record.updated_at)


async def cart_owner(info: Info) -> CartOwner | None:
    """A signed-in caller's own cart (a cart token is then ignored), else the guest's by token."""
    user = await info.context.user()
    if user is not None:
        return CartOwner(user_id=user.id)
    token = info.context.cart_token
    if token is None or len(token) > service.MAX_TOKEN_CHARS:
        return None
    return CartOwner(token=token)


async def _own_cart(info: Info) -> CartRecord | None:
    owner = await cart_owner(info)
    if owner is None:
        return None
    db = info.context.resources.db
    async with db.read() as conn:
        record = await service.read_cart(conn, owner)
    if record is not None or owner.user_id is None:
        return record
    # A customer always has a cart: made on the first read only. A read must not take the
    # cart's lock (concurrent reads would queue on it) nor bump the version checkout compares.
    async with db.transaction() as session:
        await service.take_cart(session, owner, create=True)
        return await service.read_cart(session, owner)


async def resolve_cart_node(info: Info, pk: int) -> Cart | None:
    """Only the cart's owner (or the guest holding its token) can see it."""
    owner = await cart_owner(info)
    if owner is None:
        return None
    async with info.context.resources.db.read() as conn:
        record = await service.read_cart(conn, owner)
    return None if record is None or record.id != pk else await build_cart(info, record)


@strawberry.type
class CartQuery:
    @strawberry.field(description="The signed-in customer's cart, or the guest cart named by the "
                      "`X-Cart-Token` header; null for a guest without one.")
    async def cart(self, info: Info) -> Cart | None:
        record = await _own_cart(info)
        return None if record is None else await build_cart(info, record)


@strawberry.input
class CartLineInput:
    product_id: strawberry.ID
    quantity: int


@strawberry.input
class CartLinesAddInput:
    lines: list[CartLineInput]


@strawberry.input(description="Sets each listed product's quantity; 0 removes it.")
class CartLinesUpdateInput:
    lines: list[CartLineInput]


@strawberry.input
class CartLinesRemoveInput:
    product_ids: list[strawberry.ID]


@strawberry.type
class CartCreatePayload:
    cart: Cart | None
    cart_token: str | None = strawberry.field(
        description="A guest's cart token (shown once): send it as the `X-Cart-Token` header, and "
        "in `tokenCreate` to keep the cart on signing in. Null for a signed-in customer.")
    user_errors: list[UserError]


@strawberry.type
class CartLinesAddPayload:
    cart: Cart | None
    user_errors: list[UserError]


@strawberry.type
class CartLinesUpdatePayload:
    cart: Cart | None
    user_errors: list[UserError]


@strawberry.type
class CartLinesRemovePayload:
    cart: Cart | None
    user_errors: list[UserError]


@strawberry.type
class CartClearPayload:
    cart: Cart | None
    user_errors: list[UserError]


def _changes(lines: list[CartLineInput]) -> list[LineChange]:
    return [LineChange(decode_pk(line.product_id, "Product"), line.quantity) for line in lines]


def _no_cart() -> list[UserError]:
    return [UserError(field=["cartToken"], code=ErrorCode.NOT_FOUND,
                      message="No cart: sign in, or create one with cartCreate and send its "
                      "token in the X-Cart-Token header.")]


async def _change(
    info: Info, work: Callable[[AsyncSession, CartOwner], Awaitable[CartRecord]]
) -> tuple[Cart | None, list[UserError]]:
    owner = await cart_owner(info)
    if owner is None:
        return None, _no_cart()
    record, errors = await in_transaction(info.context.resources.db, lambda s: work(s, owner))
    return (None if record is None else await build_cart(info, record)), errors


@strawberry.type
class CartMutation:
    @strawberry.mutation(description="A guest cart and its token; a signed-in customer gets their "
                         "own cart.")
    async def cart_create(self, info: Info) -> CartCreatePayload:
        if await info.context.user() is not None:
            record = await _own_cart(info)
            assert record is not None
            return CartCreatePayload(cart=await build_cart(info, record), cart_token=None,
                                     user_errors=[])
        created, errors = await in_transaction(info.context.resources.db,
                                               service.create_guest_cart)
        if created is None:
            return CartCreatePayload(cart=None, cart_token=None, user_errors=errors)
        record, token = created
        return CartCreatePayload(cart=await build_cart(info, record), cart_token=token,
                                 user_errors=[])

    @strawberry.mutation(description="Add quantities to the cart (to what it holds already).")
    async def cart_lines_add(self, info: Info, input: CartLinesAddInput) -> CartLinesAddPayload:
        changes = _changes(input.lines)
        cart, errors = await _change(info, lambda s, o: service.add_lines(s, o, changes))
        return CartLinesAddPayload(cart=cart, user_errors=errors)

    @strawberry.mutation(description="Set quantities of products in the cart; 0 removes a line.")
    async def cart_lines_update(self, info: Info, input: CartLinesUpdateInput
                                ) -> CartLinesUpdatePayload:
        changes = _changes(input.lines)
        cart, errors = await _change(info, lambda s, o: service.update_lines(s, o, changes))
        return CartLinesUpdatePayload(cart=cart, user_errors=errors)

    @strawberry.mutation(description="Remove products from the cart (absent ones are ignored).")
    async def cart_lines_remove(self, info: Info, input: CartLinesRemoveInput
                                ) -> CartLinesRemovePayload:
        ids = [pk for pk in (decode_pk(i, "Product") for i in input.product_ids) if pk is not None]
        cart, errors = await _change(info, lambda s, o: service.remove_lines(s, o, ids))
        return CartLinesRemovePayload(cart=cart, user_errors=errors)

    @strawberry.mutation(description="Empty the cart.")
    async def cart_clear(self, info: Info) -> CartClearPayload:
        cart, errors = await _change(info, service.clear)
        return CartClearPayload(cart=cart, user_errors=errors)
