"""Catalog operations on a session: product queries, validation and writes. No GraphQL here."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    any_,
    bindparam,
    exists,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from graphql_api.catalog.models import Category, Product
from graphql_api.catalog.records import (
    CategoryRecord,
    ProductRecord,
    category_record,
    product_record,
    projection,
    select_categories,
    select_products,
)
from graphql_api.core import driver_reads
from graphql_api.core.errors import ErrorCode, UserError, UserInputError
from graphql_api.core.models import utcnow
from graphql_api.core.pagination import (
    KeyColumn,
    Page,
    PageArgs,
    SortKey,
    build_page,
    keyset_params,
    keyset_shape,
    keyset_template,
)
from graphql_api.core.sql import escape_like, shaped_statement
from graphql_api.search import outbox as search_outbox

# Reads run on a bare connection: cheaper than an ORM session.
Reader = AsyncConnection


class SortField(Enum):
    NAME = "name"
    PRICE = "price"
    CREATED_AT = "created_at"
    STOCK = "stock"
    RATING = "rating"


# What each sort's cursor holds: the field's value as the record has it, then the id.
_SORT_KEYS: dict[SortField, KeyColumn] = {
    SortField.NAME: KeyColumn(col(Product.name), str),
    SortField.PRICE: KeyColumn(col(Product.price), Decimal),
    SortField.CREATED_AT: KeyColumn(col(Product.created_at), datetime),
    SortField.STOCK: KeyColumn(col(Product.stock), int),
    SortField.RATING: KeyColumn(col(Product.rating), Decimal),
}
_BY_ID = KeyColumn(col(Product.id), int)


@dataclass(frozen=True)
class ProductQuery:
    """Filters of a product listing; every field narrows the result (AND)."""

    category_id: int | None = None
    category_slug: str | None = None
    brand: str | None = None
    name_contains: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    tags: tuple[str, ...] = ()

    def cache_key(self) -> str:
        return repr(tuple(getattr(self, f) for f in self.__dataclass_fields__))


@dataclass(frozen=True)
class ProductSort:
    field: SortField = SortField.CREATED_AT
    descending: bool = True

    def key(self) -> SortKey:
        return SortKey(columns=[_SORT_KEYS[self.field], _BY_ID], descending=self.descending)

    def values(self, product: ProductRecord) -> list[Any]:
        return [getattr(product, self.field.value), product.id]


_live = col(Product.deleted_at).is_(None)


# Statements are immutable: built once, each read derives its own from these.
_LIVE_PRODUCTS = select_products().where(_live)
_ALL_CATEGORIES = select_categories()


def live_products() -> Select[Any]:
    return _LIVE_PRODUCTS


def _has_tag(dialect: str, name: str) -> ColumnElement[bool]:
    """The product has the tag bound as parameter `name` (a one-tag list on PostgreSQL)."""
    if dialect == "postgresql":
        # The column is JSONB there (see JsonType); `@>` can use a GIN index.
        return type_coerce(col(Product.tags), JSONB).contains(bindparam(name, type_=JSONB))
    # SQLite keeps JSON as text: look inside it with the json_each table function.
    each = func.json_each(col(Product.tags)).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(each.c.value == bindparam(name)))


# A filter `query` sets: its parameter's name (None for one without a value), the value, and its
# condition on that parameter.
_Filter = tuple[str, Any, Callable[[str], ColumnElement[bool]]]


def _filters(query: ProductQuery, dialect: str) -> list[_Filter]:
    found: list[_Filter] = []
    if query.category_id is not None:
        found.append(("filter_category_id", query.category_id,
                      lambda p: col(Product.category_id) == bindparam(p)))
    if query.category_slug is not None:
        found.append(("filter_category_slug", query.category_slug,
                      lambda p: col(Product.category_id).in_(select(col(Category.id)).where(
                          col(Category.slug) == bindparam(p)).scalar_subquery())))
    if query.brand:
        found.append(("filter_brand", query.brand.lower(),
                      lambda p: func.lower(col(Product.brand)) == bindparam(p)))
    if query.name_contains:
        found.append(("filter_name", f"%{escape_like(query.name_contains.strip())}%",
                      lambda p: col(Product.name).ilike(bindparam(p), escape="\\")))
    if query.min_price is not None:
        found.append(("filter_min_price", query.min_price,
                      lambda p: col(Product.price) >= bindparam(p)))
    if query.max_price is not None:
        found.append(("filter_max_price", query.max_price,
                      lambda p: col(Product.price) <= bindparam(p)))
    if query.in_stock is not None:
        found.append((f"in_stock_{query.in_stock}", None, lambda _: col(Product.stock) > 0
                      if query.in_stock else col(Product.stock) <= 0))
    for i, tag in enumerate(query.tags):
        found.append((f"filter_tag_{i}", [tag] if dialect == "postgresql" else tag,
                      lambda p: _has_tag(dialect, p)))
    return found


def _narrowed(stmt: Select[Any], filters: list[_Filter]) -> Select[Any]:
    return stmt.where(*(condition(name) for name, _, condition in filters))


def _shape_and_params(filters: list[_Filter]) -> tuple[tuple[str, ...], dict[str, Any]]:
    """What of the filters changes the statement, and the values it binds."""
    return (tuple(name for name, _, _ in filters),
            {name: value for name, value, _ in filters if value is not None})


def listing_statement(query: ProductQuery, sort: ProductSort, page: PageArgs, dialect: str,
                      columns: frozenset[str] | None = None
                      ) -> tuple[Select[Any], dict[str, Any]]:
    """A listing page's statement (the same object for every page of its shape) and its
    parameters; with `columns`, of only those record fields (`records.projection`)."""
    key, filters = sort.key(), _filters(query, dialect)
    shape, params = _shape_and_params(filters)

    def build() -> Select[Any]:
        base = _LIVE_PRODUCTS if columns is None else projection(columns).select.where(_live)
        return keyset_template(_narrowed(base, filters), key, page)

    stmt = shaped_statement(("listing", dialect, shape, sort, keyset_shape(page), columns),
                            build)
    return stmt, {**params, **keyset_params(key, page)}


async def list_products(
    conn: Reader, query: ProductQuery, sort: ProductSort, page: PageArgs,
    columns: frozenset[str] | None = None,
) -> Page[ProductRecord]:
    """A page of products; with `columns`, records of only those fields, NOT_READ elsewhere."""
    stmt, params = listing_statement(query, sort, page, _dialect(conn), columns)
    rows = await driver_reads.fetch(conn, stmt, params)
    record = product_record if columns is None else projection(columns).record
    return build_page([record(r) for r in rows], page, sort.values)


def _dialect(conn: Reader) -> str:
    return conn.dialect.name


async def count_products(conn: Reader, query: ProductQuery) -> int:
    dialect = _dialect(conn)
    filters = _filters(query, dialect)
    shape, params = _shape_and_params(filters)
    stmt = shaped_statement(("product_count", dialect, shape), lambda: _narrowed(
        select(func.count()).select_from(Product).where(_live), filters))
    return int(await conn.scalar(stmt, params) or 0)


# Built once: every product batch (carts, search hits, suggestions, orders) runs it, and making
# the IN clause anew each time cost a third of a millisecond.
_BY_IDS = live_products().where(col(Product.id).in_(bindparam("ids", expanding=True)))
# On PostgreSQL one array parameter instead: one statement text whatever the number of ids (an
# expanding IN is a new statement per count), so it can be read on the driver connection.
_BY_ID_ARRAY = live_products().where(
    col(Product.id) == any_(bindparam("ids", type_=postgresql.ARRAY(Integer))))


async def products_by_ids(conn: Reader, ids: list[int]) -> dict[int, ProductRecord]:
    stmt = _BY_ID_ARRAY if _dialect(conn) == "postgresql" else _BY_IDS
    rows = await driver_reads.fetch(conn, stmt, {"ids": ids})
    return {r.id: r for r in map(product_record, rows)}


async def low_stock(conn: Reader, threshold: int, limit: int) -> list[ProductRecord]:
    """Live products with at most `threshold` units left, fewest first (then oldest)."""
    stmt = (live_products().where(col(Product.stock) <= threshold)
            .order_by(col(Product.stock), col(Product.id)).limit(limit))
    return [product_record(r) for r in await conn.execute(stmt)]


async def product_by(conn: Reader, *, sku: str | None = None, slug: str | None = None
                     ) -> ProductRecord | None:
    stmt = live_products()
    if sku is not None:
        stmt = stmt.where(col(Product.sku) == sku)
    if slug is not None:
        stmt = stmt.where(col(Product.slug) == slug)
    row = (await conn.execute(stmt)).one_or_none()
    return None if row is None else product_record(row)


async def all_categories(conn: Reader) -> list[CategoryRecord]:
    rows = await conn.execute(_ALL_CATEGORIES.order_by(col(Category.name)))
    return [category_record(r) for r in rows]


async def categories_by_ids(conn: Reader, ids: list[int]) -> dict[int, CategoryRecord]:
    rows = await conn.execute(_ALL_CATEGORIES.where(col(Category.id).in_(ids)))
    return {r.id: r for r in map(category_record, rows)}


async def product_counts_by_category(conn: Reader) -> dict[int, int]:
    stmt = (
        select(col(Product.category_id), func.count())
        .where(_live, col(Product.category_id).is_not(None))
        .group_by(col(Product.category_id))
    )
    return {int(cid): int(n) for cid, n in (await conn.execute(stmt)).all() if cid is not None}


# --- writes -------------------------------------------------------------------------------------

SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_TAGS = 20
MAX_IMAGES = 20


def slugify(value: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:200] or "product"


def _money(value: Any, name: str, errors: list[UserError]) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.append(UserError(field=[name], code=ErrorCode.INVALID, message="Not a number."))
        return None
    if not amount.is_finite() or amount < 0:
        errors.append(
            UserError(field=[name], code=ErrorCode.OUT_OF_RANGE, message="Price must be >= 0.")
        )
        return None
    if amount.as_tuple().exponent < -2 or amount >= Decimal("1e10"):  # type: ignore[operator]
        errors.append(
            UserError(field=[name], code=ErrorCode.INVALID,
                      message="Price allows at most 2 decimal places and 10 integer digits.")
        )
        return None
    return amount.quantize(Decimal("0.01"))


def _validate(values: dict[str, Any], creating: bool) -> tuple[dict[str, Any], list[UserError]]:
    errors: list[UserError] = []
    clean: dict[str, Any] = {}

    def err(name: str, code: ErrorCode, message: str) -> None:
        errors.append(UserError(field=[name], code=code, message=message))

    required = ("sku", "name", "price") if creating else ()
    for name in required:
        if values.get(name) is None:
            err(name, ErrorCode.REQUIRED, f"{name} is required.")
    for name in ("sku", "name", "price", "stock", "discount_percent"):
        if not creating and name in values and values[name] is None:
            err(name, ErrorCode.REQUIRED, f"{name} cannot be null.")

    if values.get("sku") is not None:
        sku = str(values["sku"]).strip()
        if not SKU_PATTERN.match(sku):
            err("sku", ErrorCode.INVALID, "SKU must be 1-64 letters, digits, '.', '_' or '-'.")
        clean["sku"] = sku
    if values.get("name") is not None:
        name = str(values["name"]).strip()
        if not name:
            err("name", ErrorCode.REQUIRED, "Name cannot be blank.")
        elif len(name) > 255:
            err("name", ErrorCode.TOO_LONG, "Name must be at most 255 characters.")
        clean["name"] = name
    if "description" in values:
        description = values["description"] or ""
        if len(description) > 20_000:
            err("description", ErrorCode.TOO_LONG, "Description must be at most 20000 characters.")
        clean["description"] = description
    if values.get("price") is not None:
        clean["price"] = _money(values["price"], "price", errors)
    if values.get("stock") is not None:
        if values["stock"] < 0:
            err("stock", ErrorCode.OUT_OF_RANGE, "Stock must be >= 0.")
        clean["stock"] = values["stock"]
    if values.get("discount_percent") is not None:
        if not 0 <= values["discount_percent"] <= 100:
            err("discountPercent", ErrorCode.OUT_OF_RANGE, "Discount must be between 0 and 100.")
        clean["discount_percent"] = values["discount_percent"]
    if "brand" in values:
        brand = (values["brand"] or "").strip() or None
        if brand and len(brand) > 120:
            err("brand", ErrorCode.TOO_LONG, "Brand must be at most 120 characters.")
        clean["brand"] = brand
    if "tags" in values:
        tags = list(dict.fromkeys(t.strip().lower() for t in values["tags"] or [] if t.strip()))
        if len(tags) > MAX_TAGS or any(len(t) > 50 for t in tags):
            err("tags", ErrorCode.INVALID, f"At most {MAX_TAGS} tags of at most 50 characters.")
        clean["tags"] = tags
    if "images" in values:
        images = list(values["images"] or [])
        bad = [u for u in images if urlparse(u).scheme not in ("http", "https") or len(u) > 2000]
        if len(images) > MAX_IMAGES or bad:
            err("images", ErrorCode.INVALID, f"At most {MAX_IMAGES} http(s) image URLs.")
        clean["images"] = images
    if "category_id" in values:
        clean["category_id"] = values["category_id"]
    # camelCase field paths for clients
    for e in errors:
        if e.field == ["discount_percent"]:
            e.field = ["discountPercent"]
    return clean, errors


async def _check_references(
    session: AsyncSession, clean: dict[str, Any], product_id: int | None, errors: list[UserError]
) -> None:
    if "sku" in clean:
        taken = select(col(Product.id)).where(col(Product.sku) == clean["sku"])
        if product_id is not None:
            taken = taken.where(col(Product.id) != product_id)
        if await session.scalar(taken) is not None:
            errors.append(UserError(field=["sku"], code=ErrorCode.DUPLICATE,
                                    message="A product with this SKU already exists."))
    if clean.get("category_id") is not None and await session.get(
        Category, clean["category_id"]
    ) is None:
        errors.append(UserError(field=["categoryId"], code=ErrorCode.NOT_FOUND,
                                message="Category not found."))


async def _unique_slug(session: AsyncSession, name: str, sku: str, product_id: int | None) -> str:
    # 180 + "-" + a 64-character SKU + "-" + 8 random characters stays within the 255 column.
    base = slugify(name)[:180].rstrip("-")
    with_sku = f"{base}-{slugify(sku)}"
    for candidate in (base, with_sku, *(f"{with_sku}-{secrets.token_hex(4)}" for _ in range(3))):
        stmt = select(col(Product.id)).where(col(Product.slug) == candidate)
        if product_id is not None:
            stmt = stmt.where(col(Product.id) != product_id)
        if await session.scalar(stmt) is None:
            return candidate
    raise UserInputError.single("name", ErrorCode.DUPLICATE, "Could not make a unique slug.")


async def create_product(session: AsyncSession, values: dict[str, Any]) -> Product:
    clean, errors = _validate(values, creating=True)
    if not errors:
        await _check_references(session, clean, None, errors)
    if errors:
        raise UserInputError(errors)
    product = Product(**clean)
    product.slug = await _unique_slug(session, product.name, product.sku, None)
    session.add(product)
    await session.flush()
    assert product.id is not None
    await search_outbox.enqueue(session, [product.id])
    return product


async def get_live_product(session: AsyncSession, product_id: int) -> Product:
    product = await session.get(Product, product_id)
    if product is None or product.deleted_at is not None:
        raise UserInputError.single("id", ErrorCode.NOT_FOUND, "Product not found.")
    return product


async def update_product(session: AsyncSession, product_id: int, values: dict[str, Any]) -> Product:
    product = await get_live_product(session, product_id)
    clean, errors = _validate(values, creating=False)
    if not errors:
        await _check_references(session, clean, product_id, errors)
    if errors:
        raise UserInputError(errors)
    for name, value in clean.items():
        setattr(product, name, value)
    if "name" in clean:
        product.slug = await _unique_slug(session, product.name, product.sku, product_id)
    product.updated_at = utcnow()
    session.add(product)
    await session.flush()
    assert product.id is not None
    await search_outbox.enqueue(session, [product.id])
    return product


async def delete_product(session: AsyncSession, product_id: int) -> Product:
    product = await get_live_product(session, product_id)
    product.deleted_at = utcnow()
    product.updated_at = product.deleted_at
    session.add(product)
    await session.flush()
    assert product.id is not None
    await search_outbox.enqueue(session, [product.id])
    return product
