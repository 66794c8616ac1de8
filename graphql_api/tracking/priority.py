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
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graphql_api.core.resources import Resources

SLOTS = 2
QUEUE = 512
YIELD_EVERY = 5


class EventSlots:
    def __init__(self, slots: int = SLOTS, queue: int = QUEUE) -> None:
        self._free = asyncio.Semaphore(slots)
        self.slots, self.queue = slots, queue
        self.waiting = 0
        self.held = 0
        self.refused = 0  # operations turned away because too many were waiting

    async def acquire(self) -> bool:
        """Wait for a slot; False (no slot taken) when too many operations wait already."""
        if self._free.locked() and self.waiting >= self.queue:
            self.refused += 1
            return False
        self.waiting += 1
        try:
            await self._free.acquire()
        finally:
            self.waiting -= 1
        self.held += 1
        return True

    def release(self) -> None:
        self.held -= 1
        self._free.release()


def event_slots(resources: Resources) -> EventSlots:
    """This process's slots, made on first use."""
    found = resources.extras.get("event_slots")
    if found is None:
        found = resources.extras["event_slots"] = EventSlots()
    return found
