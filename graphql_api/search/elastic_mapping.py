"""The Elasticsearch index: its settings, its explicit mapping, and a product's document.

Built only from what the server's core has (the integration-test distribution CI runs has no
analysis-common, mapper-extras or painless): the `standard` analyzer over text the application
has already folded (`text.fold`: case, accents, punctuation), `index_prefixes` for the last word
typed, `keyword` fields for facets and filters, integers for prices and ratings (exact, and
`scaled_float` is not in the core), and `completion` fields for suggestions.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import lru_cache
from typing import Any

from graphql_api.catalog.records import ProductRecord
from graphql_api.search.text import _NON_WORD, _SPECIAL

# The searchable text fields (folded) and their weights: name > brand = category > tags > description.
TEXT_FIELDS: dict[str, float] = {
    "name": 5.0, "brand": 3.0, "category": 3.0, "tags": 2.0, "description": 1.0,
}
# How many word starts of a name (or brand, category) a completion can begin at: each start is
# one more completion input, and completion inputs are most of the cost of indexing a product.
_SUGGEST_WORD_STARTS = 5

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# The short prefixes, which a plain prefix query would expand to many terms; a longer one starts
# few terms, so the terms dictionary answers it cheaply (and each indexed prefix length costs
# a token per word at indexing time).
SHORT_PREFIX = 3
_PREFIXES = {"min_chars": 1, "max_chars": SHORT_PREFIX}


# Fields whose short prefixes are indexed. Not the description: its words are most of a
# product's tokens, and their prefixes cost ~45% of the time Elasticsearch takes to index a
# product (measured over 20,000); a description matches a last word of 4+ characters as a
# prefix from the terms dictionary, a shorter one only as a whole word (elastic_query.py).
PREFIXED_FIELDS = frozenset({"name", "brand", "category", "tags"})


def _text(field: str) -> dict[str, Any]:
    if field not in PREFIXED_FIELDS:
        return {"type": "text", "analyzer": "standard"}
    return {"type": "text", "analyzer": "standard", "index_prefixes": _PREFIXES}


def _completion(max_input_length: int) -> dict[str, Any]:
    # The keyword analyzer: inputs and prefixes come folded already.
    return {"type": "completion", "analyzer": "keyword", "search_analyzer": "keyword",
            "max_input_length": max_input_length}


MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        **{name: _text(name) for name in TEXT_FIELDS},
        "product_id": {"type": "long"},
        "brand_key": {"type": "keyword"},  # folded: what the brand filter compares
        "category_slug": {"type": "keyword"},
        # The facets' keys with their labels ("<folded brand>\x1f<brand as stored>", "<slug>
        # \x1f<category name>"): a label costs no sub-aggregation per bucket.
        "brand_facet": {"type": "keyword", "index": False},
        "category_facet": {"type": "keyword", "index": False},
        "tag_values": {"type": "keyword"},  # as stored (lower case)
        "price_cents": {"type": "long"},
        "stock": {"type": "integer"},
        "rating_hundredths": {"type": "integer"},
        "created_us": {"type": "long"},  # microseconds: NEWEST orders exactly as the database
        "shown": {"type": "object", "enabled": False},  # display text for suggestions
        "label_kind": {"type": "keyword"},  # "brand" or "category": a label document
        "suggest_name": _completion(50),
        "suggest_brand": _completion(100),
        "suggest_category": _completion(100),
    },
}


def index_settings(building: bool) -> dict[str, Any]:
    """One shard (exact facet counts, and 100,000 products fit one easily); replicas when the
    cluster has a second node. While building: no refresh until the end."""
    return {
        "number_of_shards": 1,
        "auto_expand_replicas": "0-1",
        # Set explicitly, so an idle shard still refreshes (a search-idle one would make
        # `refresh=wait_for` wait for the next search); half a second keeps a write's wait short
        # (a change is searchable within 2 s of the write, job latency included).
        "refresh_interval": "-1" if building else "500ms",
        # A build that fails is thrown away, so it need not fsync every bulk.
        "translog": {"durability": "async" if building else "request"},
    }


def served_settings() -> dict[str, Any]:
    """The dynamic settings a built index is switched to before the alias points at it."""
    served = index_settings(building=False)
    return {key: served[key] for key in ("refresh_interval", "translog")}


_ASCII_NON_WORD = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=1)
def _combining_marks() -> dict[int, None]:
    """A str.translate table deleting every combining mark (all below U+20000)."""
    return {cp: None for cp in range(0x20000) if unicodedata.combining(chr(cp))}


def fold_text(text: str) -> str:
    """`text.fold`, the same result at a fraction of the cost (a full reindex folds ~100 MB):
    ASCII takes a regex alone; otherwise combining marks go in one `str.translate` rather
    than a Python test per character."""
    if text.isascii():
        return " ".join(_ASCII_NON_WORD.sub(" ", text.lower()).split())
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL))
    stripped = decomposed.translate(_combining_marks())
    return " ".join(_NON_WORD.sub(" ", stripped).replace("_", " ").split())


# Brands, category names and tags repeat across products.
_fold_label = lru_cache(maxsize=4096)(fold_text)


def cents(amount: Decimal, rounding: str = ROUND_FLOOR) -> int:
    return int((amount * 100).to_integral_value(rounding=rounding))


def cents_at_least(amount: Decimal) -> int:
    """The smallest whole number of cents >= amount."""
    return cents(amount, ROUND_CEILING)


def word_starts(folded: str, every: bool = True) -> list[str]:
    """`"nova audio x"` -> `["nova audio x", "audio x", "x"]`: a completion may start at any word
    (unless `every` is false: then only at words of 3+ characters that are not numbers, which
    nobody starts typing a product name with: "2", "gb", "x")."""
    words = folded.split()
    starts = [i for i, w in enumerate(words)
              if i == 0 or every or (len(w) >= 3 and not w.isdigit())]
    return [" ".join(words[i:]) for i in starts[:_SUGGEST_WORD_STARTS]]


def document(product: ProductRecord) -> dict[str, Any]:
    """The indexed form of a live product: folded text to match, exact values to filter on."""
    category = product.category
    category_name = category.name if category is not None else ""
    name, brand_folded = fold_text(product.name), _fold_label(product.brand or "")
    return {
        "name": name,
        "brand": brand_folded,
        "category": _fold_label(category_name),
        "tags": [_fold_label(t) for t in product.tags],
        "description": fold_text(product.description),
        "product_id": product.id,
        "brand_key": brand_folded or None,
        "category_slug": category.slug if category is not None else None,
        "brand_facet": f"{brand_folded}{_FACET_SEPARATOR}{product.brand}" if brand_folded else None,
        "category_facet": (None if category is None
                           else f"{category.slug}{_FACET_SEPARATOR}{category.name}"),
        "tag_values": list(product.tags),
        "price_cents": cents(product.price),
        "stock": product.stock,
        "rating_hundredths": cents(product.rating),
        "created_us": (product.created_at - _EPOCH) // _MICROSECOND,
        "shown": {"name": product.name, "brand": product.brand, "category": category_name or None},
        # Products rank by rating among suggestions.
        "suggest_name": {"input": word_starts(name, every=False), "weight": cents(product.rating)},
    }


# Brands and categories are suggested from documents of their own, one per brand (folded) and
# per category: a few hundred completion inputs where copies in every product would be
# 100,000s (completion inputs are most of what indexing a product costs). They hold no
# `product_id`, so no product query matches them.
LABEL_KINDS = ("brand", "category")


_FACET_SEPARATOR = "\x1f"  # never in a slug or a folded brand


def facet_parts(value: str) -> tuple[str, str]:
    """A `brand_facet` or `category_facet` value: (key, label)."""
    key, _, label = value.partition(_FACET_SEPARATOR)
    return key, label


def label_id(kind: str, key: str) -> str:
    return f"{kind}:{key}"


def labels(product: ProductRecord) -> dict[str, tuple[str, str]]:
    """The labels this product needs: label id -> (kind, text as this product has it)."""
    found = {}
    brand_key = _fold_label(product.brand or "")
    if product.brand and brand_key:
        found[label_id("brand", brand_key)] = ("brand", product.brand)
    if product.category is not None and _fold_label(product.category.name):
        found[label_id("category", product.category.slug)] = ("category", product.category.name)
    return found


def product_labels(source: dict[str, Any]) -> set[str]:
    """The label ids an indexed product document (its `brand_key`, `category_slug`) needs."""
    found = set()
    if source.get("brand_key"):
        found.add(label_id("brand", source["brand_key"]))
    if source.get("category_slug"):
        found.add(label_id("category", source["category_slug"]))
    return found


@lru_cache(maxsize=4096)
def label_document(kind: str, text: str) -> dict[str, Any]:
    """(Cached, so shared: never change one.)"""
    return {"label_kind": kind, "shown": {kind: text},
            f"suggest_{kind}": {"input": word_starts(_fold_label(text)), "weight": 1}}


# Label id -> kind and spellings seen, counted (a build labels a brand as most products spell it).
LabelSpellings = dict[str, tuple[str, Counter[str]]]


def bulk_payload(products: list[ProductRecord], seen: LabelSpellings) -> bytes:
    """NDJSON bulk `index` actions for these products (built off the event loop by a build);
    their labels are counted into `seen`, to be indexed once at the end."""
    lines = []
    for product in products:
        lines.append(f'{{"index":{{"_id":"{product.id}"}}}}')
        lines.append(json.dumps(document(product), ensure_ascii=False, separators=(",", ":")))
        for label, (kind, text) in labels(product).items():
            seen.setdefault(label, (kind, Counter()))[1][text] += 1
    lines.append("")
    return "\n".join(lines).encode()


def label_operations(seen: LabelSpellings) -> list[dict[str, Any]]:
    """Bulk actions for a build's labels, each as most of its products spell it."""
    operations: list[dict[str, Any]] = []
    for label, (kind, spellings) in seen.items():
        text = min(spellings, key=lambda t: (-spellings[t], t))
        operations += [{"index": {"_id": label}}, label_document(kind, text)]
    return operations


def index_operations(ids: list[int], live: dict[int, ProductRecord]
                     ) -> tuple[list[dict[str, Any]], set[str]]:
    """Bulk actions for `index`: the live products and their labels indexed, the others
    deleted; and the ids of those labels."""
    operations: list[dict[str, Any]] = []
    needed: dict[str, tuple[str, str]] = {}
    for pid in ids:
        if pid in live:
            operations += [{"index": {"_id": str(pid)}}, document(live[pid])]
            needed.update(labels(live[pid]))
        else:
            operations.append({"delete": {"_id": str(pid)}})
    # `create`: a label that exists keeps its text (a build chose it: the commonest spelling).
    for label, (kind, text) in needed.items():
        operations += [{"create": {"_id": label}}, label_document(kind, text)]
    return operations, set(needed)
