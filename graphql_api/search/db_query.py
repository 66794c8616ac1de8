"""The search's SQL that does not depend on the text index: filters, sorts and the grouped count
behind the facets, over the rows a text index matched (`Matched`), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Table,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_api.catalog.models import Category
from graphql_api.search.port import (
    PRICE_RANGES,
    FacetBucket,
    Facets,
    PriceBucket,
    SearchFilter,
    SearchSort,
)
from graphql_api.search.text import fold

C = Category.__table__  # type: ignore[attr-defined]
BRAND_FACET_SIZE = 50


@dataclass(frozen=True)
class Matched:
    """What a search reads: rows of `docs` from `source` under `conditions`, and their score."""

    docs: Table
    source: FromClause
    conditions: list[ColumnElement[bool]]
    score: ColumnElement[float] | None


async def brand_variants(conn: AsyncConnection, brands: Sequence[str]) -> list[str] | None:
    """The brands as stored that fold to one of `brands` (None: no brand filter). Folding in
    Python, for the filter here and for the facet counts alike, keeps the two in agreement."""
    if not brands:
        return None
    wanted = {fold(b) for b in brands}
    rows = await conn.execute(text(
        """
        WITH RECURSIVE brands(brand) AS (
            SELECT min(brand) FROM product
            UNION ALL
            SELECT (SELECT min(p.brand) FROM product p WHERE p.brand > b.brand)
            FROM brands b WHERE b.brand IS NOT NULL
        )
        SELECT brand FROM brands WHERE brand IS NOT NULL
        """
    ))
    return [b for (b,) in rows if fold(b) in wanted]


# --- filters, sorts and facets -------------------------------------------------------------------


def _category_condition(t: Table, slugs: Sequence[str]) -> ColumnElement[bool]:
    return t.c.category_id.in_(select(C.c.id).where(C.c.slug.in_(list(slugs))).scalar_subquery())


def _brand_condition(t: Table, variants: list[str]) -> ColumnElement[bool]:
    return t.c.brand.in_(variants) if variants else false()


def _price_condition(t: Table, f: SearchFilter) -> ColumnElement[bool] | None:
    parts = []
    if f.min_price is not None:
        parts.append(t.c.price >= f.min_price)
    if f.max_price is not None:
        parts.append(t.c.price <= f.max_price)
    return and_(*parts) if parts else None


def _has_tag(t: Table, dialect: str, tag: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return type_coerce(t.c.tags, JSONB).contains([tag])  # `@>`, as catalog listings do
    each = func.json_each(t.c.tags).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(each.c.value == tag))


def _common_filters(t: Table, f: SearchFilter, dialect: str) -> list[ColumnElement[bool]]:
    """The fields no facet leaves out."""
    out: list[ColumnElement[bool]] = []
    if f.in_stock is True:
        out.append(t.c.stock > 0)
    elif f.in_stock is False:
        out.append(t.c.stock <= 0)
    out.extend(_has_tag(t, dialect, tag.strip().lower()) for tag in f.tags)
    if f.min_rating is not None:
        out.append(t.c.rating >= f.min_rating)
    return out


def filters(t: Table, f: SearchFilter, brands: list[str] | None, dialect: str
             ) -> list[ColumnElement[bool]]:
    out = _common_filters(t, f, dialect)
    if f.category_slugs:
        out.append(_category_condition(t, f.category_slugs))
    if brands is not None:
        out.append(_brand_condition(t, brands))
    if (price := _price_condition(t, f)) is not None:
        out.append(price)
    return out


def order(t: Table, sort: SearchSort) -> list[tuple[ColumnElement[Any], bool]]:
    """The sort keys, each with whether it descends; relevance puts the score before these."""
    if sort is SearchSort.PRICE_ASC:
        return [(t.c.price, False), (t.c.id, False)]
    if sort is SearchSort.PRICE_DESC:
        return [(t.c.price, True), (t.c.id, True)]
    if sort is SearchSort.RATING:
        return [(t.c.rating, True), (t.c.id, True)]
    if sort is SearchSort.NEWEST:
        return [(t.c.created_at, True), (t.c.id, True)]
    return [(t.c.rating, True), (t.c.stock, True), (t.c.id, True)]


def _contiguous(ranges: Sequence[tuple[Decimal | None, Decimal | None]]) -> bool:
    return (ranges[0][0] is None and ranges[-1][1] is None
            and all(a[1] == b[0] for a, b in itertools.pairwise(ranges)))


def _bucket(t: Table, dialect: str) -> ColumnElement[Any]:
    """The index of the PRICE_RANGES bucket a product falls in ([min, max))."""
    if dialect == "postgresql" and _contiguous(PRICE_RANGES):
        # One call instead of a CASE of comparisons: numeric comparisons cost, at 100k rows.
        bounds = ", ".join(str(high) for _, high in PRICE_RANGES[:-1])
        return func.width_bucket(t.c.price, literal_column(f"CAST(ARRAY[{bounds}] AS numeric[])"))
    whens = []
    for i, (low, high) in enumerate(PRICE_RANGES):
        parts = []
        if low is not None:
            parts.append(t.c.price >= low)
        if high is not None:
            parts.append(t.c.price < high)
        whens.append((and_(*parts) if parts else true(), i))
    return case(*whens, else_=None)


async def count(conn: AsyncConnection, f: SearchFilter, matched: Matched,
                 brands: list[str] | None) -> tuple[Facets | None, int]:
    stmt = select(func.count()).select_from(matched.source).where(
        *matched.conditions, *filters(matched.docs, f, brands, conn.dialect.name))
    return None, int(await conn.scalar(stmt) or 0)


async def count_facets(conn: AsyncConnection, f: SearchFilter, matched: Matched,
                  brands: list[str] | None) -> tuple[Facets | None, int]:
    """Every facet and the total from one grouped count.

    Rows are counted by (category, brand, price bucket, within the price filter) under the query
    and the fields no facet leaves out; each facet then adds up the groups that pass the other
    two of category, brand and price, exactly the filter a client gets by adding that bucket.
    """
    t = matched.docs
    price = _price_condition(t, f)
    checks = []
    if f.category_slugs:
        checks.append(_category_condition(t, f.category_slugs))
    if brands is not None:
        checks.append(_brand_condition(t, brands))
    if price is not None:
        checks.append(price)
    narrowing: list[ColumnElement[bool]] = []
    if len(checks) == 2:  # a row must pass one of the two to count anywhere
        narrowing.append(or_(*checks))
    elif len(checks) == 3:  # ... two of the three
        a, b, c = checks
        narrowing.append(or_(and_(a, b), and_(a, c), and_(b, c)))
    in_price = (case((price, 1), else_=0) if price is not None else literal(1)).label("in_price")
    bucket = _bucket(t, conn.dialect.name).label("bucket")
    grouped = (
        select(t.c.category_id, t.c.brand, bucket, in_price, func.count().label("n"))
        .select_from(matched.source)
        .where(*matched.conditions, *_common_filters(t, f, conn.dialect.name), *narrowing)
        .group_by(t.c.category_id, t.c.brand, bucket, in_price)
    ).subquery("grouped")
    # Categories joined to the few groups, not to every product: grouping on narrow keys.
    g = grouped.c
    stmt = select(C.c.slug, C.c.name, g.brand, g.bucket, g.in_price, g.n).select_from(
        grouped.outerjoin(C, C.c.id == g.category_id))
    slugs = set(f.category_slugs)
    wanted = {fold(b) for b in f.brands}
    categories: Counter[tuple[str, str]] = Counter()
    brand_counts: Counter[str] = Counter()
    prices: Counter[int] = Counter()
    total = 0
    for slug, name, brand, bucket_index, price_ok, n in await conn.execute(stmt):
        category_ok = not slugs or slug in slugs
        brand_ok = not wanted or (brand is not None and fold(brand) in wanted)
        if brand_ok and price_ok and slug is not None:
            categories[(slug, name)] += n
        if category_ok and price_ok and brand is not None:
            brand_counts[brand] += n
        if category_ok and brand_ok and bucket_index is not None:
            prices[bucket_index] += n
        if category_ok and brand_ok and price_ok:
            total += n
    result = Facets(
        categories=tuple(
            FacetBucket(value=slug, count=n, label=name)
            for (slug, name), n in sorted(categories.items(), key=lambda kv: (-kv[1], kv[0][0]))
        ),
        brands=tuple(
            FacetBucket(value=b, count=n)
            for b, n in sorted(brand_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:BRAND_FACET_SIZE]
        ),
        price_ranges=tuple(
            PriceBucket(min=low, max=high, count=prices[i])
            for i, (low, high) in enumerate(PRICE_RANGES)
        ),
    )
    return result, total


def finite(value: Any) -> float:
    number = float(value or 0.0)
    return number if math.isfinite(number) else 0.0
