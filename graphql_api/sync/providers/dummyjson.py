"""DummyJSON's product API: `GET {base}/products?limit=&skip=` -> `{products, total, skip, limit}`."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from graphql_api.catalog.service import MAX_IMAGES, MAX_TAGS, SKU_PATTERN
from graphql_api.sync.records import InvalidItem, ParsedPage, ProductData

CENT = Decimal("0.01")
MAX_PRICE = Decimal("1e10")


def _decimal(value: Any, external_id: str, name: str) -> Decimal:
    # bool is an int: `true` is no price.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidItem(external_id, f"{name}: not a number ({value!r})")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidItem(external_id, f"{name}: not a number ({value!r})") from None
    if not amount.is_finite():
        raise InvalidItem(external_id, f"{name}: not a number ({value!r})")
    return amount


def _text(value: Any, external_id: str, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidItem(external_id, f"{name}: not text ({type(value).__name__})")
    value = value.strip()
    if len(value) > limit:
        raise InvalidItem(external_id, f"{name}: longer than {limit} characters")
    return value


def _strings(value: Any, external_id: str, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidItem(external_id, f"{name}: not a list of strings")
    return [v.strip() for v in value if v.strip()]


class DummyJsonProvider:
    name = "dummyjson"

    def page_url(self, base_url: str, skip: int, limit: int) -> str:
        return f"{base_url.rstrip('/')}/products?{urlencode({'limit': limit, 'skip': skip})}"

    def parse_page(self, body: Any) -> ParsedPage:
        if not isinstance(body, dict) or not isinstance(body.get("products"), list):
            raise ValueError("not a DummyJSON page: no `products` list")
        total = body.get("total", len(body["products"]))
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ValueError(f"not a DummyJSON page: `total` is {total!r}")
        return ParsedPage(items=body["products"], total=total)

    def external_id(self, item: Any) -> str | None:
        if not isinstance(item, dict):
            return None
        value = item.get("id")
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
            return None
        text = str(value).strip()
        return text if len(text) <= 128 else None

    def normalise(self, item: Any) -> ProductData:
        external_id = self.external_id(item)
        if external_id is None:
            raise InvalidItem(None, "no usable `id`")
        assert isinstance(item, dict)
        name = _text(item.get("title"), external_id, "title", 255)
        if not name:
            raise InvalidItem(external_id, "title: missing")
        if item.get("price") is None:
            raise InvalidItem(external_id, "price: missing")
        price = _decimal(item["price"], external_id, "price").quantize(CENT, ROUND_HALF_UP)
        if price < 0 or price >= MAX_PRICE:
            raise InvalidItem(external_id, f"price: out of range ({price})")
        stock = item.get("stock", 0)
        if isinstance(stock, bool) or not isinstance(stock, int):
            raise InvalidItem(external_id, f"stock: not a whole number ({stock!r})")
        if not 0 <= stock < 2**31:
            raise InvalidItem(external_id, f"stock: out of range ({stock})")
        discount = _decimal(item.get("discountPercentage") or 0, external_id, "discountPercentage")
        if not 0 <= discount <= 100:
            raise InvalidItem(external_id, f"discountPercentage: out of range ({discount})")
        rating = _decimal(item.get("rating") or 0, external_id, "rating")
        if not 0 <= rating <= 5:
            raise InvalidItem(external_id, f"rating: out of range ({rating})")
        sku = _text(item.get("sku"), external_id, "sku", 64) or f"{self.name}-{external_id}"
        if not SKU_PATTERN.match(sku):
            raise InvalidItem(external_id, f"sku: not a valid SKU ({sku!r})")
        images = _strings(item.get("images"), external_id, "images")
        thumbnail = _text(item.get("thumbnail"), external_id, "thumbnail", 2000)
        if not images and thumbnail:
            images = [thumbnail]  # Product.thumbnail is the first image
        if any(not u.startswith(("http://", "https://")) or len(u) > 2000 for u in images):
            raise InvalidItem(external_id, "images: not http(s) URLs")
        tags = list(dict.fromkeys(t.lower() for t in _strings(item.get("tags"), external_id, "tags")
                                  if len(t) <= 50))
        category = _text(item.get("category"), external_id, "category", 200) or None
        return ProductData(
            external_id=external_id,
            sku=sku,
            name=name,
            description=_text(item.get("description"), external_id, "description", 20_000),
            price=price,
            # Our discounts are whole percents: 12.5 becomes 13 (half up, like prices).
            discount_percent=int(discount.quantize(Decimal(1), ROUND_HALF_UP)),
            stock=stock,
            brand=_text(item.get("brand"), external_id, "brand", 120) or None,
            category=category,
            tags=tuple(tags[:MAX_TAGS]),
            images=tuple(images[:MAX_IMAGES]),
            rating=rating.quantize(CENT, ROUND_HALF_UP),
        )


PROVIDER = DummyJsonProvider()
