"""Product reviews: one per customer and product, kept in step with the product's rating.

Writes lock the product row first, so concurrent reviews of one product recompute its rating one
after the other, each seeing the others' committed reviews. No GraphQL here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, any_, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from graphql_api.accounts.models import User
from graphql_api.catalog.models import Product, Review
from graphql_api.core import driver_reads
from graphql_api.core.errors import ErrorCode, UserError, UserInputError
from graphql_api.core.pagination import (
    KeyColumn,
    Page,
    PageArgs,
    SortKey,
    build_page,
    decode_cursor,
    keyset_params,
    keyset_shape,
    keyset_template,
)
from graphql_api.core.sql import shaped_statement
from graphql_api.orders.purchases import has_paid_purchase
from graphql_api.search import outbox as search_outbox

MIN_RATING, MAX_RATING = 1, 5
MAX_TITLE = 200
MAX_BODY = 5000


@dataclass(slots=True)
class ReviewRecord:
    """A review as readers see it: the author by display name only, nothing private."""

    id: int
    product_id: int
    rating: int
    title: str
    body: str
    verified_purchase: bool
    created_at: datetime
    author_name: str


@dataclass(frozen=True)
class ReviewInput:
    product_id: int | None  # None: the ID named no product
    rating: int
    title: str
    body: str = ""


_review = Review.__table__  # type: ignore[attr-defined]
_user = User.__table__  # type: ignore[attr-defined]
_product = Product.__table__  # type: ignore[attr-defined]

NEWEST_FIRST = SortKey(
    columns=[KeyColumn(_review.c.created_at, datetime), KeyColumn(_review.c.id, int)],
    descending=True,
)


def _select_reviews() -> Select[Any]:
    """The columns of ReviewRecord, in its order, of reviews of live products."""
    return (
        select(
            _review.c.id, _review.c.product_id, _review.c.rating, _review.c.title, _review.c.body,
            _review.c.verified_purchase, _review.c.created_at, _user.c.name.label("author_name"),
        )
        .join(_user, _user.c.id == _review.c.user_id)
        .join(_product, _product.c.id == _review.c.product_id)
        .where(_product.c.deleted_at.is_(None))
    )


def _cursor_values(review: ReviewRecord) -> list[Any]:
    return [review.created_at, review.id]


def validated_page(page: PageArgs, max_size: int) -> PageArgs:
    """`page` with its size and cursor checked before it joins a batch: a bad cursor then fails
    the one field that passed it, not every product's reviews loaded with it."""
    page = page.validated(max_size)
    for cursor in (page.after, page.before):
        if cursor is not None:
            decode_cursor(cursor, NEWEST_FIRST)
    return page


# --- reads --------------------------------------------------------------------------------------


async def reviews_by_ids(conn: AsyncConnection, ids: list[int]) -> dict[int, ReviewRecord]:
    rows = await conn.execute(_select_reviews().where(_review.c.id.in_(ids)))
    return {r.id: r for r in (ReviewRecord(*row) for row in rows)}


def _review_pages_statement(dialect: str, page: PageArgs) -> Select[Any]:
    """The page's window statement, built once per shape (dialect, direction, cursor or not):
    building it and its SQLAlchemy cache key per request was a third of a detail page's CPU."""
    return shaped_statement(("review_pages", dialect, *keyset_shape(page)),
                            lambda: _build_review_pages(dialect, page))


def _build_review_pages(dialect: str, page: PageArgs) -> Select[Any]:
    if dialect == "postgresql":  # one array parameter: one statement text for any number of ids
        of_products = _review.c.product_id == any_(
            bindparam("product_ids", type_=postgresql.ARRAY(Integer)))
    else:
        of_products = _review.c.product_id.in_(bindparam("product_ids", expanding=True))
    # keyset_template contributes the cursor's condition; the window replaces its order, and
    # its limit parameter (size + 1) bounds each product's rows instead.
    matching = keyset_template(_select_reviews().where(of_products), NEWEST_FIRST, page
                               ).order_by(None).limit(None)
    walk = [_review.c.created_at, _review.c.id]
    order = [c.asc() for c in walk] if page.backwards else [c.desc() for c in walk]
    position = func.row_number().over(partition_by=_review.c.product_id, order_by=order)
    ranked = matching.add_columns(position.label("position")).subquery()
    return (
        select(*(c for c in ranked.c if c.name != "position"))
        .where(ranked.c.position <= bindparam("keyset_limit", type_=Integer))
        .order_by(ranked.c.product_id, ranked.c.position)
    )


