"""The dashboard's default views, which the worker's warm-up job (workers/functions.py) fills so
that the first admin to open the dashboard after a sale reads them from the cache.

The views are the reads the resolvers make for the README's examples and `adminStats`, with
the same arguments (so the same cache keys): all time, the last 30 UTC days (with the 30 days
before, which `kpis { previous }` reads) and today. They are keyed by the sales version like
every cached metric, so a new sale retires them and the next warm-up fills them again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

from graphql_api.core.models import utcnow
from graphql_api.core.resources import Resources
from graphql_api.metrics import reads
from graphql_api.metrics.periods import DayRange, Granularity
from graphql_api.metrics.service import Measure, SeriesMetric

log = logging.getLogger(__name__)

RECENT_DAYS = 30
DEFAULT_LIMIT = 10  # the `limit` the fields default to
README_LIMIT = 5  # the README's example asks for the top 5


def today() -> DayRange:
    """The current UTC day: `adminStats { revenueToday }` reads its `kpis`."""
    day = utcnow().date()
    return DayRange(day, day + timedelta(days=1))


def recent() -> tuple[DayRange, DayRange]:
    """The last `RECENT_DAYS` UTC days (today included) and the as many days before."""
    end = today().end
    assert end is not None
    start = end - timedelta(days=RECENT_DAYS)
    return DayRange(start, end), DayRange(start - timedelta(days=RECENT_DAYS), start)


def default_views(resources: Resources) -> list[Callable[[], Awaitable[Any]]]:
    everything = DayRange()
    last, before = recent()
    r = resources
    views: list[Callable[[], Awaitable[Any]]] = [
        partial(reads.totals, r, span, None) for span in (everything, last, before, today())]
    views += [partial(reads.series, r, metric, Granularity.MONTH, everything, None)
              for metric in SeriesMetric]
    views += [partial(reads.series, r, metric, Granularity.DAY, last, None)
              for metric in (SeriesMetric.REVENUE, SeriesMetric.ORDERS)]
    views += [partial(reads.top_countries, r, Measure.REVENUE, limit, span)
              for limit, span in ((DEFAULT_LIMIT, everything), (README_LIMIT, everything),
                                  (DEFAULT_LIMIT, last))]
    views += [partial(reads.top_products, r, by, limit, everything, None)
              for by, limit in ((Measure.REVENUE, DEFAULT_LIMIT), (Measure.UNITS, README_LIMIT))]
    return views


async def warm_dashboard(resources: Resources) -> dict[str, int]:
    """Fill the default views; how many were filled (missing) and how many were warm."""
    if resources.cache.kind == "disabled":
        return {"dashboard_views": 0, "dashboard_already_warm": 0}
    with resources.cache.tally() as tally:
        # One at a time: each is a few milliseconds, and the pool serves visitors meanwhile.
        for view in default_views(resources):
            await view()
    log.info("cache warm-up filled %d dashboard views (%d were warm already)", tally.misses,
             tally.hits)
    return {"dashboard_views": tally.misses, "dashboard_already_warm": tally.hits}

