"""Event tracking gives way to other requests (tracking/priority.py): an operation's eventTracks
run while it holds one of the process's event slots, ordinary requests never wait for one, a
long batch of aliases lets other work run between its events, waiting is bounded, and every
operation gives its slot back however it ends; event work, and the event log's writing, wait
while requests somebody waits on are in flight (at most MAX_WAIT per slice)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from graphql_api.catalog.reads import CatalogReads
from graphql_api.core.resources import Resources
from graphql_api.tracking import priority, types
from graphql_api.tracking.log import STATEMENT_ROWS, EventLog, event_log
from graphql_api.tracking.models import EventType, Source
from graphql_api.tracking.priority import (
    SLOTS,
    YIELD_EVERY,
    EventSlots,
    Foreground,
    event_slots,
    events_only,
)
from graphql_api.tracking.records import event_row
from tests.tracking.conftest import TRACK, new_session, post, rows_of
from tests.tracking.test_batching import event_inserts


def aliases(count: int, path: str = "/p") -> str:
    return "mutation { " + " ".join(
        f'e{i}: eventTrack(input: {{type: PAGE_VIEW, path: "{path}/{i}"}}) '
        "{ userErrors { code } }" for i in range(count)) + " }"


async def parked(slots: EventSlots) -> None:
    """Until an operation waits for a slot (at most 5 s)."""
    async with asyncio.timeout(5):
        while slots.waiting == 0:
            await asyncio.sleep(0.01)


@pytest.fixture
def slots(resources: Resources, monkeypatch: pytest.MonkeyPatch) -> EventSlots:
    fresh = EventSlots()
    monkeypatch.setitem(resources.extras, "event_slots", fresh)
    return fresh


async def test_operations_give_their_slot_back_however_they_end(
        client_from: Any, resources: Resources, slots: EventSlots,
        monkeypatch: pytest.MonkeyPatch) -> None:
    http = client_from()
    session = new_session()
    body = await post(http, aliases(3), session=session)
    assert "errors" not in body and slots.held == 0
    body = await post(http, TRACK, {"input": {"type": "SEARCH"}}, session)  # a user error
    assert body["data"]["eventTrack"]["userErrors"][0]["code"] == "REQUIRED"
    assert slots.held == 0
    monkeypatch.setattr(resources.settings, "events_per_client", 1)
    body = await post(client_from(), aliases(2), session=session)  # over the limit
    assert [e["extensions"]["code"] for e in body["errors"]] == ["RATE_LIMITED"]
    assert slots.held == 0
    monkeypatch.setattr(types, "_checks", None)  # an unexpected failure inside the slot
    body = await post(client_from(), TRACK, {"input": {"type": "PAGE_VIEW"}}, session)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INTERNAL_SERVER_ERROR"]
    assert slots.held == 0
    assert len(await rows_of(resources, session_id=session)) == 3


async def test_ordinary_requests_do_not_wait_for_event_slots(
        client: httpx.AsyncClient, resources: Resources, slots: EventSlots) -> None:
    for _ in range(SLOTS):  # every slot held, as by long event operations
        assert await slots.acquire()
    session = new_session()
    tracking = asyncio.create_task(post(client, aliases(2), session=session))
    await parked(slots)
    assert not tracking.done()
    listing = await asyncio.wait_for(post(client, "{ products(first: 3) { edges { node { id } } } }"),
                                     10)
    assert len(listing["data"]["products"]["edges"]) == 3
    assert not tracking.done()  # still parked
    slots.release()
    body = await asyncio.wait_for(tracking, 10)
    assert "errors" not in body and len(body["data"]) == 2
    slots.release()
    assert slots.held == 0
    assert len(await rows_of(resources, session_id=session)) == 2


async def test_at_most_the_slots_run_event_work_at_once(
        client_from: Any, resources: Resources, slots: EventSlots,
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    accepted = types._accepted

    def watched(*args: Any) -> Any:
        seen.append(slots.held)
        return accepted(*args)

    monkeypatch.setattr(types, "_accepted", watched)
    session = new_session()
    bodies = await asyncio.gather(*(post(client_from(), aliases(12), session=session)
                                    for _ in range(8)))
    assert all("errors" not in b and len(b["data"]) == 12 for b in bodies)
    assert len(seen) == 96 and max(seen) <= SLOTS and min(seen) >= 1
    assert slots.held == 0
    assert len(await rows_of(resources, session_id=session)) == 96


async def test_a_long_batch_lets_other_work_run_between_its_events(
        client: httpx.AsyncClient, slots: EventSlots, monkeypatch: pytest.MonkeyPatch) -> None:
    """While one operation records 3 * YIELD_EVERY + 1 aliases, a task that only needs the
    event loop gets a turn between them (at least three times)."""
    events: list[str] = []
    accepted = types._accepted

    def watched(*args: Any) -> Any:
        events.append("event")
        return accepted(*args)

    monkeypatch.setattr(types, "_accepted", watched)
    stop = False

    async def other_work() -> None:
        while not stop:
            events.append("other")
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    body = await post(client, aliases(3 * YIELD_EVERY + 1), session=new_session())
    stop = True
    await other
    assert "errors" not in body
    first, last = events.index("event"), len(events) - events[::-1].index("event")
    during = events[first:last]
    assert during.count("event") == 3 * YIELD_EVERY + 1
    assert during.count("other") >= 3


async def test_past_the_queue_event_operations_are_refused_with_rate_limited(
        client_from: Any, resources: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    narrow = EventSlots(slots=1, queue=1)
    monkeypatch.setitem(resources.extras, "event_slots", narrow)
    assert await narrow.acquire()
    session = new_session()
    waiting = asyncio.create_task(post(client_from(), aliases(1), session=session))
    await parked(narrow)
    body = await post(client_from(), aliases(1), session=session)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] == 1
    assert narrow.refused == 1
    narrow.release()
    assert "errors" not in await asyncio.wait_for(waiting, 10)
    assert narrow.held == 0
    assert len(await rows_of(resources, session_id=session)) == 1


def test_the_process_has_one_set_of_slots(resources: Resources) -> None:
    assert event_slots(resources) is event_slots(resources)
    assert event_slots(resources).slots == priority.SLOTS


async def test_a_cancelled_request_gives_back_its_slot_or_its_place(
        client: httpx.AsyncClient, slots: EventSlots, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that goes away while its operation holds a slot (here: stuck in the rate-limit
    check) or waits for one leaves the slots as they were."""
    stuck = asyncio.Event()

    async def never(*_: Any, **__: Any) -> None:
        stuck.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(types, "enforce", never)
    holder = asyncio.create_task(post(client, aliases(2), session=new_session()))
    await asyncio.wait_for(stuck.wait(), 5)
    assert slots.held == 1
    for _ in range(SLOTS - 1):
        assert await slots.acquire()
    waiter = asyncio.create_task(post(client, aliases(2), session=new_session()))
    await parked(slots)
    for task in (waiter, holder):
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert slots.waiting == 0 and slots.held == SLOTS - 1
    for _ in range(SLOTS - 1):
        slots.release()
    assert slots.held == 0


