"""Plain read records of catalog rows.

Reads skip the ORM: building SQLModel instances costs ~0.2 ms each, a slotted dataclass from a
Core row costs microseconds, and the records round-trip through the JSON cache cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
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


class _NotRead:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_READ"


# A record field its read left out (catalog/projection.py): no field the request asks for
# reads it, and anything that did would fail on it rather than see a plausible value.
NOT_READ: Any = _NotRead()


@dataclass(frozen=True, slots=True)
class Projection:
    """A read of some of a product's columns: its select and the records of its rows."""

    select: Select[Any]
    positions: tuple[int, ...]  # per PRODUCT_FIELDS: its column in the row, or -1
    category_at: int  # where the category's columns start in the row; -1: not joined

    def record(self, row: Any) -> ProductRecord:
        record = ProductRecord(*[NOT_READ if i < 0 else row[i] for i in self.positions])
        if self.category_at >= 0 and row[self.category_at] is not None:
            record.category = CategoryRecord(*row[self.category_at:])
        return record


@lru_cache(maxsize=128)
def projection(columns: frozenset[str]) -> Projection:
    """The product fields in `columns` (ProductRecord's names; "category": the joined
    category), in PRODUCT_FIELDS order, and the category's columns after them if asked for."""
    names = [f for f in PRODUCT_FIELDS if f in columns]
    selected = [_product_table.c[f] for f in names]
    stmt: Select[Any]
    if "category" in columns:
        stmt = select(*selected, *(_category_table.c[f] for f in CATEGORY_FIELDS)).outerjoin(
            _category_table, _category_table.c.id == _product_table.c.category_id)
    else:
        stmt = select(*selected).select_from(_product_table)
    return Projection(stmt, tuple(names.index(f) if f in names else -1 for f in PRODUCT_FIELDS),
                      len(names) if "category" in columns else -1)
