"""The search port: what a search asks and answers, whichever adapter answers it.

Adapters (`elastic.py`, `database.py`) implement `SearchBackend`; the GraphQL layer and the
catalog never ask which one they have. Text is folded (`text.fold`) the same way for what is
indexed and for what is asked, so case, accents and punctuation never matter on either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol

from graphql_api.search.text import fold


class SearchSort(Enum):
    RELEVANCE = "relevance"  # ties: rating, then stock, then newest
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    RATING = "rating"
    NEWEST = "newest"


class SuggestionKind(Enum):
    PRODUCT = "product"
    BRAND = "brand"
    CATEGORY = "category"


@dataclass(frozen=True)
class SearchFilter:
    """Lists are OR within a field; fields are AND. Tags: all of them."""

    category_slugs: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()  # compared folded (case- and accent-blind)
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    tags: tuple[str, ...] = ()  # lower-cased, like stored tags
    min_rating: Decimal | None = None

    def without(self, facet: str) -> SearchFilter:
        """This filter minus one facet's own field (disjunctive facet counts)."""
        if facet == "categories":
            return SearchFilter(**{**self.__dict__, "category_slugs": ()})
        if facet == "brands":
            return SearchFilter(**{**self.__dict__, "brands": ()})
        return self


@dataclass(frozen=True)
class SearchRequest:
    query: str  # as typed; adapters fold it with text.fold. Empty: browse everything.
    filter: SearchFilter = field(default_factory=SearchFilter)
    sort: SearchSort = SearchSort.RELEVANCE
    offset: int = 0  # cursors are offsets into the ordered result (see MAX_OFFSET)
    limit: int = 20
    facets: bool = True  # computed only when the client asks for them
    highlights: bool = True  # the same: marking snippets is a good part of a search's work


MAX_OFFSET = 10_000  # deep pages beyond this are refused (Elasticsearch's max_result_window)

# The price-range facet's buckets, [min, max) in the shop currency; None is open.
PRICE_RANGES: tuple[tuple[Decimal | None, Decimal | None], ...] = (
    (None, Decimal(25)), (Decimal(25), Decimal(50)), (Decimal(50), Decimal(100)),
    (Decimal(100), Decimal(250)), (Decimal(250), Decimal(500)), (Decimal(500), None),
)


@dataclass(frozen=True)
class Highlight:
    field: str  # "name", "brand", "description"
    snippets: tuple[str, ...]  # matched words wrapped in <em>...</em>, the rest HTML-escaped


@dataclass(frozen=True)
class SearchHit:
    product_id: int
    score: float
    highlights: tuple[Highlight, ...] = ()


@dataclass(frozen=True)
class FacetBucket:
    value: str  # a category slug or a brand as stored
    count: int
    label: str | None = None  # a category's name


@dataclass(frozen=True)
class PriceBucket:
    min: Decimal | None
    max: Decimal | None
    count: int


@dataclass(frozen=True)
class Facets:
    categories: tuple[FacetBucket, ...] = ()  # by count desc, then value
    brands: tuple[FacetBucket, ...] = ()
    price_ranges: tuple[PriceBucket, ...] = ()  # PRICE_RANGES order, empty ones included


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[SearchHit, ...]
    total: int
    facets: Facets | None  # None when the request asked for none
    did_you_mean: str | None  # a corrected query, when the given one looks misspelt and the
    # correction finds more
    backend: str  # "ELASTICSEARCH" or "DATABASE": who answered


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: SuggestionKind
    product_id: int | None = None  # for PRODUCT


def distinct_suggestions(ranked: Iterable[tuple[Any, Suggestion]], limit: int) -> list[Suggestion]:
    """The first `limit` suggestions in rank order (the tuples' first items), one per text as
    folded: both adapters rank their own candidates, then keep them alike."""
    seen: set[str] = set()
    out: list[Suggestion] = []
    for _, suggestion in sorted(ranked, key=lambda pair: pair[0]):
        key = fold(suggestion.text)
        if key not in seen:
            seen.add(key)
            out.append(suggestion)
            if len(out) == limit:
                break
    return out


class SearchBackend(Protocol):
    kind: str  # "ELASTICSEARCH" or "DATABASE"

    async def search(self, request: SearchRequest) -> SearchResult: ...

    async def suggest(self, prefix: str, limit: int) -> list[Suggestion]: ...

    async def index(self, product_ids: Sequence[int]) -> None:
        """Make these products searchable as they now are in the database (a deleted or missing
        one leaves the index)."""

    async def ready(self) -> bool:
        """Whether this backend can answer now (the database adapter always can)."""

    async def close(self) -> None: ...


class SearchUnavailable(Exception):
    """The backend cannot answer now (unreachable, timing out, failing): the engine falls back."""