# --- event work stands aside while requests somebody waits on are in flight --------------------


@pytest.fixture
def fore(resources: Resources, monkeypatch: pytest.MonkeyPatch) -> Foreground:
    """The process's foreground, with a wait long enough to see (a test ends it sooner)."""
    fresh = Foreground(max_wait=30)
    monkeypatch.setitem(resources.extras, "foreground", fresh)
    return fresh


@pytest.mark.parametrize(("query", "operation", "expected"), [
    ('mutation { eventTrack(input: {type: PAGE_VIEW}) { userErrors { code } } }', None, True),
    ("mutation($i: EventTrackInput!) { a: eventTrack(input: $i) { event { at } } "
     "b: eventTrack(input: $i) { event { at } } }", None, True),
    ("mutation T { eventTrack(input: {type: PAGE_VIEW}) { userErrors { code } } } "
     "query Q { products { totalCount } }", "T", True),
    ("mutation T { eventTrack(input: {type: PAGE_VIEW}) { userErrors { code } } } "
     "query Q { products { totalCount } }", "Q", False),
    ("mutation T { eventTrack(input: {type: PAGE_VIEW}) { userErrors { code } } } "
     "query Q { products { totalCount } }", None, False),  # which one runs is not chosen
    ("mutation T { eventTrack(input: {type: PAGE_VIEW}) { userErrors { code } } }", "U", False),
    ("mutation { eventTrack(input: {type: PAGE_VIEW}) { userErrors { code } } "
     "cartAdd(input: {productId: \"x\", quantity: 1}) { userErrors { code } } }", None, False),
    ("mutation { __typename eventTrack(input: {type: PAGE_VIEW}) { userErrors { code } } }",
     None, False),
    ("mutation { ...F } fragment F on Mutation { eventTrack(input: {type: PAGE_VIEW}) "
     "{ userErrors { code } } }", None, False),
    ("mutation { eventTrack(input: {type: PAGE_VIEW}) @skip(if: true) "
     "{ userErrors { code } } }", None, False),
    ("query { eventTrack }", None, False),
    ("{ products { totalCount } }", None, False),
    ("mutation { eventTrack(input: {type: PAGE_VIEW} { userErrors }", None, False),  # no parse
    ("mutation { " + "eventTrack(input: {type: PAGE_VIEW}) { userErrors { code } } " * 300 + "}",
     None, False),  # over the token limit: refused the ordinary way
])
def test_which_operations_are_event_work(query: str, operation: str | None,
                                         expected: bool) -> None:
    assert events_only(query, operation, max_tokens=2000) is expected


