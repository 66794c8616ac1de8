"""Reads on the driver connection (graphql_api/core/driver_reads.py) give what SQLAlchemy gives:
the same rows, values and value types, for every shape of the product listing a client can ask
for (each sort, both directions, each filter, a cursor); anything else goes through SQLAlchemy.
On SQLite (the embedded run) every read goes through SQLAlchemy, which these tests check too."""

from __future__ import annotations

from dataclasses import astuple
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import literal, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError

from graphql_api.catalog import service
from graphql_api.catalog.models import Category
from graphql_api.catalog.records import product_record
from graphql_api.core import driver_reads
from graphql_api.core.pagination import PageArgs, encode_cursor
from graphql_api.core.resources import Resources

QUERIES = {
    "everything": service.ProductQuery(),
    "a brand": service.ProductQuery(brand="orbis"),
    "a tag (JSON containment, a bind processor)": service.ProductQuery(tags=("sale",)),
    "two tags": service.ProductQuery(tags=("sale", "new")),
    "price range and stock": service.ProductQuery(min_price=Decimal("10.00"),
                                                  max_price=Decimal("500"), in_stock=True),
    "name contains": service.ProductQuery(name_contains="head"),
    "name contains, with LIKE's escapes": service.ProductQuery(name_contains="100% _a"),
    "a category slug (a subquery)": service.ProductQuery(category_slug="headphones"),
}


def _typed(rows: Any) -> list[list[tuple[type, Any]]]:
    return [[(type(v), v) for v in row] for row in rows]


def _statement(query: service.ProductQuery, sort: service.ProductSort, page: PageArgs,
               dialect: str) -> Any:
    """The listing's statement and its parameters, as list_products reads them."""
    return service.listing_statement(query, sort, page, dialect)


def _on_driver(resources: Resources) -> bool:
    return resources.db.engine.dialect.driver == "asyncpg"


@pytest.mark.parametrize("field", list(service.SortField))
@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("query", list(QUERIES))
async def test_listing_rows_are_sqlalchemys(resources: Resources, field: service.SortField,
                                            descending: bool, query: str) -> None:
    db = resources.db
    sort = service.ProductSort(field, descending)
    async with db.read() as conn:
        first = PageArgs(first=3).validated(100)
        stmt, params = _statement(QUERIES[query], sort, first, db.dialect)
        ours = await driver_reads.fetch(conn, stmt, params)
        reference = (await conn.execute(stmt, params)).all()
        assert _typed(ours) == _typed(reference)
        if not reference:
            assert query == "name contains, with LIKE's escapes"  # the others find products
            return
        assert isinstance(ours[0], Row) is not _on_driver(resources)
        # The next page, after the last row's cursor (its values bound through the column types'
        # processors: UTCDateTime's for the created_at sort), and the page back from there.
        cursor = encode_cursor(sort.values(product_record(reference[-1])))
        for page in (PageArgs(first=3, after=cursor), PageArgs(last=2, before=cursor)):
            stmt, params = _statement(QUERIES[query], sort, page.validated(100), db.dialect)
            assert _typed(await driver_reads.fetch(conn, stmt, params)) == _typed(
                (await conn.execute(stmt, params)).all())


async def test_the_listing_is_read_on_the_driver_and_counted(resources: Resources,
                                                             count_statements: Any) -> None:
    stmt, params = _statement(service.ProductQuery(), service.ProductSort(),
                              PageArgs(first=20).validated(100), resources.db.dialect)
    driver_reads._PLANS.clear()  # the first read of a shape (its plan made and checked) too
    async with resources.db.read() as conn:
        with count_statements() as counted:
            rows = await driver_reads.fetch(conn, stmt, params)
    assert rows and counted.count == 1  # statement counters see driver reads too
    key = stmt._generate_cache_key()
    plan = driver_reads._PLANS.get(key.key)
    assert (plan is not None and plan.compiled is not None) is _on_driver(resources)


async def test_expanding_parameters_go_through_sqlalchemy(resources: Resources) -> None:
    async with resources.db.read() as conn:
        rows = await driver_reads.fetch(conn, service._BY_IDS.params(ids=[1, 2, 3]))
    assert len(rows) == 3 and all(isinstance(r, Row) for r in rows)


async def test_inside_a_transaction_sqlalchemy_runs_it(resources: Resources) -> None:
    """A driver call would not see the transaction's own writes; SQLAlchemy's does."""
    async with resources.db.engine.connect() as conn, conn.begin() as transaction:
        await conn.execute(Category.__table__.insert().values(  # type: ignore[attr-defined]
            name="Only in this transaction", slug="only-in-this-transaction", description=""))
        stmt = select(Category.__table__.c.slug).where(  # type: ignore[attr-defined]
            Category.__table__.c.slug == "only-in-this-transaction")  # type: ignore[attr-defined]
        assert [tuple(r) for r in await driver_reads.fetch(conn, stmt)] == [
            ("only-in-this-transaction",)]
        await transaction.rollback()


async def test_a_failing_read_fails_as_sqlalchemy_reports_it(resources: Resources) -> None:
    stmt = select(literal(1) / literal(0))
    async with resources.db.read() as conn:
        if _on_driver(resources):
            with pytest.raises(DBAPIError, match="division by zero"):
                await driver_reads.fetch(conn, stmt)
        else:  # SQLite divides by zero into NULL
            assert [tuple(r) for r in await driver_reads.fetch(conn, stmt)] == [(None,)]
    async with resources.db.read() as conn:  # and the pool still serves reads
        assert await driver_reads.fetch(conn, select(literal(7)))


async def test_products_by_ids_reads_what_the_expanding_in_reads(resources: Resources) -> None:
    """On PostgreSQL the batch read is one array parameter (`= ANY`), on the driver; it must
    find what the expanding IN finds, for missing ids and repeats too."""
    async with resources.db.read() as conn:
        ids = [r[0] for r in (await conn.execute(
            select(service.Product.id).order_by(service.Product.id).limit(8))).all()]
        asked = [*ids[::2], 10**9, ids[0]]
        found = await service.products_by_ids(conn, asked)
        reference = (await conn.execute(service._BY_IDS, {"ids": asked})).all()
    assert sorted(found) == sorted(r[0] for r in reference) == sorted(set(ids[::2]))
    assert [_typed([astuple(found[r[0]])]) for r in reference] == [
        _typed([astuple(product_record(r))]) for r in reference]


async def test_a_listing_shape_is_built_once_and_its_values_are_parameters(
        resources: Resources) -> None:
    """Two brands, two cursors: one statement object (so one SQLAlchemy cache key), and each
    page reads its own values."""
    db, sort = resources.db, service.ProductSort(service.SortField.NAME, False)
    async with db.read() as conn:
        brands = [r[0] for r in (await conn.execute(select(
            service.Product.brand).where(service.Product.brand.is_not(None)).distinct()  # type: ignore[union-attr]
            .limit(2))).all()]
        assert len(brands) == 2
        statements, pages = set(), []
        for brand in brands:
            stmt, params = _statement(service.ProductQuery(brand=brand), sort,
                                      PageArgs(first=2).validated(100), db.dialect)
            statements.add(id(stmt))
            rows = await driver_reads.fetch(conn, stmt, params)
            pages.append({product_record(r).brand for r in rows})
        assert len(statements) == 1 and pages == [{brands[0]}, {brands[1]}]
