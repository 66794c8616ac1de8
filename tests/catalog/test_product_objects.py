"""`Product.from_record` builds its object without the dataclass constructor; it must be the
object the constructor makes, field for field."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import strawberry

from graphql_api.catalog.records import CategoryRecord, ProductRecord
from graphql_api.catalog.types import Money, Product
from graphql_api.core.ids import to_global_id


def test_from_record_is_the_constructors_object() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    record = ProductRecord(
        id=42, sku="SKU-42", slug="lamp", name="Lamp", description="A lamp", price=Decimal("19.90"),
        currency="EUR", discount_percent=10, stock=3, brand="Orbis", category_id=7,
        tags=["home"], images=["https://cdn.example/1.jpg"], rating=Decimal("4.50"),
        review_count=2, created_at=now, updated_at=now,
        category=CategoryRecord(id=7, slug="home", name="Home", description="", created_at=now))
    built = Product.from_record(record)
    expected = Product(
        id=strawberry.ID(to_global_id("Product", 42)), sku="SKU-42", slug="lamp", name="Lamp",
        description="A lamp", price=Money(amount=Decimal("19.90"), currency="EUR"),
        discount_percent=10, stock=3, brand="Orbis", tags=["home"],
        images=["https://cdn.example/1.jpg"], rating=4.5, review_count=2, created_at=now,
        updated_at=now, record=record)
    assert type(built) is Product and built == expected
    assert vars(built) == vars(expected)
    assert [f.name for f in dataclasses.fields(Product) if f.init] == list(vars(built))
