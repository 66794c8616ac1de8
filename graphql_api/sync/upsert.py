"""Applying one page of normalised records to the catalog, in the caller's transaction.

Items are matched by (provider, external id) through `product_source`; the content hash decides
whether a known item changed. Unchanged items cost no write at all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.catalog.models import Category, Product
from graphql_api.catalog.service import slugify
from graphql_api.core.models import utcnow
from graphql_api.search import outbox as search_outbox
from graphql_api.sync.models import ProductSource
from graphql_api.sync.records import ItemError, ProductData

_products: sa.Table = Product.__table__  # type: ignore[attr-defined]
_categories: sa.Table = Category.__table__  # type: ignore[attr-defined]
_sources: sa.Table = ProductSource.__table__  # type: ignore[attr-defined]


@dataclass
class PageOutcome:
    created: list[int] = field(default_factory=list)  # product ids
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0
    errors: list[ItemError] = field(default_factory=list)

    @property
    def changed_ids(self) -> list[int]:
        return self.created + self.updated


class CategoryIds:
    """Category ids by slug for one run: each is looked up or created once."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    async def resolve(self, session: AsyncSession, names: set[str]) -> dict[str, int]:
        """{name: id} for `names`, creating the missing categories in the caller's transaction."""
        by_slug = {slugify(n)[:120]: n for n in names}
        wanted = [s for s in by_slug if s not in self._ids]
        if wanted:
            found = await session.execute(
                sa.select(_categories.c.slug, _categories.c.id).where(_categories.c.slug.in_(wanted)))
            fetched: dict[str, int] = {r[0]: r[1] for r in found}
            missing = [s for s in wanted if s not in fetched]
            if missing:
                now = utcnow()
                inserted = await session.execute(
                    _categories.insert().returning(_categories.c.slug, _categories.c.id,
                                                   sort_by_parameter_order=True),
                    [{"slug": s, "name": by_slug[s][:200], "description": "", "created_at": now}
                     for s in missing])
                fetched.update((r[0], r[1]) for r in inserted)
            self._ids.update(fetched)
        # Names that slugify alike ("Home Decoration", "home-decoration") share one category.
        return {name: self._ids[slugify(name)[:120]] for name in names}

    def forget(self) -> None:
        """After a rolled-back page: categories it created do not exist."""
        self._ids.clear()


def _columns(record: ProductData, category_id: int | None) -> dict[str, Any]:
    return {
        "sku": record.sku,
        "name": record.name,
        "description": record.description,
        "price": record.price,
        "discount_percent": record.discount_percent,
        "stock": record.stock,
        "brand": record.brand,
        "category_id": category_id,
        "tags": list(record.tags),
        "images": list(record.images),
        "rating": record.rating,
    }


async def _free_slugs(session: AsyncSession, wanted: dict[str, ProductData]) -> dict[str, str]:
    """A unique slug per SKU in `wanted`: the name's, else name-sku, else with random bits."""
    base = {sku: slugify(r.name)[:180].rstrip("-") for sku, r in wanted.items()}
    candidates = {sku: [b, f"{b}-{slugify(sku)}"] for sku, b in base.items()}
    every = {c for options in candidates.values() for c in options}
    taken = set((await session.execute(
        sa.select(_products.c.slug).where(_products.c.slug.in_(every)))).scalars())
    chosen: dict[str, str] = {}
    for sku, options in candidates.items():
        slug = next((c for c in options if c not in taken),
                    f"{options[1]}-{secrets.token_hex(4)}")
        taken.add(slug)
        chosen[sku] = slug
    return chosen


