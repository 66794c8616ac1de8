"""Draining the search outbox into the primary index, in order, batch by batch."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select

from graphql_api.catalog.reads import invalidate_catalog
from graphql_api.core.resources import Resources
from graphql_api.search.engine import SearchEngine
from graphql_api.search.outbox import SearchOutbox

log = logging.getLogger(__name__)

BATCH = 500
_outbox = SearchOutbox.__table__  # type: ignore[attr-defined]


async def drain_outbox(resources: Resources, engine: SearchEngine) -> int:
    """Index the products the outbox names, oldest first; each batch's rows go only once the
    index has taken it, so an outage leaves them for the next drain (SearchUnavailable is raised
    to the job runner, which logs it). Two drains at once only index a product twice."""
    drained = 0
    while True:
        async with resources.db.read() as conn:
            rows = (await conn.execute(select(_outbox.c.id, _outbox.c.product_id)
                                       .order_by(_outbox.c.id).limit(BATCH))).all()
        if not rows:
            if drained and engine.indexes_apart:
                # A search between the write and this indexing may have cached the index's old
                # answer under the write's new generation: retire it.
                await invalidate_catalog(resources)
            return drained
        await engine.index(sorted({row.product_id for row in rows}))
        async with resources.db.transaction() as session:
            await session.execute(delete(_outbox).where(_outbox.c.id <= rows[-1].id))
        drained += len(rows)


async def pending(resources: Resources) -> bool:
    async with resources.db.read() as conn:
        return (await conn.execute(select(_outbox.c.id).limit(1))).first() is not None
