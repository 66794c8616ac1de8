"""GraphQL surface of search: `search` and `searchSuggestions`, thin over the engine."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from graphql_api.catalog.types import Product
from graphql_api.core.errors import BadUserInput
from graphql_api.core.pagination import Page, PageArgs, PageInfo
from graphql_api.search import port
from graphql_api.search.engine import SearchEngine
from graphql_api.tracking.subscribers import record_search

MAX_QUERY_CHARS = 200
MAX_FILTER_VALUES = 50
MAX_SUGGESTIONS = 20
MAX_PRICE = Decimal("1e10")


@strawberry.enum
class SearchSort(Enum):
    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    RATING = "rating"
    NEWEST = "newest"


@strawberry.enum
class SearchBackend(Enum):
    ELASTICSEARCH = "ELASTICSEARCH"
    DATABASE = "DATABASE"


SuggestionKind = strawberry.enum(port.SuggestionKind, name="SuggestionKind")


@strawberry.input(description="Lists are OR within a field; fields are AND.")
class SearchFilter:
    category_slugs: list[str] | None = None
    brands: list[str] | None = None
    min_price: Decimal | None = strawberry.field(default=None, description="List price, inclusive.")
    max_price: Decimal | None = strawberry.field(default=None, description="List price, inclusive.")
    in_stock: bool | None = None
    tags: list[str] | None = strawberry.field(default=None, description="All of these tags.")
    min_rating: Decimal | None = None


@strawberry.type
class Highlight:
    field: str
    snippets: list[str] = strawberry.field(
        description="Text around the matched words, which are wrapped in <em>; HTML-escaped.")


@strawberry.type
class SearchEdge:
    cursor: str
    score: float
    node: Product
    highlights: list[Highlight]


@strawberry.type
class FacetValue:
    value: str
    label: str | None
    count: int = strawberry.field(description="The totalCount with this value added to the filter.")


@strawberry.type
class PriceRange:
    min: Decimal | None = strawberry.field(description="Inclusive; null: no lower bound.")
    max: Decimal | None = strawberry.field(description="Exclusive; null: no upper bound.")
    count: int


@strawberry.type(description="Disjunctive: a facet's counts ignore its own filter field (so a "
                 "multi-select can offer the other values) and respect everything else.")
class SearchFacets:
    categories: list[FacetValue]
    brands: list[FacetValue]
    price_ranges: list[PriceRange]


@strawberry.type
class SearchSuggestion:
    text: str
    kind: SuggestionKind  # type: ignore[valid-type]
    product: Product | None


@strawberry.type
class SearchResult:
    edges: list[SearchEdge]
    page_info: PageInfo
    total_count: int
    backend: SearchBackend = strawberry.field(description="Who answered: Elasticsearch, or the "
                                              "database (embedded, or while it is away).")
    did_you_mean: str | None = strawberry.field(
        description="A corrected query, when this one looks misspelt and the correction finds more.")
    facets_data: strawberry.Private[port.Facets | None]

    @strawberry.field
    def facets(self) -> SearchFacets:
        f = self.facets_data or port.Facets()
        return SearchFacets(
            categories=[FacetValue(value=b.value, label=b.label, count=b.count)
                        for b in f.categories],
            brands=[FacetValue(value=b.value, label=None, count=b.count) for b in f.brands],
            price_ranges=[PriceRange(min=b.min, max=b.max, count=b.count)
                          for b in f.price_ranges])


def _offset_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _offset_after(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"]
    except (ValueError, TypeError, KeyError):
        raise BadUserInput("Invalid cursor.", field="after") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < port.MAX_OFFSET:
        raise BadUserInput("Invalid cursor.", field="after")
    return offset + 1


def _values(values: list[str] | None, name: str, lower: bool = False) -> tuple[str, ...]:
    if values is None:
        return ()
    if len(values) > MAX_FILTER_VALUES or any(len(v) > MAX_QUERY_CHARS for v in values):
        raise BadUserInput(f"`{name}`: at most {MAX_FILTER_VALUES} values of at most "
                           f"{MAX_QUERY_CHARS} characters.", field=name)
    cleaned = (v.strip().lower() if lower else v.strip() for v in values)
    return tuple(sorted({v for v in cleaned if v}))


def _filter(given: SearchFilter | None) -> port.SearchFilter:
    if given is None:
        return port.SearchFilter()
    for name in ("min_price", "max_price", "min_rating"):
        value = getattr(given, name)
        if value is not None and not (value.is_finite() and abs(value) < MAX_PRICE):
            raise BadUserInput(f"`{name}` must be a number below {MAX_PRICE:,f}.")
    if given.min_price is not None and given.max_price is not None and (
            given.min_price > given.max_price):
        raise BadUserInput("`minPrice` must not exceed `maxPrice`.")
    return port.SearchFilter(
        category_slugs=_values(given.category_slugs, "categorySlugs"),
        brands=_values(given.brands, "brands"), min_price=given.min_price,
        max_price=given.max_price, in_stock=given.in_stock,
        tags=_values(given.tags, "tags", lower=True), min_rating=given.min_rating)


def _asks_for(info: Info, *path: str) -> bool:
    """Whether the operation selects `path` (field names, outermost first) on this field's
    result, fragments included."""
    return any(_selects(field.selections, path) for field in info.selected_fields)


def _selects(selections: list[Selection], path: tuple[str, ...]) -> bool:
    # At module level: a nested recursive function is a reference cycle made on every call.
    name, rest = path[0], path[1:]
    for selection in selections:
        if isinstance(selection, SelectedField) and selection.name == name and (
                not rest or _selects(selection.selections, rest)):
            return True
        if isinstance(selection, (FragmentSpread, InlineFragment)) and _selects(
                selection.selections, path):
            return True
    return False


def _engine(info: Info) -> SearchEngine:
    return info.context.resources.search


@strawberry.type
class SearchQuery:
    @strawberry.field(description="Full-text product search with typo tolerance, filters and "
                      "facets. An empty query browses everything.")
    async def search(
        self, info: Info, query: str, filter: SearchFilter | None = None,
        sort_by: SearchSort = SearchSort.RELEVANCE, first: int | None = None,
        after: str | None = None,
    ) -> SearchResult:
        if len(query) > MAX_QUERY_CHARS:
            raise BadUserInput(f"A query is at most {MAX_QUERY_CHARS} characters.", field="query")
        page = PageArgs(first, after).validated(info.context.resources.settings.max_page_size)
        offset = _offset_after(after)
        request = port.SearchRequest(
            query=query, filter=_filter(filter), sort=port.SearchSort(sort_by.value),
            offset=offset, limit=min(page.size, port.MAX_OFFSET - offset),
            facets=_asks_for(info, "facets"), highlights=_asks_for(info, "edges", "highlights"))
        result = await _engine(info).search(request, info.context.catalog.reads)
        if after is None:  # a search's first page; the next pages are the same search
            claims = info.context.claims
            record_search(info.context.resources, query, result.total,
                          None if claims is None else claims.user_id)
        records = await info.context.catalog.product.load_many(
            [hit.product_id for hit in result.hits])
        edges = [
            SearchEdge(cursor=_offset_cursor(offset + i), score=hit.score,
                       node=Product.from_record(record),
                       highlights=[Highlight(field=h.field, snippets=list(h.snippets))
                                   for h in hit.highlights])
            for i, (hit, record) in enumerate(zip(result.hits, records, strict=True))
            if record is not None  # deleted since it was indexed
        ]
        has_next = offset + len(result.hits) < min(result.total, port.MAX_OFFSET)
        rows = [edge.cursor for edge in edges]
        page_info = PageInfo(has_next_page=has_next, has_previous_page=offset > 0,
                             page=Page(rows, lambda cursor: cursor, has_next, offset > 0))
        return SearchResult(edges=edges, page_info=page_info, total_count=result.total,
                            backend=SearchBackend(result.backend),
                            did_you_mean=result.did_you_mean, facets_data=result.facets)

    @strawberry.field(description="Completions for a search box: products, brands and "
                      "categories; typo-tolerant after the first two letters.")
    async def search_suggestions(self, info: Info, prefix: str, limit: int = 8
                                 ) -> list[SearchSuggestion]:
        if not 1 <= limit <= MAX_SUGGESTIONS:
            raise BadUserInput(f"`limit` must be between 1 and {MAX_SUGGESTIONS}.", field="limit")
        if len(prefix) > MAX_QUERY_CHARS:
            raise BadUserInput(f"A prefix is at most {MAX_QUERY_CHARS} characters.", field="prefix")
        suggestions = await _engine(info).suggest(prefix, limit, info.context.catalog.reads)
        ids = [s.product_id for s in suggestions if s.product_id is not None]
        products = dict(zip(ids, await info.context.catalog.product.load_many(ids), strict=True))
        found = []
        for s in suggestions:
            record = products.get(s.product_id) if s.product_id is not None else None
            if s.kind is port.SuggestionKind.PRODUCT and record is None:
                continue  # deleted since it was indexed
            found.append(SearchSuggestion(
                text=s.text, kind=s.kind,
                product=None if record is None else Product.from_record(record)))
        return found
