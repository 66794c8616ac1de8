"""Catalog tables: categories, products, reviews and wishlists."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Integer, Numeric, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from graphql_api.core.models import JsonType, MoneyType, TimestampType, utcnow


class Category(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(120), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)


def _live_index(name: str, *columns: str) -> Index:
    """A partial index over live products: keyset pages walk it in (column, id) order.

    Partial, not led by deleted_at: PostgreSQL does not treat `deleted_at IS NULL` as an equality,
    so an index led by it cannot return rows in the sort order and every page would sort.
    """
    live = text("deleted_at IS NULL")
    return Index(name, *columns, postgresql_where=live, sqlite_where=live)


class Product(SQLModel, table=True):
    __table_args__ = (
        _live_index("ix_product_live_name", "name", "id"),
        _live_index("ix_product_live_price", "price", "id"),
        _live_index("ix_product_live_created", "created_at", "id"),
        _live_index("ix_product_live_stock", "stock", "id"),
        _live_index("ix_product_live_rating", "rating", "id"),
        _live_index("ix_product_live_category", "category_id"),
        Index("ix_product_brand", "brand"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    slug: str = Field(sa_column=Column(String(255), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    price: Decimal = Field(sa_type=MoneyType)
    currency: str = Field(default="USD", sa_column=Column(String(3), nullable=False, default="USD"))
    discount_percent: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    stock: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    brand: str | None = Field(default=None, sa_column=Column(String(120), nullable=True))
    category_id: int | None = Field(default=None, foreign_key="category.id", nullable=True)
    tags: list[str] = Field(default_factory=list, sa_type=JsonType)
    images: list[str] = Field(default_factory=list, sa_type=JsonType)
    rating: Decimal = Field(default=Decimal("0"), sa_type=Numeric(3, 2))
    review_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    created_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)
    # Soft delete: a deleted product leaves every read but stays for orders and audits.
    deleted_at: datetime | None = Field(default=None, sa_type=TimestampType, nullable=True)


class Review(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("product_id", "user_id", name="uq_review_product_user"),
        Index("ix_review_product_created", "product_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id")
    user_id: int = Field(foreign_key="user.id", index=True)
    rating: int
    title: str = Field(sa_column=Column(String(200), nullable=False))
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # The author had a paid order with this product when writing the review.
    verified_purchase: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)


class WishlistItem(SQLModel, table=True):
    __tablename__ = "wishlist_item"
    __table_args__ = (
        UniqueConstraint("user_id", "product_id", name="uq_wishlist_user_product"),
        Index("ix_wishlist_user_created", "user_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    product_id: int = Field(foreign_key="product.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)
