"""Idempotent loading of the demo catalog, on SQLite and PostgreSQL alike.

Re-running only adds what is missing: categories are matched by slug and products by SKU, so
seeding 1,000 products and later 100,000 with the same seed tops the catalog up consistently.
Plain SELECT-then-INSERT keeps it dialect-agnostic (no ON CONFLICT); a concurrent seeder that
wins a race is handled by re-reading and retrying the affected step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from graphql_api.catalog.demo import DemoProduct, demo_categories, demo_product, demo_sku
from graphql_api.catalog.models import Category, Product
from graphql_api.core.database import Database

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
# Fixed, so the same seed always produces the same rows; CREATED_AT spreads over the prior year.
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = 365 * 24 * 3600
_ATTEMPTS = 3


def _table(model: type[SQLModel]) -> sa.Table:
    # Core statements on the bare tables skip the ORM's per-row overhead in bulk inserts.
    table = sa.inspect(model).local_table
    assert isinstance(table, sa.Table)
    return table


_categories = _table(Category)
_products = _table(Product)


@dataclass(frozen=True)
class SeedResult:
    categories_created: int
    products_created: int


def product_timestamps(index: int) -> tuple[datetime, datetime]:
    """Deterministic (created_at, updated_at) for the product at `index`.

    Golden-ratio (Weyl) sequences spread products evenly over the year without tying the
    creation order to the SKU order, so sorting by CREATED_AT differs from sorting by id.
    """
    age = int(((index + 1) * 0.6180339887498949) % 1.0 * _SPAN_SECONDS)
    created = BASE_TIME - timedelta(seconds=age)
    # Some time between creation and the base time: a later price or stock edit.
    edited = int((index * 0.7548776662466927) % 1.0 * age)
    return created, created + timedelta(seconds=edited)


async def seed_demo_catalog(db: Database, products: int = 1000, seed: int = 2026) -> SeedResult:
    """Insert the missing demo categories and the first `products` demo products."""
    slug_to_id, categories_created = await _ensure_categories(db)
    existing = await _existing_skus(db)
    # SKUs are cheap to derive, so a re-run never generates the products it already has.
    todo = [i for i in range(products) if demo_sku(i, seed) not in existing]
    created = 0
    inserting: asyncio.Task[int] | None = None
    try:
        for start in range(0, len(todo), BATCH_SIZE):
            chunk = todo[start : start + BATCH_SIZE]
            # Build the next batch in a thread while the previous one is written: generation is
            # CPU-bound, the insert mostly waits on the database, and the event loop stays free.
            batch = await asyncio.to_thread(_build_batch, chunk, seed)
            if inserting is not None:
                created += await inserting
            inserting = asyncio.create_task(_insert_products(db, batch, slug_to_id, existing))
        if inserting is not None:
            created += await inserting
            inserting = None
    finally:
        # Only reached with a pending insert when something failed: don't leave it running.
        if inserting is not None and not inserting.done():
            inserting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await inserting
    log.info(
        "demo catalog seeded: %d categories and %d products created",
        categories_created,
        created,
    )
    return SeedResult(categories_created=categories_created, products_created=created)


def _build_batch(indexes: list[int], seed: int) -> list[tuple[int, DemoProduct]]:
    return [(i, demo_product(i, seed)) for i in indexes]


async def _category_ids(db: Database) -> dict[str, int]:
    async with db.session() as session:
        rows = await session.execute(sa.select(_categories.c.slug, _categories.c.id))
        return {slug: id_ for slug, id_ in rows}


async def _ensure_categories(db: Database) -> tuple[dict[str, int], int]:
    """Insert the demo categories that are missing; return slug -> id and how many were added."""
    created = 0
    for attempt in range(_ATTEMPTS):
        ids = await _category_ids(db)
        missing = [c for c in demo_categories() if c.slug not in ids]
        if not missing:
            return ids, created
        rows = [
            {
                "slug": c.slug,
                "name": c.name,
                "description": c.description,
                "created_at": BASE_TIME - timedelta(days=400),
            }
            for c in missing
        ]
        try:
            async with db.transaction() as session:
                await session.execute(sa.insert(_categories), rows)
        except IntegrityError:
            # Another process inserted some of them first; re-read and add the rest.
            if attempt == _ATTEMPTS - 1:
                raise
            continue
        created += len(rows)
    return await _category_ids(db), created


async def _existing_skus(db: Database) -> set[str]:
    # Soft-deleted products count as present: their SKUs are still taken.
    async with db.session() as session:
        return set((await session.scalars(sa.select(_products.c.sku))).all())


def _row(product: DemoProduct, index: int, category_id: int) -> dict[str, Any]:
    created_at, updated_at = product_timestamps(index)
    return {
        "sku": product.sku,
        "slug": product.slug,
        "name": product.name,
        "description": product.description,
        "price": product.price,
        "currency": product.currency,
        "discount_percent": product.discount_percent,
        "stock": product.stock,
        "brand": product.brand,
        "category_id": category_id,
        "tags": list(product.tags),
        "images": list(product.images),
        "rating": product.rating,
        "review_count": product.review_count,
        "created_at": created_at,
        "updated_at": updated_at,
        "deleted_at": None,
    }


async def _insert_products(
    db: Database,
    batch: list[tuple[int, DemoProduct]],
    slug_to_id: dict[str, int],
    existing: set[str],
) -> int:
    """Insert one batch in its own transaction; `existing` is updated with the new SKUs."""
    for attempt in range(_ATTEMPTS):
        rows = [_row(p, i, slug_to_id[p.category_slug]) for i, p in batch if p.sku not in existing]
        if not rows:
            return 0
        try:
            async with db.transaction() as session:
                # With RETURNING, SQLAlchemy sends an executemany as multi-row INSERTs
                # ("insertmanyvalues", compiled once): PostgreSQL's search triggers (migration
                # 0005) are statement-level, so they run once per 1,000 rows, not per product.
                await session.execute(sa.insert(_products).returning(_products.c.id), rows)
        except IntegrityError:
            # A concurrent seeder got some of these SKUs in first: drop those and retry.
            if attempt == _ATTEMPTS - 1:
                raise
            existing |= await _existing_skus(db)
            continue
        existing.update(row["sku"] for row in rows)
        return len(rows)
    return 0
