"""Per-request DataLoaders for orders: one query per relation per request, whatever the page size."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader

from graphql_api.accounts.models import User
from graphql_api.core.database import Database
from graphql_api.orders import service
from graphql_api.orders.service import OrderLineRecord, OrderRecord, StatusChangeRecord

T = TypeVar("T")
_users = User.__table__  # type: ignore[attr-defined]


class OrderLoaders:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Batch functions on an object of their own, as in catalog/loaders.py: no cycle.
        batches = _Batches(db)
        self.order: DataLoader[int, OrderRecord | None] = DataLoader(batches.orders)
        self.lines: DataLoader[int, list[OrderLineRecord]] = DataLoader(batches.lines)
        self.history: DataLoader[int, list[StatusChangeRecord]] = DataLoader(batches.history)
        self.customer: DataLoader[int, User | None] = DataLoader(batches.customers)


class _Batches:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self.db.read() as conn:
            return await work(conn)

    async def orders(self, ids: Sequence[int]) -> list[OrderRecord | None]:
        found = await self._read(lambda c: service.orders_by_ids(c, list(ids)))
        return [found.get(i) for i in ids]

    async def lines(self, ids: Sequence[int]) -> list[list[OrderLineRecord]]:
        found = await self._read(lambda c: service.lines_of(c, list(ids)))
        return [found[i] for i in ids]

    async def history(self, ids: Sequence[int]) -> list[list[StatusChangeRecord]]:
        found = await self._read(lambda c: service.history_of(c, list(ids)))
        return [found[i] for i in ids]

    async def customers(self, ids: Sequence[int]) -> list[User | None]:
        async def read(conn: AsyncConnection) -> dict[int, User]:
            rows = await conn.execute(select(_users).where(_users.c.id.in_(list(ids))))
            return {row.id: User.model_validate(dict(row._mapping)) for row in rows}

        found = await self._read(read)
        return [found.get(i) for i in ids]
