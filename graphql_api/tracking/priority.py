"""Event tracking gives way to the rest of the process's work.

A burst of eventTrack requests is CPU work that nobody waits on: a tracker fires and forgets.
Left to the event loop's first-come order, every request of a burst in progress puts its next
slice of work in the loop's ready queue, ahead of whatever an ordinary request needs next, so
at 5,000 events/s a product listing queued behind dozens of them (p95 7.5 -> 260 ms). Here an
operation's eventTracks run only while it holds one of `SLOTS` slots, the others waiting parked
(costing nothing); and a long batch of aliases gives way every `YIELD_EVERY` events
(tracking/types.py). So at any moment at most `SLOTS` short slices of event work stand ahead of
an ordinary request. Two slots, so one operation's rate-limit round trip overlaps the other's
work.

Waiting is bounded: past `QUEUE` operations waiting, eventTrack answers RATE_LIMITED (the
server is busy), as it does when the event buffer is full.

Slots bound how much event work stands ahead of an ordinary request; `Foreground` makes it
stand aside. The HTTP layer counts the requests somebody waits on (every request but an
operation made only of eventTracks, `events_only`) while they are in flight, and event work,
the whole operation's before it starts (parsing, validation, execution) and again between
slices, as well as the event log's writes, waits until none is (`Foreground.wait_idle`). A
listing that arrives mid-burst then waits for the slices already running, not for the burst.
The wait is bounded (`MAX_WAIT`) so that a server never idle still records events: at least a
slice per slot every `MAX_WAIT`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from graphql import FieldNode, GraphQLError, OperationType, get_operation_ast, parse

if TYPE_CHECKING:
    from graphql_api.core.resources import Resources

SLOTS = 2
QUEUE = 512
YIELD_EVERY = 5
MAX_WAIT = 0.01  # seconds event work waits for ordinary requests at most, per slice


class EventSlots:
    def __init__(self, slots: int = SLOTS, queue: int = QUEUE) -> None:
        self._free = asyncio.Semaphore(slots)
        self.slots, self.queue = slots, queue
        self.waiting = 0
        self.held = 0
        self.refused = 0  # operations turned away because too many were waiting

    @property
    def full(self) -> bool:
        """No slot free and no room to wait for one."""
        return self._free.locked() and self.waiting >= self.queue

    async def acquire(self) -> Slot | None:
        """Wait for a slot; None (no slot taken) when too many operations wait already."""
        if self.full:
            self.refused += 1
            return None
        self.waiting += 1
        try:
            await self._free.acquire()
        finally:
            self.waiting -= 1
        self.held += 1
        return Slot(self)

    def release(self) -> None:
        self.held -= 1
        self._free.release()


class Slot:
    """One slot taken; giving it back twice gives it back once (the request and its operation
    may both end it)."""

    def __init__(self, slots: EventSlots) -> None:
        self._slots: EventSlots | None = slots

    def release(self) -> None:
        if self._slots is not None:
            slots, self._slots = self._slots, None
            slots.release()


def event_slots(resources: Resources) -> EventSlots:
    """This process's slots, made on first use."""
    found = resources.extras.get("event_slots")
    if found is None:
        found = resources.extras["event_slots"] = EventSlots()
    return found


class Foreground:
    """The requests in flight that somebody waits on; background work waits until there are
    none, or `max_wait` seconds at most."""

    def __init__(self, max_wait: float = MAX_WAIT) -> None:
        self.max_wait = max_wait
        self.active = 0
        self.waits = 0  # times background work found requests in flight and waited
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        self.active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.active -= 1
            if self.active == 0:
                self._idle.set()

    async def wait_idle(self) -> None:
        if self.active == 0:
            return
        self.waits += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), self.max_wait)


def foreground(resources: Resources) -> Foreground:
    """This process's foreground requests, made on first use."""
    found = resources.extras.get("foreground")
    if found is None:
        found = resources.extras["foreground"] = Foreground()
    return found


def events_only(query: str, operation_name: str | None, max_tokens: int) -> bool:
    """Whether the operation the request runs is a mutation of eventTrack fields only, written
    out at its root (an operation with fragments there, or that does not parse or cannot be
    chosen, counts as ordinary: it is served the ordinary way and fails there if it must)."""
    return "eventTrack" in query and _events_only(query, operation_name, max_tokens)


@lru_cache(maxsize=256)
def _events_only(query: str, operation_name: str | None, max_tokens: int) -> bool:
    try:
        operation = get_operation_ast(parse(query, no_location=True, max_tokens=max_tokens),
                                      operation_name)
    except GraphQLError:
        return False
    if operation is None or operation.operation is not OperationType.MUTATION:
        return False
    return all(isinstance(node, FieldNode) and node.name.value == "eventTrack"
               and not node.directives for node in operation.selection_set.selections)
