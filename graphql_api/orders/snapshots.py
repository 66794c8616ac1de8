"""Order events read once per process: 2,000 subscribers to one order cost one read, not 2,000."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select

from graphql_api.accounts.models import Role, User
from graphql_api.core.resources import Resources
from graphql_api.orders import service
from graphql_api.orders.service import OrderLineRecord, OrderRecord, StatusChangeRecord

MAX_SNAPSHOTS = 256
_users = User.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Snapshot:
    order: OrderRecord
    lines: list[OrderLineRecord]
    history: list[StatusChangeRecord]


class OrderSnapshots:
    """The order behind an event, keyed by (order id, version): subscribers that receive the
    same event share one read, in flight or done. Only recent events are kept."""

    def __init__(self, resources: Resources) -> None:
        self._resources = resources
        self._reads: OrderedDict[tuple[int, int], asyncio.Future[Snapshot | None]] = OrderedDict()

    async def get(self, order_id: int, version: int) -> Snapshot | None:
        key = (order_id, version)
        read = self._reads.get(key)
        if read is None or (read.done() and (read.cancelled() or read.exception() is not None)):
            read = self._reads[key] = asyncio.ensure_future(self._read(order_id))
            while len(self._reads) > MAX_SNAPSHOTS:
                self._reads.popitem(last=False)
        # Shielded: one subscriber going away must not cancel the read the others wait for.
        return await asyncio.shield(read)

    async def _read(self, order_id: int) -> Snapshot | None:
        async with self._resources.db.read() as conn:
            order = (await service.orders_by_ids(conn, [order_id])).get(order_id)
            if order is None:
                return None
            lines = (await service.lines_of(conn, [order_id]))[order_id]
            history = (await service.history_of(conn, [order_id]))[order_id]
        return Snapshot(order, lines, history)


class RoleChecks:
    """Whether a user is an admin as of an event, read once per (user, event) in the process:
    an admin's many subscriptions share it (a role lost applies from the next event on)."""

    def __init__(self, resources: Resources) -> None:
        self._resources = resources
        self._reads: OrderedDict[tuple[int, int, int], asyncio.Future[bool]] = OrderedDict()

    async def is_admin(self, user_id: int, order_id: int, version: int) -> bool:
        key = (user_id, order_id, version)
        read = self._reads.get(key)
        if read is None or (read.done() and (read.cancelled() or read.exception() is not None)):
            read = self._reads[key] = asyncio.ensure_future(self._read(user_id))
            while len(self._reads) > MAX_SNAPSHOTS:
                self._reads.popitem(last=False)
        return await asyncio.shield(read)

    async def _read(self, user_id: int) -> bool:
        async with self._resources.db.read() as conn:
            row = (await conn.execute(select(_users.c.role, _users.c.is_active)
                                      .where(_users.c.id == user_id))).first()
        return row is not None and row.is_active and Role(row.role).is_admin


def role_checks(resources: Resources) -> RoleChecks:
    checks = resources.extras.get("order_role_checks")
    if checks is None:
        checks = resources.extras["order_role_checks"] = RoleChecks(resources)
    return checks


def order_snapshots(resources: Resources) -> OrderSnapshots:
    snapshots = resources.extras.get("order_snapshots")
    if snapshots is None:
        snapshots = resources.extras["order_snapshots"] = OrderSnapshots(resources)
    return snapshots
