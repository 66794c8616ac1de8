"""The demo catalog generator: deterministic, prefix-stable and plausible."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

from graphql_api.catalog.demo import (
    DemoProduct,
    demo_categories,
    demo_product,
    demo_products,
    demo_sku,
    price_band,
    slugify,
)
from graphql_api.catalog.seed import BASE_TIME, product_timestamps

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
SKU = re.compile(r"[A-Z]{3}-\d{6,}")
SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


@pytest.fixture(scope="module")
def products() -> list[DemoProduct]:
    return list(demo_products(5000))


def test_same_seed_same_catalog() -> None:
    assert list(demo_products(300, seed=7)) == list(demo_products(300, seed=7))
    assert list(demo_products(50, seed=7)) != list(demo_products(50, seed=8))


def test_smaller_run_is_a_prefix_of_a_larger_one() -> None:
    large = list(demo_products(1500, seed=11))
    assert list(demo_products(400, seed=11)) == large[:400]
    # Random access agrees with the iterator, so a seeder can skip existing SKUs cheaply.
    for i in (0, 1, 399, 1499):
        assert demo_product(i, seed=11) == large[i]
        assert demo_sku(i, seed=11) == large[i].sku


def test_global_random_state_is_neither_used_nor_touched() -> None:
    random.seed(1)
    state = random.getstate()
    first = list(demo_products(100))
    assert random.getstate() == state
    random.seed(999)
    assert list(demo_products(100)) == first


def test_categories() -> None:
    categories = demo_categories()
    assert len(categories) >= 24
    assert len({c.slug for c in categories}) == len(categories)
    assert len({c.name for c in categories}) == len(categories)
    for c in categories:
        assert SLUG.fullmatch(c.slug)
        assert c.name and c.description
        lo, hi = price_band(c.slug)
        assert Decimal(0) < lo < hi


def test_a_thousand_products_cover_every_category() -> None:
    products = list(demo_products(1000))
    assert len(products) == 1000
    used = Counter(p.category_slug for p in products)
    assert set(used) == {c.slug for c in demo_categories()}
    assert len(used) >= 20
    # Weighted but not lopsided: no category dominates.
    assert max(used.values()) < 0.1 * len(products)


def test_skus_and_slugs_are_unique(products: list[DemoProduct]) -> None:
    assert len({p.sku for p in products}) == len(products)
    assert len({p.slug for p in products}) == len(products)
    for p in products:
        assert SKU.fullmatch(p.sku)
        assert SLUG.fullmatch(p.slug)
        assert p.slug == f"{slugify(p.name)}-{p.sku.lower()}"
        assert len(p.slug) <= 255 and len(p.name) <= 255


def test_prices(products: list[DemoProduct]) -> None:
    for p in products:
        assert isinstance(p.price, Decimal)
        assert p.price.as_tuple().exponent == -2
        lo, hi = price_band(p.category_slug)
        assert lo <= p.price <= hi
        assert str(p.price)[-2:] in {"99", "49", "95", "00"}
        assert p.currency == "USD"
    assert len({p.price for p in products}) > 500


def test_stock_and_discounts(products: list[DemoProduct]) -> None:
    assert all(0 <= p.stock <= 500 for p in products)
    out_of_stock = sum(p.stock == 0 for p in products) / len(products)
    assert 0.04 < out_of_stock < 0.12
    assert all(p.discount_percent == 0 or 5 <= p.discount_percent <= 40 for p in products)
    discounted = sum(p.discount_percent > 0 for p in products) / len(products)
    assert 0.1 < discounted < 0.4


def test_ratings_and_reviews(products: list[DemoProduct]) -> None:
    rated = []
    for p in products:
        assert 0 <= p.review_count <= 2000
        assert p.rating.as_tuple().exponent == -2
        if p.review_count == 0:
            assert p.rating == 0
        else:
            assert Decimal("1.00") <= p.rating <= Decimal("5.00")
            rated.append(p.rating)
    assert len(rated) < len(products)  # some products have no reviews yet
    mean = sum(rated) / len(rated)
    assert Decimal("3.8") < mean < Decimal("4.4")
    typical = sum(Decimal("3.5") <= r <= Decimal("4.8") for r in rated) / len(rated)
    assert typical > 0.75


def test_tags_and_images(products: list[DemoProduct]) -> None:
    for p in products:
        assert 2 <= len(p.tags) <= 5
        assert len(set(p.tags)) == len(p.tags)
        assert ("sale" in p.tags) == (p.discount_percent > 0)
        assert 1 <= len(p.images) <= 4
        assert p.images == tuple(
            f"https://cdn.demo-shop.example/products/{p.sku}/{n}.jpg" for n in range(1, len(p.images) + 1)
        )
    tags = Counter(t for p in products for t in p.tags)
    assert {"new", "bestseller", "eco", "sale"} <= set(tags)


def test_names_and_descriptions_read_like_a_shop(products: list[DemoProduct]) -> None:
    for p in products:
        assert "\u2013" in p.name  # an en dash between the product and its variant
        assert p.brand
        if p.category_slug != "books":
            assert p.name.startswith(p.brand)
        sentences = len(SENTENCE_END.findall(p.description))
        assert 2 <= sentences <= 4, p.description
        assert "{" not in p.description and "}" not in p.description
    assert len({p.name for p in products}) > 0.9 * len(products)
    assert len({p.description for p in products}) > 0.9 * len(products)


def test_timestamps_spread_over_the_year_before_the_base_time() -> None:
    stamps = [product_timestamps(i) for i in range(2000)]
    for created, updated in stamps:
        assert created.tzinfo is not None
        assert BASE_TIME - timedelta(days=366) <= created <= updated <= BASE_TIME
    created_days = {(BASE_TIME - c).days for c, _ in stamps}
    assert len(created_days) > 300
    assert product_timestamps(42) == product_timestamps(42)
