"""Search through GraphQL over HTTP, as a storefront asks it, on whichever backend is configured."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

from tests.catalog.test_product_admin import CREATE, DELETE, UPDATE, new_sku

SEARCH = """query($q: String!, $f: SearchFilter, $s: SearchSort, $first: Int, $after: String) {
  search(query: $q, filter: $f, sortBy: $s, first: $first, after: $after) {
    totalCount backend didYouMean
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor score node { id name brand stock } highlights { field snippets } }
    facets { categories { value label count } brands { value count }
             priceRanges { min max count } } } }"""
SUGGEST = """query($p: String!, $n: Int) { searchSuggestions(prefix: $p, limit: $n) {
  text kind product { id name } } }"""
EXPECTED_BACKEND = "ELASTICSEARCH" if os.environ.get("ELASTICSEARCH_URL") else "DATABASE"


async def _search(gql: Any, q: str, **variables: Any) -> dict[str, Any]:
    return (await gql.data(SEARCH, {"q": q, **variables}))["search"]  # type: ignore[no-any-return]


async def test_a_search_answers_with_hits_facets_and_its_backend(gql: Any,
                                                                 search_ready: None) -> None:
    result = await _search(gql, "hedphones", first=5)
    assert result["backend"] == EXPECTED_BACKEND
    assert result["didYouMean"] == "headphones"
    assert result["totalCount"] >= 5 and len(result["edges"]) == 5
    assert all("headphones" in e["node"]["name"].lower() for e in result["edges"])
    assert all(e["highlights"] for e in result["edges"])
    facets = result["facets"]
    assert facets["categories"][0]["value"] == "headphones"
    assert facets["categories"][0]["label"] == "Headphones & Earbuds"
    assert sum(b["count"] for b in facets["priceRanges"]) == result["totalCount"]


async def test_paging_with_cursors_visits_each_product_once(gql: Any, search_ready: None) -> None:
    seen, after = [], None
    while True:
        page = await _search(gql, "", first=50, after=after)
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"]
    assert page["pageInfo"]["hasPreviousPage"] is True


async def test_facets_in_fragments_are_computed(gql: Any, search_ready: None) -> None:
    query = """query { search(query: "smartphone", first: 1) { ...F } }
               fragment F on SearchResult { totalCount ... on SearchResult {
                 facets { brands { value count } } } }"""
    data = await gql.data(query)
    assert data["search"]["facets"]["brands"], data


async def test_highlights_are_computed_when_asked_in_any_form(gql: Any,
                                                              search_ready: None) -> None:
    """Not asked, none are made; the same search asked with them (here in a fragment, after
    the plain one may be cached) has them."""
    plain = """query { search(query: "headphones", first: 3) { edges { node { id } } } }"""
    assert len((await gql.data(plain))["search"]["edges"]) == 3
    fragment = """query { search(query: "headphones", first: 3) { edges { node { id } ...E } } }
                  fragment E on SearchEdge { highlights { field snippets } }"""
    edges = (await gql.data(fragment))["search"]["edges"]
    assert len(edges) == 3 and all(e["highlights"] for e in edges), edges
    inline = """query { search(query: "headphones", first: 3) { ... on SearchResult {
                  edges { ... on SearchEdge { highlights { field } } } } } }"""
    edges = (await gql.data(inline))["search"]["edges"]
    assert all(e["highlights"] for e in edges), edges


@pytest.mark.parametrize("variables", [
    {"first": 101}, {"first": -1}, {"after": "not-a-cursor"}, {"q": "x" * 201},
    {"f": {"minPrice": "10", "maxPrice": "5"}}, {"f": {"minPrice": "1e12"}},
    {"f": {"brands": ["b"] * 51}},
])
async def test_bad_arguments_are_bad_user_input(gql: Any, variables: dict[str, Any]) -> None:
    body = await gql(SEARCH, {"q": "tea", **variables})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


async def test_suggestions(gql: Any, search_ready: None) -> None:
    data = await gql.data(SUGGEST, {"p": "smrtph", "n": 5})
    products = [s for s in data["searchSuggestions"] if s["kind"] == "PRODUCT"]
    assert products and all(s["product"]["name"] == s["text"] for s in products)
    body = await gql(SUGGEST, {"p": "sm", "n": 0})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def _until(check: Any, seconds: float = 2.0) -> float:
    """How long `check()` took to come true; fails after `seconds`."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < seconds, "not searchable in time"
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def test_writes_are_searchable_within_two_seconds(gql: Any, admin_token: str,
                                                        search_ready: None, worker: None) -> None:
    sku = new_sku()
    created = await gql.data(CREATE, {"input": {"sku": sku, "name": "Quixotic Walrus Teapot",
                                                "price": "21", "stock": 4}}, admin_token)
    product_id = created["productCreate"]["product"]["id"]

    async def names(q: str) -> list[str]:
        return [e["node"]["id"] for e in (await _search(gql, q))["edges"]]

    async def found() -> bool:
        return await names("quixotic walrus") == [product_id]

    await _until(found, 30.0)  # the first one may wait for the worker to start
    await gql.data(UPDATE, {"id": product_id, "input": {"name": "Quizzical Walrus Teapot"}},
                   admin_token)

    async def renamed() -> bool:
        return await names("quixotic") == [] and await names("quizzical walrus") == [product_id]

    await _until(renamed)
    await gql.data(DELETE, {"id": product_id}, admin_token)

    async def gone() -> bool:
        return await names("quizzical walrus") == []

    await _until(gone)
