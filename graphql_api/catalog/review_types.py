"""GraphQL types and operations of reviews and wishlists; thin over their services and loaders.

Reviews hang off `Product`, which public (and whole-response cached) queries reach: a review
shows its author by display name only, and every review write is a catalog change.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api.accounts.models import Role, User
from graphql_api.accounts.permissions import require_user
from graphql_api.catalog import reviews, wishlists
from graphql_api.catalog.loaders import ReviewPageKey
from graphql_api.catalog.records import ProductRecord
from graphql_api.catalog.reviews import ReviewInput, ReviewRecord
from graphql_api.catalog.types import Product
from graphql_api.core.errors import BadUserInput, UserError
from graphql_api.core.events import PRODUCT_CHANGED
from graphql_api.core.ids import decode_pk, to_global_id
from graphql_api.core.mutations import in_transaction
from graphql_api.core.pagination import Connection, PageArgs, to_connection
from graphql_api.core.scalars import Node


@strawberry.type(description="A customer's review of a product.")
class Review(Node):
    rating: int = strawberry.field(description="From 1 to 5.")
    title: str
    body: str
    verified_purchase: bool = strawberry.field(
        description="The author had a paid order of this product when writing the review."
    )
    created_at: datetime
    author_name: str = strawberry.field(description="The author's display name.")
    record: strawberry.Private[ReviewRecord]

    @classmethod
    def from_record(cls, r: ReviewRecord) -> Review:
        return cls(
            id=strawberry.ID(to_global_id("Review", r.id)),
            rating=r.rating,
            title=r.title,
            body=r.body,
            verified_purchase=r.verified_purchase,
            created_at=r.created_at,
            author_name=r.author_name,
            record=r,
        )

    @strawberry.field(description="Null once the product is deleted.")
    async def product(self, info: Info) -> Product | None:
        record = await info.context.catalog.product.load(self.record.product_id)
        return None if record is None else Product.from_record(record)


async def product_reviews(info: Info, product: ProductRecord, page: PageArgs) -> Connection[Review]:
    """`Product.reviews`: newest first, batched with the other products' reviews of the page."""
    page = reviews.validated_page(page, info.context.resources.settings.max_page_size)
    result = await info.context.catalog.review_page.load(ReviewPageKey(product.id, page))
    total = product.review_count  # kept by every review write, in the same transaction

    async def count_total() -> int:
        return total

    return to_connection(result, Review.from_record, count_total)


async def resolve_review_node(info: Info, pk: int) -> Review | None:
    record = await info.context.catalog.review.load(pk)
    return None if record is None else Review.from_record(record)


# --- review mutations ---------------------------------------------------------------------------


@strawberry.input
class ReviewCreateInput:
    product_id: strawberry.ID
    rating: int = strawberry.field(description="From 1 to 5.")
    title: str = strawberry.field(description="1 to 200 characters.")
    body: str = strawberry.field(default="", description="At most 5000 characters.")


@strawberry.type
class ReviewCreatePayload:
    review: Review | None
    user_errors: list[UserError]


@strawberry.type
class ReviewDeletePayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


def _user_id(user: User) -> int:
    assert user.id is not None  # a stored user always has one
    return user.id


async def _product_changed(info: Info, product_id: int) -> None:
    # The rating and review count changed: the catalog caches and cached responses must go.
    await info.context.resources.events.emit(PRODUCT_CHANGED, {"id": product_id, "op": "update"})


@strawberry.type
class ReviewMutation:
    @strawberry.mutation(description="Review a product, once per customer and product.")
    async def review_create(self, info: Info, input: ReviewCreateInput) -> ReviewCreatePayload:
        user = await require_user(info)
        user_id = _user_id(user)
        data = ReviewInput(decode_pk(input.product_id, "Product"), input.rating, input.title,
                           input.body)
        review, errors = await in_transaction(
            info.context.resources.db, lambda s: reviews.create_review(s, user_id, data)
        )
        if review is None:
            return ReviewCreatePayload(review=None, user_errors=errors)
        assert review.id is not None
        await _product_changed(info, review.product_id)
        record = ReviewRecord(
            id=review.id, product_id=review.product_id, rating=review.rating, title=review.title,
            body=review.body, verified_purchase=review.verified_purchase,
            created_at=review.created_at, author_name=user.name,
        )
        return ReviewCreatePayload(review=Review.from_record(record), user_errors=[])

    @strawberry.mutation(description="Delete a review: its author or an admin.")
    async def review_delete(self, info: Info, id: strawberry.ID) -> ReviewDeletePayload:
        user = await require_user(info)
        pk = decode_pk(id, "Review")
        if pk is None:
            raise BadUserInput("Not a Review ID.", field="id")
        user_id, is_admin = _user_id(user), Role(user.role).is_admin
        product_id, errors = await in_transaction(
            info.context.resources.db, lambda s: reviews.delete_review(s, pk, user_id, is_admin)
        )
        if product_id is None:
            return ReviewDeletePayload(deleted_id=None, user_errors=errors)
        await _product_changed(info, product_id)
        return ReviewDeletePayload(deleted_id=id, user_errors=[])


# --- wishlists ----------------------------------------------------------------------------------


@strawberry.type
class WishlistQuery:
    @strawberry.field(description="The caller's wishlisted products, newest added first.")
    async def wishlist(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Product]:
        user_id = _user_id(await require_user(info))
        db = info.context.resources.db
        page = PageArgs(first, after, last, before).validated(
            info.context.resources.settings.max_page_size
        )
        async with db.read() as conn:
            result = await wishlists.wishlist_page(conn, user_id, page)

        async def count_total() -> int:
            async with db.read() as conn:
                return await wishlists.wishlist_count(conn, user_id)

        return to_connection(result, lambda entry: Product.from_record(entry.product), count_total)


@strawberry.input
class WishlistAddInput:
    product_id: strawberry.ID


@strawberry.input
class WishlistRemoveInput:
    product_id: strawberry.ID


@strawberry.type
class WishlistAddPayload:
    product: Product | None
    user_errors: list[UserError]


@strawberry.type
class WishlistRemovePayload:
    product: Product | None
    user_errors: list[UserError]


@strawberry.type
class WishlistMutation:
    @strawberry.mutation(description="Keep a product in the caller's wishlist; adding it again is a no-op.")
    async def wishlist_add(self, info: Info, input: WishlistAddInput) -> WishlistAddPayload:
        user_id = _user_id(await require_user(info))
        product_id = decode_pk(input.product_id, "Product")
        product, errors = await in_transaction(
            info.context.resources.db, lambda s: wishlists.add(s, user_id, product_id)
        )
        if product is None:
            return WishlistAddPayload(product=None, user_errors=errors)
        return WishlistAddPayload(product=Product.from_record(ProductRecord.from_model(product)),
                                  user_errors=[])

    @strawberry.mutation(description="Take a product out of the caller's wishlist.")
    async def wishlist_remove(self, info: Info, input: WishlistRemoveInput) -> WishlistRemovePayload:
        user_id = _user_id(await require_user(info))
        product_id = decode_pk(input.product_id, "Product")
        product, errors = await in_transaction(
            info.context.resources.db, lambda s: wishlists.remove(s, user_id, product_id)
        )
        if product is None:
            return WishlistRemovePayload(product=None, user_errors=errors)
        return WishlistRemovePayload(product=Product.from_record(ProductRecord.from_model(product)),
                                     user_errors=[])
