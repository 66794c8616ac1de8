"""The order state machine, written once: every status change goes through `allowed`."""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.REFUNDED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}
INITIAL = OrderStatus.PENDING
# Entering one of these puts the order's stock back. Both are final, so it happens once.
RESTOCKING = frozenset({OrderStatus.CANCELLED, OrderStatus.REFUNDED})
# The statuses an owner may cancel from (admins follow TRANSITIONS).
OWNER_CANCELLABLE = frozenset({OrderStatus.PENDING, OrderStatus.PAID})
# An order in one of these has been paid for: its lines are sales (verified purchases, metrics).
PAID_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED})


def allowed(current: OrderStatus, new: OrderStatus) -> bool:
    return new in TRANSITIONS[current]
