"""Cart tables: a cart (a user's or a guest's) and its lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from graphql_api.core.models import TimestampType, utcnow


class Cart(SQLModel, table=True):
    # Exactly one of user_id (a customer's cart) and token_hash (a guest's) is set.
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("user.id", ondelete="CASCADE"), unique=True, nullable=True))
    # The guest's cart token, stored by hash like refresh tokens: the token itself is a bearer secret.
    token_hash: str | None = Field(default=None, sa_column=Column(String(64), unique=True,
                                                                  nullable=True))
    # Bumped by every change to the lines: checkout takes the cart with a compare-and-set on it,
    # so a cart edited (or checked out) concurrently is never turned into an order half-read.
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, default=1))
    created_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)


class CartLine(SQLModel, table=True):
    __tablename__ = "cart_line"
    __table_args__ = (UniqueConstraint("cart_id", "product_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cart_id: int = Field(sa_column=Column(Integer, ForeignKey("cart.id", ondelete="CASCADE"),
                                          nullable=False))
    product_id: int = Field(foreign_key="product.id", index=True)
    quantity: int
    added_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)
