"""The database adapter of the search port, through the adapter itself, on whichever database the
run uses (SQLite FTS5 embedded, PostgreSQL full-text search with DATABASE_URL).

Expected results come from the demo catalog read straight from the product table and filtered in
Python, so every filter, sort and facet is checked against an independent answer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from graphql_api.catalog import service
from graphql_api.catalog.records import ProductRecord
from graphql_api.core.errors import UserInputError
from graphql_api.core.resources import Resources
from graphql_api.search import database
from graphql_api.search.database import DatabaseSearch
from graphql_api.search.matching import edit_distance, prefix_distance
from graphql_api.search.port import (
    PRICE_RANGES,
    SearchFilter,
    SearchRequest,
    SearchResult,
    SearchSort,
    SuggestionKind,
)
from graphql_api.search.text import fold, words

ALL = 10_000  # a page size above the test catalog


@pytest.fixture(scope="module")
def search(resources: Resources) -> DatabaseSearch:
    return DatabaseSearch(resources.db)


async def live(resources: Resources) -> list[ProductRecord]:
    async with resources.db.read() as conn:
        return [service.product_record(r) for r in await conn.execute(service.live_products())]


async def ids(search: DatabaseSearch, query: str = "", **kwargs: Any) -> list[int]:
    result = await search.search(SearchRequest(query, limit=ALL, facets=False, **kwargs))
    assert result.total == len(result.hits)
    return [h.product_id for h in result.hits]


def unique_word() -> str:
    """A made-up word no demo product has (letters only, so fold keeps it whole)."""
    return "zq" + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:8])


@pytest.fixture
async def product(resources: Resources) -> AsyncIterator[Any]:
    """A factory of products written through the catalog service, deleted afterwards."""
    made: list[int] = []
    categories = await _categories(resources)

    async def make(**values: Any) -> int:
        values.setdefault("sku", "T-" + uuid.uuid4().hex[:12])
        values.setdefault("price", Decimal("19.99"))
        values.setdefault("stock", 5)
        values.setdefault("category_id", categories["headphones"])
        async with resources.db.transaction() as session:
            created = await service.create_product(session, values)
        assert created.id is not None
        made.append(created.id)
        return created.id

    yield make
    async with resources.db.transaction() as session:
        for product_id in made:
            with contextlib.suppress(UserInputError):  # deleted by the test itself
                await service.delete_product(session, product_id)


async def _categories(resources: Resources) -> dict[str, int]:
    async with resources.db.read() as conn:
        return {c.slug: c.id for c in await service.all_categories(conn)}


def searchable(p: ProductRecord) -> list[str]:
    category = p.category.name if p.category else ""
    return words(" ".join([p.name, p.brand or "", category, " ".join(p.tags), p.description]))


# --- matching ------------------------------------------------------------------------------------


async def test_every_word_must_match_the_last_as_a_prefix(resources: Resources,
                                                          search: DatabaseSearch) -> None:
    found = await ids(search, "wireless head")
    expected = {p.id for p in await live(resources)
                if "wireless" in (ws := searchable(p)) and any(w.startswith("head") for w in ws)}
    assert set(found) == expected and expected
    # Typo-tolerant words match more, never fewer: an exact query is a subset.
    assert set(await ids(search, "wireless headphones")) <= set(found)


async def test_name_matches_rank_above_other_fields(resources: Resources,
                                                    search: DatabaseSearch) -> None:
    named = {p.id for p in await live(resources)
             if {"wireless", "headphones"} <= set(words(p.name))}
    result = await search.search(SearchRequest("wireless headphones", limit=20))
    assert len(named) < result.total  # others match through brand, category, tags or description
    assert {h.product_id for h in result.hits[: len(named)]} == named
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


@pytest.mark.parametrize(("typo", "meant"), [
    ("wireles headphones", "wireless headphones"),  # one edit (7 letters)
    ("wireless hedphones", "wireless headphones"),  # one edit, last word
    ("bluetoth speaker", "bluetooth speaker"),  # one edit (8 letters)
    ("wirelss haedphnes", "wireless headphones"),  # a transposition and a deletion (10 letters)
    ("WIRELESS   Headphones!", "wireless headphones"),  # case and punctuation
])
async def test_typos_find_what_was_meant(search: DatabaseSearch, typo: str, meant: str) -> None:
    wanted = set(await ids(search, meant))
    assert wanted
    assert wanted <= set(await ids(search, typo))


async def test_edit_limits_follow_word_length(product: Any, search: DatabaseSearch) -> None:
    word = unique_word()  # 10 letters: two edits allowed
    await product(name=f"Test {word} Lamp", description="")
    assert await ids(search, word[:3] + word[4:] + " lamp")  # one deletion
    assert await ids(search, word[:3] + word[5:] + " lamp")  # two deletions
    assert not await ids(search, word[:3] + word[6:] + " lamp")  # three: too many
    short = word[:5]  # 5 letters: one edit, and not a vocabulary word of its own
    await product(name=f"Test {short} Lamp", description="")
    assert await ids(search, f"{short[:-1]}x lamp")
    assert not await ids(search, f"{short[:-2]}xx lamp")
    tiny = "qzv"  # 3 letters: exact only
    await product(name=f"Test {tiny} Lamp", description="")
    assert await ids(search, f"{tiny} lamp")
    assert not await ids(search, "qzx lamp")


async def test_case_accents_and_punctuation_never_matter(product: Any,
                                                         search: DatabaseSearch) -> None:
    word = unique_word()
    product_id = await product(name=f"Crème Brûlée Torch {word}", brand="Ærø Ståål")
    for query in ("creme brulee", "CRÈME BRÛLÉE", "Crème-Brûlée!", "crème", "CREME",
                  "aero staal", f"{word.upper()} torch"):
        assert product_id in await ids(search, query), query
    result = await search.search(SearchRequest("creme", limit=5))
    hit = next(h for h in result.hits if h.product_id == product_id)
    name = next(h for h in hit.highlights if h.field == "name")
    assert name.snippets == (f"<em>Crème</em> Brûlée Torch {word}",)


async def test_highlights_are_escaped_and_bounded(product: Any, search: DatabaseSearch) -> None:
    word = unique_word()
    sentences = " ".join(f"Sentence {i} about the {word} thing." for i in range(6))
    product_id = await product(name=f"Tom & Jerry <b>{word}</b>", brand="Acme", description=sentences)
    result = await search.search(SearchRequest(word))
    hit = next(h for h in result.hits if h.product_id == product_id)
    fields = {h.field: h.snippets for h in hit.highlights}
    assert fields["name"] == (f"Tom &amp; Jerry &lt;b&gt;<em>{word}</em>&lt;/b&gt;",)
    assert "brand" not in fields
    assert len(fields["description"]) == 3
    assert all(f"<em>{word}</em>" in s for s in fields["description"])


async def test_an_empty_query_browses_every_live_product(resources: Resources,
                                                         search: DatabaseSearch) -> None:
    catalog = await live(resources)
    result = await search.search(SearchRequest("   ", limit=ALL))
    assert result.total == len(catalog) == len(result.hits)
    assert result.did_you_mean is None and all(h.highlights == () for h in result.hits)


async def test_no_match(search: DatabaseSearch) -> None:
    result = await search.search(SearchRequest("qqqqzzzzxxxx"))
    assert result.total == 0 and result.hits == () and result.did_you_mean is None
    assert result.facets is not None and all(b.count == 0 for b in result.facets.price_ranges)
    assert result.backend == "DATABASE"


# --- did you mean --------------------------------------------------------------------------------


async def test_did_you_mean(search: DatabaseSearch) -> None:
    result = await search.search(SearchRequest("wireles hedphones"))
    assert result.did_you_mean == "wireless headphones"
    assert (await search.search(SearchRequest("bluetoth speker"))).did_you_mean == "bluetooth speaker"
    # Known words, and a last word that begins a known one, need no correction.
    assert (await search.search(SearchRequest("wireless headph"))).did_you_mean is None
    # Nothing within reach: no correction.
    assert (await search.search(SearchRequest("wireless qqqqzzzz"))).did_you_mean is None


async def test_did_you_mean_only_when_the_correction_finds_something(
    product: Any, search: DatabaseSearch
) -> None:
    a, b = unique_word(), unique_word()
    await product(name=f"Alpha {a}", description="")
    await product(name=f"Beta {b}", description="")
    # Each word corrects on its own, but no product has both: no suggestion.
    assert (await search.search(SearchRequest(f"{a[:-1]} {b[:-1]}x"))).did_you_mean is None
    assert (await search.search(SearchRequest(f"alpha {a[:-1]}x"))).did_you_mean == f"alpha {a}"


# --- filters -------------------------------------------------------------------------------------


def _passes(p: ProductRecord, f: SearchFilter) -> bool:
    return (
        (not f.category_slugs or (p.category is not None and p.category.slug in f.category_slugs))
        and (not f.brands or (p.brand is not None and fold(p.brand) in {fold(b) for b in f.brands}))
        and (f.min_price is None or p.price >= f.min_price)
        and (f.max_price is None or p.price <= f.max_price)
        and (f.in_stock is None or (p.stock > 0) == f.in_stock)
        and all(t in p.tags for t in f.tags)
        and (f.min_rating is None or p.rating >= f.min_rating)
    )


FILTERS = [
    SearchFilter(category_slugs=("headphones", "speakers")),
    SearchFilter(brands=("AURORA", "sonique", "Bassline")),
    SearchFilter(min_price=Decimal("25"), max_price=Decimal("49.99")),
    SearchFilter(max_price=Decimal("25")),
    SearchFilter(in_stock=True),
    SearchFilter(in_stock=False),
    SearchFilter(tags=("wireless", "bluetooth")),
    SearchFilter(min_rating=Decimal("4.5")),
    SearchFilter(category_slugs=("headphones",), brands=("Aurora", "Quietude"),
                 min_price=Decimal("50"), in_stock=True, min_rating=Decimal("3")),
    SearchFilter(brands=("No Such Brand",)),
]


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: ",".join(
    k for k, v in dataclasses.asdict(f).items() if v not in ((), None)))
async def test_filters(resources: Resources, search: DatabaseSearch, f: SearchFilter) -> None:
    catalog = await live(resources)
    expected = {p.id for p in catalog if _passes(p, f)}
    assert set(await ids(search, filter=f)) == expected
    assert expected or f.brands == ("No Such Brand",)
    # With a query, the filter narrows the query's matches.
    matched = set(await ids(search, "black"))
    assert set(await ids(search, "black", filter=f)) == matched & expected


async def test_inclusive_price_bounds(resources: Resources, search: DatabaseSearch) -> None:
    price = (await live(resources))[0].price
    exact = await ids(search, filter=SearchFilter(min_price=price, max_price=price))
    assert exact and all(p.price == price for p in await live(resources) if p.id in set(exact))


# --- sorts and paging ----------------------------------------------------------------------------


SORT_KEYS = {
    SearchSort.PRICE_ASC: lambda p: (p.price, p.id),
    SearchSort.PRICE_DESC: lambda p: (-p.price, -p.id),
    SearchSort.RATING: lambda p: (-p.rating, -p.id),
    SearchSort.NEWEST: lambda p: (-p.created_at.timestamp(), -p.id),
    SearchSort.RELEVANCE: lambda p: (-p.rating, -p.stock, -p.id),  # the empty query's order
}


@pytest.mark.parametrize("sort", list(SearchSort))
async def test_sorts(resources: Resources, search: DatabaseSearch, sort: SearchSort) -> None:
    catalog = await live(resources)
    assert await ids(search, sort=sort) == [p.id for p in sorted(catalog, key=SORT_KEYS[sort])]
    matched = set(await ids(search, "wireless"))
    with_query = await ids(search, "wireless", sort=sort)
    if sort is not SearchSort.RELEVANCE:
        assert with_query == [p.id for p in sorted(catalog, key=SORT_KEYS[sort]) if p.id in matched]


async def test_relevance_ties_break_by_rating_then_stock(resources: Resources,
                                                         search: DatabaseSearch) -> None:
    by_id = {p.id: p for p in await live(resources)}
    result = await search.search(SearchRequest("headphones", limit=ALL, facets=False))
    keys = [(-h.score, -by_id[h.product_id].rating, -by_id[h.product_id].stock, -h.product_id)
            for h in result.hits]
    assert keys == sorted(keys)


@pytest.mark.parametrize("sort", [SearchSort.RELEVANCE, SearchSort.PRICE_ASC])
async def test_offsets_page_through_everything_once(search: DatabaseSearch,
                                                    sort: SearchSort) -> None:
    everything = await ids(search, "black", sort=sort)
    assert len(everything) > 20
    seen: list[int] = []
    offset = 0
    while True:
        page = await search.search(SearchRequest("black", sort=sort, offset=offset, limit=7,
                                                 facets=offset == 0))
        assert page.total == len(everything)
        if not page.hits:
            break
        seen.extend(h.product_id for h in page.hits)
        offset += 7
    assert seen == everything


# --- facets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "f"), [
    ("", SearchFilter()),
    ("black", SearchFilter()),
    ("", SearchFilter(category_slugs=("headphones",), brands=("Aurora",), min_price=Decimal(50))),
    ("wireless", SearchFilter(brands=("aurora", "Sonique"), max_price=Decimal(300), in_stock=True)),
    ("", SearchFilter(category_slugs=("headphones", "laptops"), max_price=Decimal(500),
                      min_rating=Decimal(4))),
])
async def test_facet_counts_equal_filtered_totals(search: DatabaseSearch, query: str,
                                                  f: SearchFilter) -> None:
    result = await search.search(SearchRequest(query, filter=f, limit=3))
    facets = result.facets
    assert facets is not None
    assert result.total == (await search.search(SearchRequest(query, filter=f, facets=False))).total

    async def total(narrowed: SearchFilter) -> int:
        return (await search.search(SearchRequest(query, filter=narrowed, limit=0, facets=False))).total

    assert facets.categories and facets.brands
    for bucket in facets.categories:
        assert bucket.label
        assert bucket.count == await total(dataclasses.replace(f, category_slugs=(bucket.value,)))
    for bucket in facets.brands:
        assert bucket.count == await total(dataclasses.replace(f, brands=(bucket.value,)))
    assert [(b.min, b.max) for b in facets.price_ranges] == list(PRICE_RANGES)
    for price_bucket in facets.price_ranges:
        high = None if price_bucket.max is None else price_bucket.max - Decimal("0.01")
        narrowed = dataclasses.replace(f, min_price=price_bucket.min, max_price=high)
        assert price_bucket.count == await total(narrowed)
    for buckets in (facets.categories, facets.brands):
        assert [(-b.count, b.value) for b in buckets] == sorted((-b.count, b.value) for b in buckets)
    assert len(facets.brands) <= 50


async def test_facets_only_when_asked(search: DatabaseSearch) -> None:
    assert (await search.search(SearchRequest("black", facets=False))).facets is None


async def test_a_search_is_a_few_statements(search: DatabaseSearch, count_statements: Any) -> None:
    f = SearchFilter(brands=("Aurora",), min_price=Decimal(10), category_slugs=("headphones",))
    with count_statements() as counter:
        await search.search(SearchRequest("wireles hedphones", filter=f, limit=50))
    # vocabulary, brands, hits, facets and total, did-you-mean probe (+ SQLite's version check)
    assert counter.count <= 6, counter.statements


# --- writes are searchable at once ---------------------------------------------------------------


async def test_created_updated_and_deleted_products_are_seen_at_once(
    resources: Resources, search: DatabaseSearch, product: Any
) -> None:
    word, renamed = unique_word(), unique_word()
    product_id = await product(name=f"Gadget {word}", brand="Zeta", tags=["gizmo"])
    assert await ids(search, word) == [product_id]
    assert await ids(search, word[:-1] + "x") == [product_id]  # its word is in the vocabulary
    assert await ids(search, "gizmo", filter=SearchFilter(tags=("gizmo",))) == [product_id]

    async with resources.db.transaction() as session:
        await service.update_product(session, product_id, {"name": f"Gadget {renamed}"})
    assert await ids(search, word) == []
    assert await ids(search, renamed) == [product_id]
    assert await ids(search, renamed[:-1] + "x") == [product_id]
    suggestions = await search.suggest(renamed[:6], 5)
    assert [(s.text, s.kind, s.product_id) for s in suggestions] == [
        (f"Gadget {renamed}", SuggestionKind.PRODUCT, product_id)]

    async with resources.db.transaction() as session:
        await service.delete_product(session, product_id)
    assert await ids(search, renamed) == []
    assert await ids(search, "gizmo") == []
    assert await search.suggest(renamed[:6], 5) == []
    assert (await search.search(SearchRequest(renamed[:-1] + "x"))).did_you_mean is None


async def test_a_renamed_category_is_searchable_by_its_new_name(
    resources: Resources, search: DatabaseSearch, product: Any
) -> None:
    word = unique_word()
    categories = await _categories(resources)
    product_id = await product(name="Plain Thing", category_id=categories["books"])
    assert product_id not in await ids(search, word)
    rename = text("UPDATE category SET name = :name WHERE slug = 'books'")
    async with resources.db.engine.begin() as conn:
        old = (await conn.execute(text("SELECT name FROM category WHERE slug = 'books'"))).scalar_one()
        await conn.execute(rename, {"name": f"Books {word}"})
    try:
        assert product_id in await ids(search, word)
    finally:
        async with resources.db.engine.begin() as conn:
            await conn.execute(rename, {"name": old})
    assert product_id not in await ids(search, word)


# --- suggestions ---------------------------------------------------------------------------------


async def test_suggestions_complete_brands_categories_and_names(search: DatabaseSearch) -> None:
    suggestions = await search.suggest("aur", 8)
    assert suggestions[0].kind is SuggestionKind.BRAND
    assert {s.text for s in suggestions if s.kind is SuggestionKind.BRAND} >= {"Aurora"}
    products = [s for s in suggestions if s.kind is SuggestionKind.PRODUCT]
    assert products and all(s.product_id is not None for s in products)
    assert all(any(w.startswith("aur") for w in words(s.text)) for s in suggestions)
    assert len(suggestions) <= 8
    assert len({fold(s.text) for s in suggestions}) == len(suggestions)


async def test_suggestions_rank_products_by_rating(resources: Resources,
                                                   search: DatabaseSearch) -> None:
    by_id = {p.id: p for p in await live(resources)}
    products = [s for s in await search.suggest("headphones", 20) if s.product_id is not None]
    ratings = [by_id[s.product_id].rating for s in products if s.product_id is not None]
    assert ratings and ratings == sorted(ratings, reverse=True)


async def test_suggestions_tolerate_a_typo_after_two_letters(search: DatabaseSearch) -> None:
    exact = await search.suggest("headp", 8)
    typo = await search.suggest("hedp", 8)  # one edit after "he"
    assert typo and {s.text for s in typo} & {s.text for s in exact}
    assert any(s.kind is SuggestionKind.CATEGORY and s.text == "Headphones & Earbuds" for s in typo)
    assert not await search.suggest("ehadphones", 8)  # the first two letters are exact
    assert not await search.suggest("hex", 8) or all(
        any(w.startswith("hex") for w in words(s.text)) for s in await search.suggest("hex", 8))
    # Exact completions come before corrected ones.
    mixed = await search.suggest("blue", 30)
    quality = [0 if any(w.startswith("blue") for w in words(s.text)) else 1 for s in mixed]
    assert quality == sorted(quality)


@pytest.mark.parametrize("prefix", ["headp", "hedp", "blue", "speakr", "aur", "wireless noise"])
async def test_suggestions_are_the_same_when_the_rating_index_is_walked(
        search: DatabaseSearch, monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    """With many matching names (more than the demo catalog has) the best rated are found by
    walking the rating index instead of sorting every match, for exact completions and for
    corrections alike: the answer must not change."""
    sorted_ = await search.suggest(prefix, 12)
    monkeypatch.setattr(database, "_WALK_ABOVE", -1)
    assert await search.suggest(prefix, 12) == sorted_


async def test_suggestions_of_several_words(search: DatabaseSearch) -> None:
    suggestions = await search.suggest("wireless noise", 5)
    assert suggestions and all("wireless noise" in " ".join(words(s.text)) for s in suggestions)
    assert await search.suggest("", 5) == [] and await search.suggest("  !", 5) == []


# --- the text rules ------------------------------------------------------------------------------


def test_edit_distances() -> None:
    assert edit_distance("headphones", "hedphones", 2) == 1
    assert edit_distance("teh", "the", 2) == 1  # a transposition is one edit
    assert edit_distance("wireless", "wirelss", 1) == 1
    assert edit_distance("abcdef", "badcfe", 2) == 3  # capped at limit + 1
    assert prefix_distance("hedp", "headphones", 1) == 1
    assert prefix_distance("head", "headphones", 1) == 0
    assert prefix_distance("hxxd", "headphones", 1) == 2


async def test_ready_and_index_are_trivial(search: DatabaseSearch) -> None:
    assert await search.ready() is True
    await search.index([1, 2, 3])
    assert isinstance(await search.search(SearchRequest("black")), SearchResult)
