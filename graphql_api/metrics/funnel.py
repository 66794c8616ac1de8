"""The funnel and the top searches, read from the event log (graphql_api/tracking).

Not cached: events arrive all the time, and both reads go along the (type, at, session_id)
index, touching only the rows of the range and types they count.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, desc, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_api.metrics.periods import DayRange, midnight
from graphql_api.tracking.models import EventType, Source, event_table

FUNNEL = (EventType.PRODUCT_VIEW, EventType.ADD_TO_CART, EventType.CHECKOUT_START,
          EventType.ORDER_PLACED)
_e = event_table.c


def _in_range(span: DayRange) -> list[Any]:
    found = []
    if span.start is not None:
        found.append(_e.at >= midnight(span.start))
    if span.end is not None:
        found.append(_e.at < midnight(span.end))
    return found


def ratio(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.000001"), ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Step:
    type: EventType
    sessions: int  # sessions with this step's event and every earlier step's
    conversion: Decimal | None  # sessions / the previous step's (None for the first, or 0 before)


async def funnel(conn: AsyncConnection, span: DayRange) -> list[Step]:
    """Sessions (ids sent by clients) through the steps in the range. A session counts at a step
    when it has that step's event and each earlier step's in the range (in any order): a closed
    funnel. One pass over the range's rows of the four types, grouped by session."""
    if span.empty:
        return [Step(t, 0, None) for t in FUNNEL]
    flags = [func.max(case((_e.type == t.value, 1), else_=0)).label(t.value.lower())
             for t in FUNNEL]
    per_session = (select(*flags)
                   .where(_e.type.in_([t.value for t in FUNNEL]), _e.session_id.is_not(None),
                          *_in_range(span))
                   .group_by(_e.session_id).subquery())
    sums: list[Any] = []
    product: Any = None
    for column in per_session.c:  # 1 when the session has this step and every earlier one
        product = column if product is None else product * column
        sums.append(func.coalesce(func.sum(product), 0))
    counts = (await conn.execute(select(*sums))).one()
    steps, previous = [], None
    for kind, count in zip(FUNNEL, counts, strict=True):
        steps.append(Step(kind, int(count), None if previous is None else ratio(count, previous)))
        previous = int(count)
    return steps


@dataclass(frozen=True, slots=True)
class SearchCount:
    query: str
    searches: int
    no_results: int  # of those, how many found nothing
    sessions: int  # distinct sessions that searched it (those that sent a session id)


async def top_searches(conn: AsyncConnection, span: DayRange, limit: int) -> list[SearchCount]:
    """The most frequent searches the server answered (folded as search folds them), most
    first, ties by query. Client-reported SEARCH events are not counted: the server records
    every search it answers, so counting both would count a search twice."""
    if span.empty:
        return []
    searches = func.count().label("searches")
    rows = await conn.execute(
        select(_e.query, searches,
               func.coalesce(func.sum(case((_e.result_count == 0, 1), else_=0)), 0),
               func.count(func.distinct(_e.session_id)))
        .where(_e.type == EventType.SEARCH.value, _e.source == Source.SERVER.value,
               _e.query.is_not(None), *_in_range(span))
        .group_by(_e.query).order_by(desc(searches), _e.query).limit(limit))
    return [SearchCount(q, int(n), int(z), int(s)) for q, n, z, s in rows]