async def apply_page(session: AsyncSession, provider: str, records: list[ProductData],
                     categories: CategoryIds) -> PageOutcome:
    outcome = PageOutcome()
    by_id: dict[str, ProductData] = {}
    for record in records:
        if record.external_id in by_id:
            outcome.errors.append(ItemError(record.external_id, "listed twice: the last one wins"))
        by_id[record.external_id] = record
    if not by_id:
        return outcome
    known = {
        row.external_id: row for row in await session.execute(
            sa.select(_sources.c.external_id, _sources.c.id, _sources.c.product_id,
                      _sources.c.content_hash, _sources.c.pruned_at)
            .where(_sources.c.provider == provider, _sources.c.external_id.in_(list(by_id))))
    }
    hashes = {eid: r.content_hash() for eid, r in by_id.items()}
    fresh = [r for eid, r in by_id.items() if eid not in known]
    changed = [r for eid, r in by_id.items() if eid in known and (
        known[eid].content_hash != hashes[eid] or known[eid].pruned_at is not None)]
    outcome.unchanged = len(by_id) - len(fresh) - len(changed)
    if not fresh and not changed:
        return outcome

    names = {r.category for r in (*fresh, *changed) if r.category}
    category_ids = await categories.resolve(session, names) if names else {}
    now = utcnow()

    if fresh:
        fresh = await _without_sku_conflicts(session, fresh, outcome, known_product=None)
    if fresh:
        slugs = await _free_slugs(session, {r.sku: r for r in fresh})
        inserted = await session.execute(
            _products.insert().returning(_products.c.id, sort_by_parameter_order=True),
            [{**_columns(r, category_ids.get(r.category or "")), "slug": slugs[r.sku],
              "currency": "USD", "review_count": 0, "created_at": now, "updated_at": now}
             for r in fresh])
        ids = list(inserted.scalars())
        await session.execute(_sources.insert(), [
            {"provider": provider, "external_id": r.external_id, "product_id": pid,
             "content_hash": hashes[r.external_id], "pruned_at": None}
            for r, pid in zip(fresh, ids, strict=True)])
        outcome.created = ids

    if changed:
        changed = await _without_sku_conflicts(
            session, changed, outcome, known_product={eid: known[eid].product_id for eid in by_id
                                                      if eid in known})
    if changed:
        await _update(session, changed, known, hashes, category_ids, now)
        outcome.updated = [known[r.external_id].product_id for r in changed]

    await search_outbox.enqueue(session, outcome.changed_ids)
    return outcome


async def _without_sku_conflicts(session: AsyncSession, records: list[ProductData],
                                 outcome: PageOutcome, known_product: dict[str, int] | None
                                 ) -> list[ProductData]:
    """Records whose SKU no other product holds; the others are skipped and reported."""
    skus = [r.sku for r in records]
    holders = {r[0]: r[1] for r in await session.execute(
        sa.select(_products.c.sku, _products.c.id).where(_products.c.sku.in_(skus)))}
    kept: list[ProductData] = []
    seen: set[str] = set()
    for r in records:
        own = known_product.get(r.external_id) if known_product else None
        holder = holders.get(r.sku)
        if r.sku in seen or (holder is not None and holder != own):
            outcome.errors.append(ItemError(r.external_id, f"sku {r.sku!r} belongs to another product"))
            continue
        seen.add(r.sku)
        kept.append(r)
    return kept


async def _update(session: AsyncSession, changed: list[ProductData], known: dict[str, Any],
                  hashes: dict[str, str], category_ids: dict[str, int], now: Any) -> None:
    ids = [known[r.external_id].product_id for r in changed]
    current = {row.id: row for row in await session.execute(
        sa.select(_products.c.id, _products.c.name, _products.c.slug).where(_products.c.id.in_(ids)))}
    renamed = {r.sku: r for r in changed if current[known[r.external_id].product_id].name != r.name}
    slugs = await _free_slugs(session, renamed) if renamed else {}
    rows = []
    for r in changed:
        source = known[r.external_id]
        values = {**_columns(r, category_ids.get(r.category or "")), "updated_at": now,
                  "slug": slugs.get(r.sku, current[source.product_id].slug)}
        # Bind names must differ from the column names SET assigns.
        rows.append({"b_id": source.product_id, **{f"b_{k}": v for k, v in values.items()}})
    params: dict[str, Any] = {c[2:]: sa.bindparam(c) for c in rows[0] if c != "b_id"}
    await session.execute(
        sa.update(_products).where(_products.c.id == sa.bindparam("b_id")).values(params), rows)
    # A pruned product that came back upstream is live again.
    restored = [known[r.external_id].product_id for r in changed
                if known[r.external_id].pruned_at is not None]
    if restored:
        await session.execute(sa.update(_products).where(_products.c.id.in_(restored))
                              .values(deleted_at=None))
    await session.execute(
        sa.update(_sources).where(_sources.c.id == sa.bindparam("b_id"))
        .values(content_hash=sa.bindparam("b_hash"), pruned_at=None),
        [{"b_id": known[r.external_id].id, "b_hash": hashes[r.external_id]} for r in changed])
