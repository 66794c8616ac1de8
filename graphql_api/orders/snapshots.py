"""Order events prepared once per process, before any subscriber wakes.

An event that reaches 2,000 subscribers is parsed once, its order read once and the roles of
the admins among them checked in one query; then each subscriber that may see it gets the same
prepared object on its queue and wakes once. (When every subscriber read the event itself, the
reads could only start once all 2,000 had woken a first time: ~50-100 ms before any delivery.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import select

from graphql_api.accounts.models import Role, User
from graphql_api.core.events import ORDER_STATUS_CHANGED, channel
from graphql_api.core.resources import Resources
from graphql_api.orders import service
from graphql_api.orders.service import (
    OrderLineRecord,
    OrderRecord,
    StatusChangeRecord,
    StatusEvent,
)

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000  # per subscriber, as pub/sub's own queues: one this far behind loses events
ADMIN_ROLES = [role.value for role in Role if role.is_admin]
_users = User.__table__  # type: ignore[attr-defined]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Snapshot:
    order: OrderRecord
    lines: list[OrderLineRecord]
    history: list[StatusChangeRecord]


class Interest(Protocol):
    """Which events a subscription wants, and may see."""

    @property
    def user_id(self) -> int: ...

    def verdict(self, event: StatusEvent) -> bool | None:
        """True: deliver; False: not for this subscription; None: deliver if the subscriber
        (`user_id`) still holds an admin role, checked as of this event."""


class OrderEventFeed(Generic[T]):
    """The process's one listener on order events: prepares each event once (`build` makes the
    object every subscriber of the event shares) and hands it to the subscribers that may see
    it, in the order the events came."""

    def __init__(self, resources: Resources, build: Callable[[StatusEvent, Snapshot], T]) -> None:
        self._resources, self._build = resources, build
        self._subscribers: dict[asyncio.Queue[T | Exception], Interest] = {}
        self._task: asyncio.Task[None] | None = None
        self._listening: asyncio.Future[None] | None = None

    @asynccontextmanager
    async def subscribe(self, interest: Interest) -> AsyncIterator[AsyncIterator[T]]:
        """The events for `interest`; once entered, the feed is listening on pub/sub, so no
        event published afterwards can be missed."""
        queue: asyncio.Queue[T | Exception] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers[queue] = interest
        try:
            await self._listen()
            yield self._events(queue)
        finally:
            del self._subscribers[queue]
            if not self._subscribers and self._task is not None:
                self._task.cancel()  # a new subscriber starts a new listener
                self._task = self._listening = None

    @staticmethod
    async def _events(queue: asyncio.Queue[T | Exception]) -> AsyncIterator[T]:
        while True:
            item = await queue.get()
            if isinstance(item, Exception):
                raise item  # the event could not be prepared: as if this subscriber had failed
            yield item

    async def _listen(self) -> None:
        if self._task is None or self._task.done():
            self._listening = asyncio.get_running_loop().create_future()
            self._task = asyncio.create_task(self._run(self._listening), name="order-events")
        assert self._listening is not None
        # Shielded: one subscriber going away must not cancel the listener the others wait for.
        await asyncio.shield(self._listening)

    async def _run(self, listening: asyncio.Future[None]) -> None:
        try:
            async with self._resources.pubsub.subscribe(channel(ORDER_STATUS_CHANGED)) as messages:
                listening.set_result(None)
                async for message in messages:
                    if self._task is not asyncio.current_task():
                        return  # stopped (a cancellation swallowed on the way would leave it)
                    await self._dispatch(message)
        except Exception as exc:
            if not listening.done():
                listening.set_exception(exc)  # the subscribers waiting to start fail with it
            else:
                self._put(list(self._subscribers), exc)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        try:
            event = StatusEvent.from_json(message)
        except Exception as exc:
            self._put(list(self._subscribers), exc)
            return
        wanted: list[asyncio.Queue[T | Exception]] = []
        if_admin: dict[asyncio.Queue[T | Exception], int] = {}
        for queue, interest in self._subscribers.items():
            verdict = interest.verdict(event)
            if verdict is None:
                if_admin[queue] = interest.user_id
            elif verdict:
                wanted.append(queue)
        if not wanted and not if_admin:
            return
        try:
            snapshot, admins = await asyncio.gather(
                self._read(event.order_id), self._admins(set(if_admin.values())))
        except Exception as exc:
            self._put([*wanted, *if_admin], exc)
            return
        if snapshot is None:
            return  # gone since (it cannot be, orders are never deleted; but nothing to show)
        wanted += [queue for queue, user_id in if_admin.items() if user_id in admins]
        self._put(wanted, self._build(event, snapshot))

    def _put(self, queues: list[asyncio.Queue[T | Exception]], item: T | Exception) -> None:
        for queue in queues:
            if queue not in self._subscribers:
                continue  # left while the event was read
            if queue.full():
                log.warning("an order subscriber is too slow; dropping an event")
                continue
            queue.put_nowait(item)

    async def _read(self, order_id: int) -> Snapshot | None:
        async with self._resources.db.read() as conn:
            order = (await service.orders_by_ids(conn, [order_id])).get(order_id)
            if order is None:
                return None
            lines = (await service.lines_of(conn, [order_id]))[order_id]
            history = (await service.history_of(conn, [order_id]))[order_id]
        return Snapshot(order, lines, history)

    async def _admins(self, user_ids: set[int]) -> set[int]:
        """Those of `user_ids` who hold an admin role now: seeing other people's orders rests
        on it, so it is checked per event (one query for every admin subscribed)."""
        if not user_ids:
            return set()
        async with self._resources.db.read() as conn:
            rows = await conn.execute(select(_users.c.id).where(
                _users.c.id.in_(sorted(user_ids)), _users.c.is_active,
                _users.c.role.in_(ADMIN_ROLES)))
            return {row.id for row in rows}


def order_feed(resources: Resources, build: Callable[[StatusEvent, Snapshot], T]
               ) -> OrderEventFeed[T]:
    """The process's feed (one per Resources), made on first use."""
    feed = resources.extras.get("order_event_feed")
    if feed is None:
        feed = resources.extras["order_event_feed"] = OrderEventFeed(resources, build)
    return feed
