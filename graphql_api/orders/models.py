"""Order tables: orders, their line snapshots and their status history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from graphql_api.core.models import JsonType, MoneyType, TimestampType, utcnow


class Order(SQLModel, table=True):
    __tablename__ = "customer_order"  # `order` is an SQL keyword
    __table_args__ = (
        # The idempotency guarantee is this constraint, not a check-then-insert.
        UniqueConstraint("user_id", "idempotency_key", name="uq_order_idempotency"),
        Index("ix_order_user_created", "user_id", "created_at", "id"),
        Index("ix_order_created", "created_at", "id"),
        Index("ix_order_status_created", "status", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(sa_column=Column(String(20), unique=True, nullable=False))
    user_id: int = Field(foreign_key="user.id")
    status: str = Field(sa_column=Column(String(16), nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    subtotal: Decimal = Field(sa_type=MoneyType)
    discount_total: Decimal = Field(sa_type=MoneyType)
    total: Decimal = Field(sa_type=MoneyType)
    shipping_address: dict[str, Any] = Field(sa_type=JsonType)
    idempotency_key: str = Field(sa_column=Column(String(100), nullable=False))
    # A digest of what the key was used for (the lines and the address): the same key with a
    # different cart is refused instead of answered with an unrelated order.
    request_digest: str = Field(sa_column=Column(String(64), nullable=False))
    # Optimistic concurrency: each status change is a compare-and-set on the version.
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, default=1))
    created_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)


class OrderLine(SQLModel, table=True):
    """What was bought, as it was at checkout: the product may change or go later."""

    __tablename__ = "order_line"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=Column(Integer, ForeignKey("customer_order.id"),
                                           nullable=False, index=True))
    product_id: int = Field(foreign_key="product.id", index=True)
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    quantity: int
    unit_price: Decimal = Field(sa_type=MoneyType)
    line_total: Decimal = Field(sa_type=MoneyType)


class OrderStatusChange(SQLModel, table=True):
    __tablename__ = "order_status_change"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=Column(Integer, ForeignKey("customer_order.id"),
                                           nullable=False, index=True))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    previous_status: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    version: int
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    actor_id: int | None = Field(default=None, foreign_key="user.id", nullable=True)
    at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)
