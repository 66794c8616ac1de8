"""Plain read records of catalog rows.

Reads skip the ORM: building SQLModel instances costs ~0.2 ms each, a slotted dataclass from a
Core row costs microseconds, and the records round-trip through the JSON cache cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select

from graphql_api.catalog.models import Category, Product


@dataclass(slots=True)
class ProductRecord:
    id: int
    sku: str
    slug: str
    name: str
    description: str
    price: Decimal
    currency: str
    discount_percent: int
    stock: int
    brand: str | None
    category_id: int | None
    tags: list[str]
    images: list[str]
    rating: Decimal
    review_count: int
    created_at: datetime
    updated_at: datetime
    # Joined in by list reads, so a page's categories need no second query.
    category: CategoryRecord | None = None

    def to_json(self) -> dict[str, Any]:
        # Spelt out: dataclasses.asdict deep-copies and costs ten times as much.
        return {
            "id": self.id, "sku": self.sku, "slug": self.slug, "name": self.name,
            "description": self.description, "price": str(self.price), "currency": self.currency,
            "discount_percent": self.discount_percent, "stock": self.stock, "brand": self.brand,
            "category_id": self.category_id, "tags": self.tags, "images": self.images,
            "rating": str(self.rating), "review_count": self.review_count,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
            "category": None if self.category is None else self.category.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProductRecord:
        data = dict(data)
        data["price"] = Decimal(data["price"])
        data["rating"] = Decimal(data["rating"])
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        data["updated_at"] = datetime.fromisoformat(data["updated_at"])
        if data.get("category") is not None:
            data["category"] = CategoryRecord.from_json(data["category"])
        return cls(**data)

    @classmethod
    def from_model(cls, product: Product) -> ProductRecord:
        return cls(**{f: getattr(product, f) for f in PRODUCT_FIELDS})


@dataclass(slots=True)
class CategoryRecord:
    id: int
    slug: str
    name: str
    description: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "slug": self.slug, "name": self.name,
                "description": self.description, "created_at": self.created_at.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CategoryRecord:
        return cls(**{**data, "created_at": datetime.fromisoformat(data["created_at"])})


PRODUCT_FIELDS = tuple(f.name for f in fields(ProductRecord) if f.name != "category")
CATEGORY_FIELDS = tuple(f.name for f in fields(CategoryRecord))
_product_table = Product.__table__  # type: ignore[attr-defined]
_category_table = Category.__table__  # type: ignore[attr-defined]


def select_products() -> Select[Any]:
    """Product columns, then the category's (null when it has none), in one outer join."""
    return select(
        *(_product_table.c[f] for f in PRODUCT_FIELDS),
        *(_category_table.c[f] for f in CATEGORY_FIELDS),
    ).outerjoin(_category_table, _category_table.c.id == _product_table.c.category_id)


def select_categories() -> Select[Any]:
    return select(*(_category_table.c[f] for f in CATEGORY_FIELDS))


_SPLIT = len(PRODUCT_FIELDS)


def product_record(row: Any) -> ProductRecord:
    """A row of `select_products`."""
    record = ProductRecord(*row[:_SPLIT])
    if row[_SPLIT] is not None:
        record.category = CategoryRecord(*row[_SPLIT:])
    return record


def category_record(row: Any) -> CategoryRecord:
    return CategoryRecord(*row)
