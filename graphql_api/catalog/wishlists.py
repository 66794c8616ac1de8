"""Wishlists: the live products a customer keeps for later, newest added first. No GraphQL here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from graphql_api.catalog.models import Product, WishlistItem
from graphql_api.catalog.records import ProductRecord, product_record
from graphql_api.catalog.service import live_products
from graphql_api.core.errors import ErrorCode, UserInputError
from graphql_api.core.models import utcnow
from graphql_api.core.pagination import (
    KeyColumn,
    Page,
    PageArgs,
    SortKey,
    build_page,
    keyset_statement,
)
from graphql_api.core.sql import insert_ignoring_conflicts

_item = WishlistItem.__table__  # type: ignore[attr-defined]
_product = Product.__table__  # type: ignore[attr-defined]

NEWEST_FIRST = SortKey(
    columns=[KeyColumn(_item.c.created_at, datetime), KeyColumn(_item.c.id, int)], descending=True
)


@dataclass(slots=True)
class WishlistEntry:
    product: ProductRecord
    added_at: datetime
    item_id: int  # with added_at, the cursor: two products can be added in the same instant


def _cursor_values(entry: WishlistEntry) -> list[Any]:
    return [entry.added_at, entry.item_id]


def _entries_of(user_id: int) -> Select[Any]:
    """The product and category columns of `select_products`, then the item's cursor columns."""
    return (
        live_products()
        .add_columns(_item.c.created_at, _item.c.id)
        .join(_item, _item.c.product_id == _product.c.id)
        .where(_item.c.user_id == user_id)
    )


def _entry(row: Any) -> WishlistEntry:
    *product, added_at, item_id = row
    return WishlistEntry(product_record(product), added_at, item_id)


async def wishlist_page(conn: AsyncConnection, user_id: int, page: PageArgs) -> Page[WishlistEntry]:
    rows = await conn.execute(keyset_statement(_entries_of(user_id), NEWEST_FIRST, page))
    return build_page([_entry(r) for r in rows], page, _cursor_values)


async def wishlist_count(conn: AsyncConnection, user_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(_item)
        .join(_product, _product.c.id == _item.c.product_id)
        .where(_item.c.user_id == user_id, _product.c.deleted_at.is_(None))
    )
    return int(await conn.scalar(stmt) or 0)


async def _live_product(session: AsyncSession, product_id: int | None) -> Product:
    product = None if product_id is None else await session.get(Product, product_id)
    if product is None or product.deleted_at is not None:
        raise UserInputError.single("productId", ErrorCode.NOT_FOUND, "Product not found.")
    return product


async def add(session: AsyncSession, user_id: int, product_id: int | None) -> Product:
    """Idempotent: a product already there stays, with the time it was first added."""
    product = await _live_product(session, product_id)
    # ON CONFLICT DO NOTHING: two concurrent adds of one product both succeed.
    await session.execute(insert_ignoring_conflicts(
        _item, session.get_bind().dialect.name,
        user_id=user_id, product_id=product.id, created_at=utcnow(),
    ))
    return product


async def remove(session: AsyncSession, user_id: int, product_id: int | None) -> Product:
    product = await _live_product(session, product_id)
    removed = await session.execute(
        delete(WishlistItem)
        .where(col(WishlistItem.user_id) == user_id, col(WishlistItem.product_id) == product.id)
        .execution_options(synchronize_session=False)
    )
    if removed.rowcount == 0:  # type: ignore[attr-defined]
        raise UserInputError.single("productId", ErrorCode.NOT_FOUND,
                                    "This product is not in your wishlist.")
    return product
