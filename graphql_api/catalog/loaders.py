"""Per-request DataLoaders for catalog relations: one query (or cache read) per relation per request."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from graphql_api.catalog.reads import CatalogReads
from graphql_api.catalog.records import CategoryRecord, ProductRecord


class CatalogLoaders:
    def __init__(self, reads: CatalogReads) -> None:
        self.reads = reads
        self.category = DataLoader(self._categories)
        self.product = DataLoader(self._products)
        self.category_product_count = DataLoader(self._category_counts)

    async def _categories(self, ids: Sequence[int]) -> list[CategoryRecord | None]:
        by_id = await self.reads.categories_by_ids(list(ids))
        return [by_id.get(i) for i in ids]

    async def _products(self, ids: Sequence[int]) -> list[ProductRecord | None]:
        found = await self.reads.products_by_ids(list(ids))
        return [found.get(i) for i in ids]

    async def _category_counts(self, ids: Sequence[int]) -> list[int]:
        counts = await self.reads.category_counts()
        return [counts.get(i, 0) for i in ids]
