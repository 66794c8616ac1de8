"""What a customer has bought: the purchase facts other domains ask about (verified reviews)."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from graphql_api.orders.models import Order, OrderLine

# Orders whose payment went through and was not taken back.
PAID_STATUSES = ("PAID", "SHIPPED", "DELIVERED")


async def has_paid_purchase(session: AsyncSession, user_id: int, product_id: int) -> bool:
    """Whether `user_id` has a paid (or later) order with a line of `product_id`."""
    bought = exists().where(
        col(OrderLine.order_id) == col(Order.id),
        col(OrderLine.product_id) == product_id,
        col(Order.user_id) == user_id,
        col(Order.status).in_(PAID_STATUSES),
    )
    return bool(await session.scalar(select(bought)))
