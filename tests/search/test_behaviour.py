"""One behavioural suite for every search adapter: relevance, filters, facets, paging, freshness
and suggestions, the same tests against the database adapter and against Elasticsearch."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from graphql_api.catalog import service as catalog
from graphql_api.core.resources import Resources
from graphql_api.search.port import (
    PRICE_RANGES,
    SearchBackend,
    SearchFilter,
    SearchRequest,
    SearchSort,
    SuggestionKind,
)
from graphql_api.search.text import fold
from tests.catalog.test_product_admin import new_sku


@dataclass(frozen=True)
class Row:
    id: int
    name: list[str]
    brand: str
    category: str
    tags: tuple[str, ...]
    price: Decimal
    stock: int
    rating: Decimal
    created_at: str


Predicate = Callable[[Row], bool]


def name(*words: str) -> Predicate:
    return lambda r: all(w in r.name for w in words)


def name_prefix(word: str, *whole: str) -> Predicate:
    return lambda r: any(t.startswith(word) for t in r.name) and all(w in r.name for w in whole)


def brand(value: str) -> Predicate:
    return lambda r: r.brand == fold(value)


def category(slug: str) -> Predicate:
    return lambda r: r.category == slug


def both(a: Predicate, b: Predicate) -> Predicate:
    return lambda r: a(r) and b(r)


async def catalog_rows(resources: Resources) -> list[Row]:
    async with resources.db.read() as conn:
        rows = await conn.execute(text(
            "SELECT p.id, p.name, p.brand, c.slug, p.tags, p.price, p.stock, p.rating, p.created_at "
            "FROM product p LEFT JOIN category c ON c.id = p.category_id "
            "WHERE p.deleted_at IS NULL"))
        found = []
        for r in rows:
            tags = r[4] if isinstance(r[4], list) else json.loads(r[4])  # JSON text on SQLite
            found.append(Row(r[0], fold(r[1]).split(), fold(r[2] or ""), r[3] or "",
                             tuple(tags), Decimal(str(r[5])), r[6], Decimal(str(r[7])), str(r[8])))
        return found


# (query, what the top results must be). The top min(5, matching) hits must all match.
RELEVANCE: list[tuple[str, Predicate]] = [
    # exact words
    ("smartphone", name("smartphone")),
    ("headphones", name("headphones")),
    ("laptop", name("laptop")),
    ("sunscreen", name("sunscreen")),
    ("kettle", name("kettle")),
    ("sofa", name("sofa")),
    ("duffel bag", name("duffel", "bag")),
    ("cat tree", name("cat", "tree")),
    ("cordless", name("cordless")),
    ("capsules", name("capsules")),
    # the last word as a prefix (search as you type)
    ("smartph", name_prefix("smartph")),
    ("headph", name_prefix("headph")),
    ("wireless head", name_prefix("head", "wireless")),
    ("noise canc", name_prefix("canc", "noise")),
    ("portable ss", name_prefix("ss", "portable")),
    ("sunscr", name_prefix("sunscr")),
    # one edit (words of 4+ letters)
    ("smartphne", name("smartphone")),
    ("hedphones", name("headphones")),
    ("labtop", name("laptop")),
    ("sunscren", name("sunscreen")),
    ("kettls", name("kettle")),
    ("wireles headphones", name("wireless", "headphones")),
    ("waterprof", name("waterproof")),
    ("capsulez", name("capsules")),
    # two edits (words of 8+ letters)
    ("smartfone", name("smartphone")),
    ("headfones", name("headphones")),
    ("cancelng noise", name("noise", "cancelling")),
    ("wireles hedphones", name("wireless", "headphones")),
    # brand and category words
    ("orbis tablet", both(brand("Orbis"), name("tablet"))),
    ("tonebird headphones", both(brand("Tonebird"), name("headphones"))),
    ("echoform", brand("Echoform")),
    ("maison chef", brand("Maison Chef")),
    ("purely botanica", brand("Purely Botanica")),
    ("cadenza", brand("Cadenza")),
    ("tinker & tot", brand("Tinker & Tot")),
    ("jewellery", category("jewellery")),
    ("cookware", category("cookware")),
    # several words
    ("rugged smartphone", name("rugged", "smartphone")),
    ("bluetooth speaker", name("bluetooth", "speaker")),
    ("noise cancelling headphones", name("noise", "cancelling", "headphones")),
    # case, accents and punctuation
    ("SMARTPHONE", name("smartphone")),
    ("smártphöne", name("smartphone")),
    ("Héadphònes!", name("headphones")),
    ("TINKER&TOT", brand("Tinker & Tot")),
]
NO_RESULTS = ["xylophonezzq", "qqqq wwww", "zzzzzzzzzzzz"]


@pytest.mark.parametrize(("query", "expected"), RELEVANCE, ids=[q for q, _ in RELEVANCE])
async def test_relevance(backend: SearchBackend, resources: Resources, query: str,
                         expected: Predicate) -> None:
    rows = {r.id: r for r in await catalog_rows(resources)}
    matching = {i for i, r in rows.items() if expected(r)}
    assert matching, f"the test set is wrong: nothing in the catalog matches {query!r}"
    result = await backend.search(SearchRequest(query=query, limit=20, facets=False))
    top = [hit.product_id for hit in result.hits[:min(5, len(matching))]]
    assert top and set(top) <= matching, (
        query, [" ".join(rows[i].name) for i in top], result.total)


@pytest.mark.parametrize("query", NO_RESULTS)
async def test_nonsense_finds_nothing(backend: SearchBackend, query: str) -> None:
    result = await backend.search(SearchRequest(query=query))
    assert (result.total, result.hits) == (0, ())


async def test_an_empty_query_browses_everything(backend: SearchBackend,
                                                 resources: Resources) -> None:
    rows = await catalog_rows(resources)
    result = await backend.search(SearchRequest(query="", limit=50))
    assert result.total == len(rows)
    ranked = [(r.rating, r.stock, r.id) for r in sorted(rows, key=lambda r: (
        r.rating, r.stock, r.id), reverse=True)][:50]
    by_id = {r.id: r for r in rows}
    assert [(by_id[h.product_id].rating, by_id[h.product_id].stock, h.product_id)
            for h in result.hits] == ranked


@pytest.mark.parametrize("sort", list(SearchSort))
async def test_every_sort_orders_the_whole_result(backend: SearchBackend, resources: Resources,
                                                  sort: SearchSort) -> None:
    rows = {r.id: r for r in await catalog_rows(resources)}
    result = await backend.search(SearchRequest(query="smartphone", sort=sort, limit=100,
                                                facets=False))
    ids = [h.product_id for h in result.hits]
    assert len(ids) == result.total > 5
    key: dict[SearchSort, Callable[[Row], Any]] = {
        SearchSort.PRICE_ASC: lambda r: (r.price, r.id),
        SearchSort.PRICE_DESC: lambda r: (-r.price, -r.id),
        SearchSort.RATING: lambda r: (-r.rating, -r.id),
    }
    if sort in key:
        assert ids == sorted(ids, key=lambda i: key[sort](rows[i]))
    elif sort is SearchSort.NEWEST:
        moments = [rows[i].created_at for i in ids]
        assert moments == sorted(moments, reverse=True)
    else:
        scores = [h.score for h in result.hits]
        assert scores == sorted(scores, reverse=True)


async def test_paging_visits_each_product_once(backend: SearchBackend) -> None:
    seen: list[int] = []
    offset = 0
    while True:
        page = await backend.search(SearchRequest(query="", offset=offset, limit=37,
                                                  facets=False))
        seen += [h.product_id for h in page.hits]
        offset += 37
        if offset >= page.total:
            break
    assert len(seen) == len(set(seen)) == page.total


FILTERS: list[tuple[SearchFilter, Callable[[Row], bool]]] = [
    (SearchFilter(category_slugs=("headphones", "speakers")),
     lambda r: r.category in ("headphones", "speakers")),
    (SearchFilter(brands=("orbis", "TONEBIRD")), lambda r: r.brand in ("orbis", "tonebird")),
    (SearchFilter(min_price=Decimal(50), max_price=Decimal("199.99")),
     lambda r: Decimal(50) <= r.price <= Decimal("199.99")),
    (SearchFilter(in_stock=True), lambda r: r.stock > 0),
    (SearchFilter(in_stock=False), lambda r: r.stock <= 0),
    (SearchFilter(tags=("bluetooth", "music")),
     lambda r: "bluetooth" in r.tags and "music" in r.tags),
    (SearchFilter(min_rating=Decimal(4)), lambda r: r.rating >= 4),
    (SearchFilter(category_slugs=("smartphones",), min_price=Decimal(300), in_stock=True),
     lambda r: r.category == "smartphones" and r.price >= 300 and r.stock > 0),
]


@pytest.mark.parametrize(("search_filter", "expected"), FILTERS)
async def test_filters(backend: SearchBackend, resources: Resources,
                       search_filter: SearchFilter, expected: Callable[[Row], bool]) -> None:
    rows = await catalog_rows(resources)
    wanted = {r.id for r in rows if expected(r)}
    result = await backend.search(SearchRequest(query="", filter=search_filter, limit=100,
                                                facets=False))
    assert result.total == len(wanted)
    assert {h.product_id for h in result.hits} <= wanted
    assert len(result.hits) == min(100, len(wanted))


def _with(f: SearchFilter, **changes: Any) -> SearchFilter:
    return SearchFilter(**{**f.__dict__, **changes})


@pytest.mark.parametrize(("query", "search_filter"), [
    ("", SearchFilter()),
    ("smartphone", SearchFilter()),
    ("", SearchFilter(category_slugs=("headphones",), brands=("tonebird",))),
    ("wireless", SearchFilter(in_stock=True, min_price=Decimal(20))),
])
async def test_facet_counts_are_what_selecting_them_gives(
    backend: SearchBackend, query: str, search_filter: SearchFilter
) -> None:
    """Disjunctive: a bucket counts what its value alone gives with every other filter field
    (a product has one category and one brand, so a selected value adds exactly its count)."""
    async def total(f: SearchFilter) -> int:
        return (await backend.search(SearchRequest(query=query, filter=f, facets=False))).total

    f = search_filter
    result = await backend.search(SearchRequest(query=query, filter=f))
    assert result.facets is not None
    assert result.facets.categories and result.facets.brands
    for bucket in result.facets.categories:
        assert bucket.label
        assert bucket.count == await total(_with(f, category_slugs=(bucket.value,))), bucket
        if f.category_slugs and bucket.value not in f.category_slugs:
            grown = _with(f, category_slugs=(*f.category_slugs, bucket.value))
            assert await total(grown) - await total(f) == bucket.count, bucket
    for bucket in result.facets.brands:
        assert bucket.count == await total(_with(f, brands=(bucket.value,))), bucket
    counts = [b.count for b in result.facets.brands]
    assert counts == sorted(counts, reverse=True)
    assert [(b.min, b.max) for b in result.facets.price_ranges] == list(PRICE_RANGES)
    for bucket in result.facets.price_ranges:  # [min, max): from min, less those from max
        unbounded = _with(f, min_price=bucket.min, max_price=None)
        beyond = 0 if bucket.max is None else await total(_with(f, min_price=bucket.max,
                                                                max_price=None))
        assert bucket.count == await total(unbounded) - beyond, bucket


async def test_did_you_mean(backend: SearchBackend) -> None:
    corrected = await backend.search(SearchRequest(query="hedphones", facets=False))
    assert corrected.did_you_mean == "headphones"
    assert (await backend.search(SearchRequest(query="headphones"))).did_you_mean is None
    assert (await backend.search(SearchRequest(query="xylophonezzq"))).did_you_mean is None
    # The correction is tested under the same filter: offered where it finds something there.
    in_category = SearchFilter(category_slugs=("headphones",))
    assert (await backend.search(SearchRequest(query="hedphones", filter=in_category))
            ).did_you_mean == "headphones"
    elsewhere = SearchFilter(category_slugs=("cookware",))
    assert (await backend.search(SearchRequest(query="hedphones", filter=elsewhere))
            ).did_you_mean is None


async def test_highlights_mark_the_matched_words(backend: SearchBackend) -> None:
    result = await backend.search(SearchRequest(query="headphones", limit=3, facets=False))
    for hit in result.hits:
        names = [h for h in hit.highlights if h.field == "name"]
        assert names and any("<em>" in s.lower() and "headphones</em>" in s.lower()
                             for s in names[0].snippets), hit


@pytest.mark.parametrize("request_", [
    SearchRequest(query="headphones", facets=False),
    SearchRequest(query="wireles hedphones"),  # typos, facets, did_you_mean
    SearchRequest(query="speaker", sort=SearchSort.PRICE_ASC, limit=5, offset=2),
    SearchRequest(query="smartph", filter=SearchFilter(in_stock=True)),
    SearchRequest(query=""),  # browsing: nothing to mark either way
], ids=["word", "typos", "sorted-page", "prefix-filtered", "browse"])
async def test_hits_without_highlights_are_the_same_hits(backend: SearchBackend,
                                                         request_: SearchRequest) -> None:
    """Highlights are computed only when asked; not asking changes nothing else."""
    marked = await backend.search(request_)
    plain = await backend.search(replace(request_, highlights=False))
    assert plain.hits == tuple(replace(h, highlights=()) for h in marked.hits)
    assert (plain.total, plain.facets, plain.did_you_mean) == (
        marked.total, marked.facets, marked.did_you_mean)
    assert all(not h.highlights for h in plain.hits)
    if request_.query:
        assert any(h.highlights for h in marked.hits)


async def test_suggestions(backend: SearchBackend) -> None:
    brands = await backend.suggest("tone", 8)
    assert any(s.kind is SuggestionKind.BRAND and s.text == "Tonebird" for s in brands)
    products = await backend.suggest("smartph", 8)
    assert products and all(s.kind is not SuggestionKind.PRODUCT or s.product_id
                            for s in products)
    assert any(s.kind is SuggestionKind.PRODUCT and "Smartphone" in s.text for s in products)
    typo = await backend.suggest("smrtph", 8)  # an edit after the first two letters
    assert any("Smartphone" in s.text for s in typo)
    assert await backend.suggest("xq", 8) == []
    categories = await backend.suggest("jewel", 8)
    assert any(s.kind is SuggestionKind.CATEGORY for s in categories)
    assert len(await backend.suggest("s", 3)) <= 3


async def test_writes_are_searchable_as_they_now_are(backend: SearchBackend,
                                                     resources: Resources) -> None:
    async with resources.db.transaction() as session:
        product = await catalog.create_product(session, {
            "sku": new_sku(), "name": "Zanzibarite Quokka Lamp", "price": Decimal("33"),
            "stock": 3})
    assert product.id is not None
    await backend.index([product.id])
    found = await backend.search(SearchRequest(query="zanzibarite", facets=False))
    assert [h.product_id for h in found.hits] == [product.id]
    async with resources.db.transaction() as session:
        await catalog.update_product(session, product.id, {"name": "Marzipanic Quokka Lamp"})
    await backend.index([product.id])
    assert (await backend.search(SearchRequest(query="zanzibarite"))).total == 0
    assert (await backend.search(SearchRequest(query="marzipanic"))).total == 1
    async with resources.db.transaction() as session:
        await catalog.delete_product(session, product.id)
    await backend.index([product.id])
    assert (await backend.search(SearchRequest(query="marzipanic quokka"))).total == 0
    assert not [s for s in await backend.suggest("marzipan", 8) if s.product_id == product.id]
