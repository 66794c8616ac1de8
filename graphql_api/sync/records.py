"""What providers produce: normalised product records, and why an item was refused."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


class InvalidItem(ValueError):
    """An upstream item that cannot become a product; the run skips it and records why."""

    def __init__(self, external_id: str | None, reason: str) -> None:
        super().__init__(reason)
        self.external_id = external_id
        self.reason = reason


@dataclass(frozen=True)
class ProductData:
    """An upstream product in our terms; what the content hash covers."""

    external_id: str
    sku: str
    name: str
    description: str
    price: Decimal
    discount_percent: int
    stock: int
    brand: str | None
    category: str | None  # a name; the sync creates the category (slugified) when missing
    tags: tuple[str, ...]
    images: tuple[str, ...]
    rating: Decimal

    def content_hash(self) -> str:
        # Field by field (dataclasses.asdict deep-copies: a third of a no-change run's time).
        plain = [self.external_id, self.sku, self.name, self.description, str(self.price),
                 self.discount_percent, self.stock, self.brand, self.category, self.tags,
                 self.images, str(self.rating)]
        encoded = json.dumps(plain, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True)
class ParsedPage:
    """One upstream page: its items, still raw, and the upstream's total count."""

    items: list[Any]
    total: int


@dataclass(frozen=True)
class ItemError:
    external_id: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"external_id": self.external_id, "reason": self.reason}
