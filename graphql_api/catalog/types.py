"""GraphQL types, queries and mutations of the catalog; thin over loaders and services."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.types import Info

from graphql_api.accounts.permissions import require_admin
from graphql_api.catalog import pricing, service
from graphql_api.catalog.projection import listing_columns
from graphql_api.catalog.records import NOT_READ, CategoryRecord, ProductRecord
from graphql_api.core.errors import BadUserInput, UserError
from graphql_api.core.events import PRODUCT_CHANGED
from graphql_api.core.fast_execution import READ_ORDINARILY, fast_read
from graphql_api.core.ids import decode_pk, to_global_id
from graphql_api.core.mutations import in_transaction
from graphql_api.core.pagination import Connection, PageArgs, to_connection
from graphql_api.core.scalars import Money, Node

if TYPE_CHECKING:
    from graphql_api.catalog.review_types import Review

MAX_FILTER_TEXT = 200


# The service's own enum, exposed as is: one list of sortable fields.
ProductSortField = strawberry.enum(service.SortField, name="ProductSortField")


@strawberry.enum
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input
class ProductSort:
    field: ProductSortField = service.SortField.CREATED_AT  # type: ignore[valid-type]
    direction: SortDirection = SortDirection.DESC


@strawberry.input(description="Every given field narrows the result.")
class ProductFilter:
    category_slug: str | None = None
    brand: str | None = None
    name_contains: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    tags: list[str] | None = strawberry.field(
        default=None, description="Products carrying all of these tags."
    )


@strawberry.type
class Category(Node):
    slug: str
    name: str
    description: str
    record: strawberry.Private[CategoryRecord]

    @classmethod
    def from_record(cls, record: CategoryRecord) -> Category:
        return cls(
            id=strawberry.ID(to_global_id("Category", record.id)),
            slug=record.slug,
            name=record.name,
            description=record.description,
            record=record,
        )

    @strawberry.field(description="Number of live products in this category.")
    async def product_count(self, info: Info) -> int:
        return await info.context.catalog.category_product_count.load(self.record.id)

    @strawberry.field
    async def products(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ProductFilter | None = None,
        sort_by: ProductSort | None = None,
    ) -> Connection[Product]:
        return await product_connection(
            info, PageArgs(first, after, last, before), filter, sort_by, category_id=self.record.id
        )


def _joined_category(product: Product) -> Category | object | None:
    """The category when the read joined it in (the executor's fast path completes it in place,
    no awaitable per product); READ_ORDINARILY when only the loader can tell."""
    record = product.record
    if record.category is not None:
        return Category.from_record(record.category)
    return None if record.category_id is None else READ_ORDINARILY


@strawberry.type
class Product(Node):
    sku: str
    slug: str
    name: str
    description: str
    price: Money
    discount_percent: int
    stock: int
    brand: str | None
    tags: list[str]
    images: list[str]
    rating: float
    review_count: int
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[ProductRecord]

    @classmethod
    def from_record(cls, r: ProductRecord) -> Product:
        # Every field set as the dataclass __init__ sets it (it has no defaults to fill in and
        # no __post_init__), without its keyword matching: a page makes one per product.
        product = object.__new__(cls)
        product.__dict__.update(
            id=strawberry.ID(to_global_id("Product", r.id)),
            sku=r.sku,
            slug=r.slug,
            name=r.name,
            description=r.description,
            price=Money(amount=r.price, currency=r.currency),
            discount_percent=r.discount_percent,
            stock=r.stock,
            brand=r.brand,
            tags=r.tags,
            images=r.images,
            rating=r.rating if r.rating is NOT_READ else float(r.rating),
            review_count=r.review_count,
            created_at=r.created_at,
            updated_at=r.updated_at,
            record=r,
        )
        return product

    @strawberry.field
    def in_stock(self) -> bool:
        return self.stock > 0

    @strawberry.field(description="The first image, for listings.")
    def thumbnail(self) -> str | None:
        return self.images[0] if self.images else None

    @strawberry.field(description="The price after `discountPercent`, rounded to the cent.")
    def sale_price(self) -> Money:
        return Money(amount=pricing.sale_price(self.price.amount, self.discount_percent),
                     currency=self.price.currency)

    @strawberry.field(graphql_type=Category | None, metadata=fast_read(_joined_category))
    def category(self, info: Info) -> Category | Awaitable[Category | None] | None:
        joined = _joined_category(self)
        if joined is READ_ORDINARILY:
            return _load_category(info, self.record.category_id)
        return cast("Category | None", joined)

    @strawberry.field(description="Newest first.")
    async def reviews(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Review, strawberry.lazy("graphql_api.catalog.review_types")]]:
        # review_types imports this module: a lazy type and a local import break the cycle.
        from graphql_api.catalog.review_types import product_reviews

        return await product_reviews(info, self.record, PageArgs(first, after, last, before))


async def _load_category(info: Info, category_id: int | None) -> Category | None:
    assert category_id is not None
    record = await info.context.catalog.category.load(category_id)
    return None if record is None else Category.from_record(record)


MAX_PRICE = Decimal("1e10")


def _query(filter: ProductFilter | None, category_id: int | None) -> service.ProductQuery:
    if filter is None:
        return service.ProductQuery(category_id=category_id)
    for name in ("category_slug", "brand", "name_contains"):
        value = getattr(filter, name)
        if value is not None and len(value) > MAX_FILTER_TEXT:
            raise BadUserInput(f"A filter text is at most {MAX_FILTER_TEXT} characters.")
    if filter.tags is not None and (len(filter.tags) > service.MAX_TAGS or any(
        len(t) > MAX_FILTER_TEXT for t in filter.tags
    )):
        raise BadUserInput(f"Filter by at most {service.MAX_TAGS} tags.")
    for price in (filter.min_price, filter.max_price):
        # The bound must fit the price column (10 integer digits), or PostgreSQL refuses the bind.
        if price is not None and not (price.is_finite() and abs(price) < MAX_PRICE):
            raise BadUserInput(f"Prices must be numbers below {MAX_PRICE:,f}.")
    if filter.min_price is not None and filter.max_price is not None and (
        filter.min_price > filter.max_price
    ):
        raise BadUserInput("`minPrice` must not exceed `maxPrice`.")
    return service.ProductQuery(
        category_id=category_id,
        category_slug=filter.category_slug,
        brand=filter.brand,
        name_contains=filter.name_contains,
        min_price=filter.min_price,
        max_price=filter.max_price,
        in_stock=filter.in_stock,
        tags=tuple(sorted({t.strip().lower() for t in filter.tags or [] if t.strip()})),
    )


async def product_connection(
    info: Info,
    page: PageArgs,
    filter: ProductFilter | None,
    sort_by: ProductSort | None,
    category_id: int | None = None,
) -> Connection[Product]:
    ctx = info.context
    page = page.validated(ctx.resources.settings.max_page_size)
    sort = sort_by or ProductSort()
    query = _query(filter, category_id)
    spec = service.ProductSort(sort.field, sort.direction is SortDirection.DESC)
    raw = info._raw_info
    columns = listing_columns(raw.field_nodes, raw.fragments, spec.field.value)
    result = await ctx.catalog.reads.products_page(query, spec, page, columns)
    return to_connection(
        result, Product.from_record, lambda: ctx.catalog.reads.products_count(query)
    )


async def resolve_product_node(info: Info, pk: int) -> Product | None:
    record = await info.context.catalog.product.load(pk)
    return None if record is None else Product.from_record(record)


async def resolve_category_node(info: Info, pk: int) -> Category | None:
    record = await info.context.catalog.category.load(pk)
    return None if record is None else Category.from_record(record)


@strawberry.type
class CatalogQuery:
    @strawberry.field(description="A product by exactly one of `id`, `sku` or `slug`.")
    async def product(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        sku: str | None = None,
        slug: str | None = None,
    ) -> Product | None:
        if sum(arg is not None for arg in (id, sku, slug)) != 1:
            raise BadUserInput("Pass exactly one of `id`, `sku` or `slug`.")
        if id is not None:
            pk = decode_pk(id, "Product")
            product = None if pk is None else await resolve_product_node(info, pk)
            view = f"id:{pk}"
        else:
            record = await info.context.catalog.reads.product_by(sku=sku, slug=slug)
            product = None if record is None else Product.from_record(record)
            view = f"sku:{sku}" if sku is not None else f"slug:{slug}"
        if product is not None:  # only real products enter the ranking of the most viewed
            info.context.record_view(view)
        return product

    @strawberry.field
    async def products(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ProductFilter | None = None,
        sort_by: ProductSort | None = None,
    ) -> Connection[Product]:
        return await product_connection(info, PageArgs(first, after, last, before), filter, sort_by)

    @strawberry.field(description="Every category, by name.")
    async def categories(self, info: Info) -> list[Category]:
        return [Category.from_record(c) for c in await info.context.catalog.reads.categories()]

    @strawberry.field
    async def category(self, info: Info, slug: str) -> Category | None:
        for record in await info.context.catalog.reads.categories():
            if record.slug == slug:
                return Category.from_record(record)
        return None


# --- mutations ----------------------------------------------------------------------------------


@strawberry.input
class ProductCreateInput:
    sku: str
    name: str
    price: Decimal
    description: str = ""
    stock: int = 0
    category_id: strawberry.ID | None = None
    brand: str | None = None
    tags: list[str] = strawberry.field(default_factory=list)
    images: list[str] = strawberry.field(default_factory=list)
    discount_percent: int = 0


@strawberry.input(description="Only the fields given change.")
class ProductUpdateInput:
    sku: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    price: Decimal | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    stock: int | None = strawberry.UNSET
    category_id: strawberry.ID | None = strawberry.UNSET
    brand: str | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    images: list[str] | None = strawberry.UNSET
    discount_percent: int | None = strawberry.UNSET


@strawberry.type
class ProductCreatePayload:
    product: Product | None
    user_errors: list[UserError]


@strawberry.type
class ProductUpdatePayload:
    product: Product | None
    user_errors: list[UserError]


@strawberry.type
class ProductDeletePayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


_FIELDS = ("sku", "name", "price", "description", "stock", "category_id", "brand", "tags",
           "images", "discount_percent")


def _values(data: ProductCreateInput | ProductUpdateInput) -> dict[str, Any]:
    values = {f: getattr(data, f) for f in _FIELDS if getattr(data, f) is not strawberry.UNSET}
    if values.get("category_id") is not None:
        values["category_id"] = decode_pk(values["category_id"], "Category") or -1
    return values


def _product_id(id: strawberry.ID) -> int:
    pk = decode_pk(id, "Product")
    if pk is None:
        raise BadUserInput("Not a Product ID.", field="id")
    return pk


async def _changed(info: Info, product_id: int, op: str) -> None:
    await info.context.resources.events.emit(PRODUCT_CHANGED, {"id": product_id, "op": op})


ProductId = Annotated[strawberry.ID, strawberry.argument(description="The product's global ID.")]


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(description="Admin: add a product.")
    async def product_create(
        self, info: Info, input: ProductCreateInput
    ) -> ProductCreatePayload:
        await require_admin(info)
        values = _values(input)
        product, errors = await in_transaction(
            info.context.resources.db, lambda s: service.create_product(s, values)
        )
        if product is None:
            return ProductCreatePayload(product=None, user_errors=errors)
        assert product.id is not None
        await _changed(info, product.id, "create")
        return ProductCreatePayload(
            product=Product.from_record(ProductRecord.from_model(product)), user_errors=[]
        )

    @strawberry.mutation(description="Admin: change the given fields of a product.")
    async def product_update(
        self, info: Info, id: ProductId, input: ProductUpdateInput
    ) -> ProductUpdatePayload:
        await require_admin(info)
        pk, values = _product_id(id), _values(input)
        product, errors = await in_transaction(
            info.context.resources.db, lambda s: service.update_product(s, pk, values)
        )
        if product is None:
            return ProductUpdatePayload(product=None, user_errors=errors)
        await _changed(info, pk, "update")
        return ProductUpdatePayload(
            product=Product.from_record(ProductRecord.from_model(product)), user_errors=[]
        )

    @strawberry.mutation(description="Admin: remove a product from every read (kept in the database).")
    async def product_delete(self, info: Info, id: ProductId) -> ProductDeletePayload:
        await require_admin(info)
        pk = _product_id(id)
        product, errors = await in_transaction(
            info.context.resources.db, lambda s: service.delete_product(s, pk)
        )
        if product is None:
            return ProductDeletePayload(deleted_id=None, user_errors=errors)
        await _changed(info, pk, "delete")
        return ProductDeletePayload(deleted_id=id, user_errors=[])
