"""The DummyJSON mapping, item by item, and the provider registry."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from graphql_api.sync.provider import UnknownProvider, available, get_provider
from graphql_api.sync.records import InvalidItem

provider = get_provider("dummyjson")

ITEM: dict[str, Any] = {
    "id": 1, "title": "Essence Mascara Lash Princess", "description": "A mascara.",
    "category": "beauty", "price": 9.99, "discountPercentage": 7.17, "rating": 4.94, "stock": 5,
    "tags": ["Beauty", "mascara", "beauty"], "brand": "Essence", "sku": "RCH45Q1A",
    "images": ["https://cdn.dummyjson.com/1.png"], "thumbnail": "https://cdn.dummyjson.com/t.png",
    "weight": 2, "reviews": [], "meta": {"barcode": "9164035109868"},
}


def test_registry_finds_providers_by_module_name() -> None:
    assert "dummyjson" in available()
    assert provider.name == "dummyjson"
    for name in ("nope", "../dummyjson", "Dummyjson"):
        with pytest.raises(UnknownProvider):
            get_provider(name)


def test_page_urls_and_pages() -> None:
    assert provider.page_url("https://dummyjson.com/", 200, 100) == (
        "https://dummyjson.com/products?limit=100&skip=200")
    page = provider.parse_page({"products": [ITEM], "total": 194, "skip": 0, "limit": 1})
    assert page.total == 194 and page.items == [ITEM]
    for body in ({"products": "x"}, [], {"products": [], "total": -1}, {"items": []}):
        with pytest.raises(ValueError, match="not a DummyJSON page"):
            provider.parse_page(body)


def test_a_full_item() -> None:
    record = provider.normalise(ITEM)
    assert record.external_id == "1" and record.sku == "RCH45Q1A"
    assert (record.price, record.discount_percent, record.rating, record.stock) == (
        Decimal("9.99"), 7, Decimal("4.94"), 5)
    assert record.tags == ("beauty", "mascara") and record.category == "beauty"
    assert record.images == ("https://cdn.dummyjson.com/1.png",)


def test_optional_fields() -> None:
    bare = {"id": "abc", "title": " Plain ", "price": "12.345", "thumbnail": "https://x.test/t.png"}
    record = provider.normalise(bare)
    assert (record.name, record.price, record.stock, record.brand, record.category) == (
        "Plain", Decimal("12.35"), 0, None, None)
    assert record.sku == "dummyjson-abc"  # no SKU upstream: one from the id
    assert record.images == ("https://x.test/t.png",)  # the thumbnail when there are no images
    assert record.discount_percent == 0 and record.rating == Decimal("0.00")


def test_the_hash_follows_the_content() -> None:
    same = provider.normalise(dict(ITEM, weight=99, meta={}))  # fields we do not keep
    assert same.content_hash() == provider.normalise(ITEM).content_hash()
    assert provider.normalise(dict(ITEM, price=10)).content_hash() != same.content_hash()


@pytest.mark.parametrize(("change", "reason"), [
    ({"price": None}, "price: missing"),
    ({"price": "free"}, "price: not a number"),
    ({"price": True}, "price: not a number"),
    ({"price": -1}, "price: out of range"),
    ({"price": "NaN"}, "price: not a number"),
    ({"stock": -3}, "stock: out of range"),
    ({"stock": 2.5}, "stock: not a whole number"),
    ({"title": ""}, "title: missing"),
    ({"title": 5}, "title: not text"),
    ({"discountPercentage": 120}, "discountPercentage: out of range"),
    ({"rating": 7}, "rating: out of range"),
    ({"tags": "a,b"}, "tags: not a list of strings"),
    ({"images": ["ftp://x"]}, "images: not http(s) URLs"),
    ({"sku": "has spaces"}, "sku: not a valid SKU"),
])
def test_invalid_items_say_why(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidItem) as caught:
        provider.normalise({**ITEM, **change})
    assert caught.value.external_id == "1"
    assert caught.value.reason.startswith(reason)


def test_an_item_without_an_id() -> None:
    for item in ({"title": "x", "price": 1}, {"id": None}, {"id": True}, "not an object"):
        with pytest.raises(InvalidItem) as caught:
            provider.normalise(item)
        assert caught.value.external_id is None
