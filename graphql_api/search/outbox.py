"""The search outbox: product changes the index has yet to take, written in the same
transaction as the change itself, so none is lost while Elasticsearch is away.

Writers call `enqueue` inside their transaction; the `index_search` job drains the outbox in
order (`search/indexing.py`). A row names a product, not its state: the drain indexes the
product as it is then, so a product changed twice while Elasticsearch was down ends indexed in
its latest state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Column, Integer
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from graphql_api.core.models import TimestampType, utcnow


class SearchOutbox(SQLModel, table=True):
    __tablename__ = "search_outbox"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)


_outbox = SearchOutbox.__table__  # type: ignore[attr-defined]


async def enqueue(session: AsyncSession, product_ids: Iterable[int]) -> None:
    """Note, in the caller's transaction, that these products changed."""
    now = utcnow()
    rows = [{"product_id": pid, "created_at": now} for pid in sorted(set(product_ids))]
    if rows:
        await session.execute(_outbox.insert(), rows)