async def review_pages(
    conn: AsyncConnection, product_ids: Sequence[int], page: PageArgs
) -> dict[int, Page[ReviewRecord]]:
    """The same page of reviews of each product, in one statement: the rows are numbered per
    product in the walk's order and the first `size + 1` of each are kept."""
    ids = sorted(set(product_ids))
    params = {**keyset_params(NEWEST_FIRST, page), "product_ids": ids}
    stmt = _review_pages_statement(conn.dialect.name, page)
    rows: dict[int, list[ReviewRecord]] = {pid: [] for pid in ids}
    for record in (ReviewRecord(*row) for row in await driver_reads.fetch(conn, stmt, params)):
        rows[record.product_id].append(record)
    return {pid: build_page(found, page, _cursor_values) for pid, found in rows.items()}


# --- writes -------------------------------------------------------------------------------------


def _validated(data: ReviewInput) -> tuple[ReviewInput, list[UserError]]:
    errors: list[UserError] = []

    def err(name: str, code: ErrorCode, message: str) -> None:
        errors.append(UserError(field=[name], code=code, message=message))

    if not MIN_RATING <= data.rating <= MAX_RATING:
        err("rating", ErrorCode.OUT_OF_RANGE, f"Rating must be between {MIN_RATING} and {MAX_RATING}.")
    title, body = data.title.strip(), data.body.strip()
    if not title:
        err("title", ErrorCode.REQUIRED, "Title cannot be blank.")
    elif len(title) > MAX_TITLE:
        err("title", ErrorCode.TOO_LONG, f"Title must be at most {MAX_TITLE} characters.")
    if len(body) > MAX_BODY:
        err("body", ErrorCode.TOO_LONG, f"Body must be at most {MAX_BODY} characters.")
    return ReviewInput(data.product_id, data.rating, title, body), errors


async def _lock_product(session: AsyncSession, product_id: int, live: bool = True) -> bool:
    """Lock the product row for the rest of the transaction (rating writes queue behind it).
    SQLite has no row locks and needs none: it runs one write transaction at a time."""
    stmt = select(col(Product.id)).where(col(Product.id) == product_id).with_for_update()
    if live:
        stmt = stmt.where(col(Product.deleted_at).is_(None))
    return await session.scalar(stmt) is not None


async def _refresh_rating(session: AsyncSession, product_id: int) -> None:
    """Recompute the product's rating and review count from its reviews, in this transaction."""
    of_product = col(Review.product_id) == product_id
    average = select(func.round(func.avg(col(Review.rating)), 2)).where(of_product)
    count = select(func.count()).select_from(Review).where(of_product)
    stmt = (
        update(Product)
        .where(col(Product.id) == product_id)
        .values(rating=func.coalesce(average.scalar_subquery(), 0),
                review_count=count.scalar_subquery())
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)
    await search_outbox.enqueue(session, [product_id])  # rating is searched, sorted and filtered


async def create_review(session: AsyncSession, user_id: int, data: ReviewInput) -> Review:
    data, errors = _validated(data)
    product_id = data.product_id
    if product_id is None or not await _lock_product(session, product_id):
        errors.append(UserError(field=["productId"], code=ErrorCode.NOT_FOUND,
                                message="Product not found."))
    if errors:
        raise UserInputError(errors)
    assert product_id is not None
    mine = select(col(Review.id)).where(col(Review.product_id) == product_id,
                                        col(Review.user_id) == user_id)
    if await session.scalar(mine) is not None:
        raise UserInputError.single("productId", ErrorCode.DUPLICATE,
                                    "You have already reviewed this product.")
    review = Review(
        product_id=product_id, user_id=user_id, rating=data.rating, title=data.title,
        body=data.body, verified_purchase=await has_paid_purchase(session, user_id, product_id),
    )
    session.add(review)
    # A concurrent review by the same user fails here on the unique constraint (DUPLICATE).
    await session.flush()
    await _refresh_rating(session, product_id)
    return review


async def delete_review(session: AsyncSession, review_id: int, user_id: int, is_admin: bool) -> int:
    """Delete a review by its author or an admin; returns its product's id.

    Anyone else is told it does not exist: whether a review is someone else's is not revealed.
    """
    review = await session.get(Review, review_id)
    if review is None or not (is_admin or review.user_id == user_id):
        raise _review_not_found()
    product_id = review.product_id
    await _lock_product(session, product_id, live=False)
    deleted = await session.execute(
        delete(Review).where(col(Review.id) == review_id)
        .execution_options(synchronize_session=False)
    )
    if deleted.rowcount == 0:  # type: ignore[attr-defined]
        raise _review_not_found()  # a concurrent delete won
    await _refresh_rating(session, product_id)
    return product_id


def _review_not_found() -> UserInputError:
    return UserInputError.single("id", ErrorCode.NOT_FOUND, "Review not found.")
