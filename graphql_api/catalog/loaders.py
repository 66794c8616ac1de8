"""Per-request DataLoaders for catalog relations: one query (or cache read) per relation per request."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from graphql_api.catalog import reviews
from graphql_api.catalog.reads import CatalogReads
from graphql_api.catalog.records import CategoryRecord, ProductRecord
from graphql_api.catalog.reviews import ReviewRecord
from graphql_api.core.pagination import Page, PageArgs


@dataclass(frozen=True)
class ReviewPageKey:
    product_id: int
    page: PageArgs  # validated (cursor included): equal arguments, equal keys


class CatalogLoaders:
    def __init__(self, reads: CatalogReads) -> None:
        self.reads = reads
        # The batch functions live on an object of their own: bound methods of this one would
        # make each loader and this object a reference cycle, so every request's loaders, their
        # futures and the records they cached would wait for the cycle collector (a gen-0 pass
        # of ~45,000 such objects took 55-70 ms every few hundred requests).
        batches = _Batches(reads)
        self.category = DataLoader(batches.categories)
        self.product = DataLoader(batches.products)
        self.category_product_count = DataLoader(batches.category_counts)
        # Reviews are read from the database, not the catalog cache: one statement per batch.
        self.review = DataLoader(batches.reviews)
        self.review_page = DataLoader(batches.review_pages)


class _Batches:
    def __init__(self, reads: CatalogReads) -> None:
        self.reads = reads

    async def categories(self, ids: Sequence[int]) -> list[CategoryRecord | None]:
        by_id = await self.reads.categories_by_ids(list(ids))
        return [by_id.get(i) for i in ids]

    async def products(self, ids: Sequence[int]) -> list[ProductRecord | None]:
        found = await self.reads.products_by_ids(list(ids))
        return [found.get(i) for i in ids]

    async def category_counts(self, ids: Sequence[int]) -> list[int]:
        counts = await self.reads.category_counts()
        return [counts.get(i, 0) for i in ids]

    async def reviews(self, ids: Sequence[int]) -> list[ReviewRecord | None]:
        async with self.reads.resources.db.read() as conn:
            found = await reviews.reviews_by_ids(conn, list(ids))
        return [found.get(i) for i in ids]

    async def review_pages(self, keys: Sequence[ReviewPageKey]) -> list[Page[ReviewRecord]]:
        """One statement per distinct page arguments (a listing asks the same of every product)."""
        products_by_page: dict[PageArgs, list[int]] = defaultdict(list)
        for key in keys:
            products_by_page[key.page].append(key.product_id)
        found: dict[ReviewPageKey, Page[ReviewRecord]] = {}
        async with self.reads.resources.db.read() as conn:
            for page, product_ids in products_by_page.items():
                pages = await reviews.review_pages(conn, product_ids, page)
                for product_id, result in pages.items():
                    found[ReviewPageKey(product_id, page)] = result
        return [found[key] for key in keys]
