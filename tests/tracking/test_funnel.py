"""metrics.funnel and metrics.topSearches against an independent count over the same rows."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import delete, select

from graphql_api.core.resources import Resources
from graphql_api.tracking.log import EventLog
from graphql_api.tracking.models import EventType, Source, event_table
from graphql_api.tracking.records import event_row

FUNNEL = """query($range: DateRange) { metrics { funnel(range: $range) {
  steps { step sessions conversion } } } }"""
TOP = """query($range: DateRange, $limit: Int!) { metrics { topSearches(range: $range, limit: $limit)
  { query searches noResults sessions } } }"""
STEPS = ["PRODUCT_VIEW", "ADD_TO_CART", "CHECKOUT_START", "ORDER_PLACED"]
QUERIES = ["phone", "blue mug", "creme brulee", "laptop stand", "zzz"]
START = date(2001, 1, 1)
DAYS = 40


def midnight(day: date) -> str:
    return datetime.combine(day, time(), tzinfo=UTC).isoformat()


@pytest.fixture(scope="module")
async def history(resources: Resources) -> None:
    """Random events over 40 days of 2001 (a time no other test writes in)."""
    log = EventLog(resources.db, resources.settings, None)
    async with resources.db.engine.begin() as conn:
        await conn.execute(delete(event_table).where(
            event_table.c.at < datetime(2002, 1, 1, tzinfo=UTC)))
    rng = random.Random(9)
    rows = []

    def at() -> datetime:
        return datetime.combine(START, time(), tzinfo=UTC) + timedelta(
            seconds=rng.randrange(DAYS * 86400))

    for n in range(300):
        session = f"funnel-{n}"
        for step in [*STEPS, "PAGE_VIEW", "SEARCH"]:
            for _ in range(rng.choice([0, 0, 1, 1, 2])):
                rows.append(event_row(EventType(step), Source.CLIENT if step != "ORDER_PLACED"
                                      else Source.SERVER, at=at(), session_id=session))
        for _ in range(rng.choice([0, 1, 3])):
            rows.append(event_row(EventType.SEARCH, Source.SERVER, at=at(),
                                  session_id=rng.choice([session, None]),
                                  query=rng.choice(QUERIES), result_count=rng.choice([0, 1, 7])))
    # Steps without a session (a server event of a request that sent none) are nobody's.
    rows += [event_row(EventType.PRODUCT_VIEW, Source.CLIENT, at=at()) for _ in range(20)]
    # Client-reported searches are not topSearches' (the server counts those it answers).
    rows += [event_row(EventType.SEARCH, Source.CLIENT, at=at(), query="phone") for _ in range(50)]
    log.record(rows)
    await log.close()


async def all_rows(resources: Resources) -> list[Any]:
    async with resources.db.read() as conn:
        return list(await conn.execute(select(event_table)))


def in_span(row: Any, start: date | None, end: date | None) -> bool:
    day = row.at.astimezone(UTC).date()
    return (start is None or day >= start) and (end is None or day < end)


def expected_funnel(rows: list[Any], start: date | None, end: date | None) -> list[dict[str, Any]]:
    seen: defaultdict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r.session_id is not None and in_span(r, start, end):
            seen[r.session_id].add(r.type)
    counts = [sum(1 for types in seen.values() if set(STEPS[:k + 1]) <= types)
              for k in range(len(STEPS))]
    steps = []
    for k, step in enumerate(STEPS):
        conversion = None
        if k > 0 and counts[k - 1]:
            conversion = str((Decimal(counts[k]) / counts[k - 1]).quantize(
                Decimal("0.000001"), ROUND_HALF_UP))
        steps.append({"step": step, "sessions": counts[k], "conversion": conversion})
    return steps


def expected_top(rows: list[Any], start: date | None, end: date | None,
                 limit: int) -> list[dict[str, Any]]:
    searches: Counter[str] = Counter()
    empty: Counter[str] = Counter()
    sessions: defaultdict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r.type == "SEARCH" and r.source == "server" and in_span(r, start, end):
            searches[r.query] += 1
            empty[r.query] += r.result_count == 0
            if r.session_id is not None:
                sessions[r.query].add(r.session_id)
    ranked = sorted(searches, key=lambda q: (-searches[q], q))[:limit]
    return [{"query": q, "searches": searches[q], "noResults": empty[q],
             "sessions": len(sessions[q])} for q in ranked]


def ranges() -> list[tuple[date | None, date | None]]:
    rng = random.Random(4)
    found: list[tuple[date | None, date | None]] = [
        (None, None), (START, START + timedelta(days=DAYS)), (START, None),
        (None, START + timedelta(days=10)), (START + timedelta(days=3), START + timedelta(days=4))]
    for _ in range(6):
        a, b = sorted(rng.sample(range(-2, DAYS + 2), 2))
        found.append((START + timedelta(days=a), START + timedelta(days=b)))
    return found


def variables(start: date | None, end: date | None) -> dict[str, Any]:
    span: dict[str, Any] = {}
    if start is not None:
        span["from"] = midnight(start)
    if end is not None:
        span["to"] = midnight(end)
    return {"range": span}


@pytest.mark.parametrize(("start", "end"), ranges())
async def test_funnel_matches_an_independent_count(gql: Any, admin_token: str, history: None,
                                                   resources: Resources, log: EventLog,
                                                   start: date | None, end: date | None) -> None:
    await log.flush()  # other tests' events count over unbounded ranges too
    data = await gql.data(FUNNEL, variables(start, end), admin_token)
    expected = expected_funnel(await all_rows(resources), start, end)
    assert data["metrics"]["funnel"]["steps"] == expected
    if start == START and end is not None:
        assert expected[0]["sessions"] > 0 and expected[3]["sessions"] > 0  # data, not zeros


@pytest.mark.parametrize(("start", "end"), ranges())
async def test_top_searches_match_an_independent_count(gql: Any, admin_token: str, history: None,
                                                       resources: Resources, log: EventLog,
                                                       start: date | None, end: date | None
                                                       ) -> None:
    await log.flush()
    for limit in (1, 3, 100):
        data = await gql.data(TOP, {**variables(start, end), "limit": limit}, admin_token)
        expected = expected_top(await all_rows(resources), start, end, limit)
        assert data["metrics"]["topSearches"] == expected


async def test_empty_ranges(gql: Any, admin_token: str, history: None) -> None:
    empty = {"steps": [{"step": s, "sessions": 0, "conversion": None} for s in STEPS]}
    for start, end in [(START, START), (START + timedelta(days=5), START),
                       (date(1990, 1, 1), date(1990, 2, 1))]:
        span = variables(start, end)
        assert (await gql.data(FUNNEL, span, admin_token))["metrics"]["funnel"] == empty
        top = await gql.data(TOP, {**span, "limit": 10}, admin_token)
        assert top["metrics"]["topSearches"] == []


async def test_limits_and_ranges_are_checked(gql: Any, admin_token: str) -> None:
    for query, values in [(TOP, {"limit": 0}), (TOP, {"limit": 101}),
                          (FUNNEL, {"range": {"from": "2001-01-01T10:00:00+00:00"}})]:
        body = await gql(query, values, admin_token)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