async def test_idle_foreground_lets_event_work_through_at_once() -> None:
    fore = Foreground(max_wait=30)
    async with asyncio.timeout(1):
        await fore.wait_idle()
    assert fore.waits == 0


async def test_event_work_waits_for_requests_in_flight_then_goes() -> None:
    fore = Foreground(max_wait=30)
    with fore.request(), fore.request():
        waiter = asyncio.create_task(fore.wait_idle())
        await asyncio.sleep(0.05)
        assert not waiter.done()
    async with asyncio.timeout(1):
        await waiter
    assert fore.waits == 1 and fore.active == 0


async def test_event_work_waits_at_most_max_wait() -> None:
    """A process that is never idle still records events."""
    fore = Foreground(max_wait=0.05)
    with fore.request():
        started = asyncio.get_running_loop().time()
        await fore.wait_idle()
        waited = asyncio.get_running_loop().time() - started
    assert 0.04 <= waited < 1


async def test_a_tracker_batch_waits_for_requests_in_flight(
        client: httpx.AsyncClient, resources: Resources, fore: Foreground) -> None:
    """While a request somebody waits on is in flight, a batch of eventTracks records nothing;
    it runs as soon as that request ends."""
    session = new_session()
    with fore.request():
        tracking = asyncio.create_task(post(client, aliases(3), session=session))
        async with asyncio.timeout(5):
            while fore.waits == 0:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert not tracking.done()
        assert event_log(resources).waiting == 0  # nothing recorded yet
    body = await asyncio.wait_for(tracking, 10)
    assert "errors" not in body and len(body["data"]) == 3
    assert len(await rows_of(resources, session_id=session)) == 3


async def test_ordinary_requests_count_as_foreground_and_tracker_batches_do_not(
        client: httpx.AsyncClient, resources: Resources, fore: Foreground,
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, int] = {}
    page, accepted = CatalogReads.products_page, types._accepted

    async def listing(*args: Any, **kwargs: Any) -> Any:
        seen["listing"] = fore.active
        return await page(*args, **kwargs)

    def tracked(*args: Any) -> Any:
        seen["tracking"] = fore.active
        return accepted(*args)

    monkeypatch.setattr(CatalogReads, "products_page", listing)
    monkeypatch.setattr(types, "_accepted", tracked)
    body = await post(client, "{ products(first: 2) { edges { node { id } } } }",
                      token=None)
    assert len(body["data"]["products"]["edges"]) == 2
    body = await post(client, aliases(2), session=new_session())
    assert "errors" not in body
    assert seen == {"listing": 1, "tracking": 0} and fore.active == 0


async def test_the_event_log_writes_after_requests_in_flight(resources: Resources) -> None:
    """Before each batch and between its statements, the writer awaits the gate."""
    order: list[str] = []

    async def gate() -> None:
        order.append("gate")

    log = EventLog(resources.db, resources.settings, None, gate)
    session = new_session()
    log.record([event_row(EventType.PAGE_VIEW, Source.CLIENT, session_id=session, path=str(i))
                for i in range(2 * STATEMENT_ROWS + 1)])
    with event_inserts(resources) as inserts:
        real_gate = gate

        async def gate_and_mark() -> None:
            await real_gate()
            order.append(f"after {len(inserts)} inserts")

        log._gate = gate_and_mark
        await log.close()
    assert len(inserts) == 3
    assert order[-4:] == ["gate", "after 1 inserts", "gate", "after 2 inserts"]
    assert order.count("gate") >= 3  # the batch's own, then one per later statement
    assert len(await rows_of(resources, session_id=session)) == 2 * STATEMENT_ROWS + 1
