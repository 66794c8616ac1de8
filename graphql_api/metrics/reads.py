"""Metric reads through the cache, keyed by the sales version: a write that adds sales lines
bumps it in its own transaction, so no cached answer outlives the facts it was computed from
(in every process, whichever process or command wrote)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_api.core.resources import Resources
from graphql_api.metrics import service
from graphql_api.metrics.ledger import version_table
from graphql_api.metrics.periods import DayRange, Granularity

T = TypeVar("T")


async def _through_cache(resources: Resources, suffix: str,
                         load: Callable[[AsyncConnection], Awaitable[T]],
                         encode: Callable[[T], Any], decode: Callable[[Any], T]) -> T:
    async with resources.db.read() as conn:
        version = (await conn.execute(
            select(version_table.c.version).where(version_table.c.id == 1))).scalar_one_or_none()
        key = f"metrics:{version}:{suffix}"
        hit = await resources.cache.get(key)
        if hit is not None:
            return decode(hit)
        value = await load(conn)
    await resources.cache.set(key, encode(value))
    return value


async def totals(resources: Resources, span: DayRange, country: str | None) -> service.Totals:
    return await _through_cache(
        resources, f"kpis:{span.cache_key()}:{country!r}",
        lambda conn: service.totals(conn, span, country),
        lambda t: [t.gross, t.returns, t.units, t.orders, t.customers],
        lambda v: service.Totals(*v))


async def series(resources: Resources, metric: service.SeriesMetric, granularity: Granularity,
                 span: DayRange, country: str | None) -> list[tuple[date, Decimal]]:
    return await _through_cache(
        resources, f"series:{metric.value}:{granularity.value}:{span.cache_key()}:{country!r}",
        lambda conn: service.series(conn, metric, granularity, span, country),
        lambda points: [[d.isoformat(), str(v)] for d, v in points],
        lambda v: [(date.fromisoformat(d), Decimal(x)) for d, x in v])


def _encode_ranked(rows: list[service.Ranked]) -> list[list[Any]]:
    return [[r.key, r.revenue, r.units, r.orders, None if r.share is None else str(r.share),
             r.description] for r in rows]


def _decode_ranked(rows: list[list[Any]]) -> list[service.Ranked]:
    return [service.Ranked(k, rev, u, o, None if s is None else Decimal(s), d)
            for k, rev, u, o, s, d in rows]


async def top_countries(resources: Resources, by: service.Measure, limit: int, span: DayRange
                        ) -> list[service.Ranked]:
    return await _through_cache(
        resources, f"countries:{by.value}:{limit}:{span.cache_key()}",
        lambda conn: service.top_countries(conn, by, limit, span), _encode_ranked, _decode_ranked)


async def top_products(resources: Resources, by: service.Measure, limit: int, span: DayRange,
                       country: str | None) -> list[service.Ranked]:
    return await _through_cache(
        resources, f"products:{by.value}:{limit}:{span.cache_key()}:{country!r}",
        lambda conn: service.top_products(conn, by, limit, span, country),
        _encode_ranked, _decode_ranked)
