"""Every connection pages through everything it holds, with every sort a client can choose.

Each walk goes forward to the end with `first/after` and back to the start with `last/before`,
twice (the second time from the caches), and checks that every item comes exactly once, in the
sort's order, and that both directions agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from graphql_api.catalog.service import SortField
from graphql_api.core.ids import decode_pk
from tests.conftest import GraphQLClient

PAGE = """
fragment Page on ProductConnection {
  totalCount
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { id name price { amount } stock rating createdAt } }
}
query Products($first: Int, $after: String, $last: Int, $before: String, $sortBy: ProductSort) {
  connection: products(first: $first, after: $after, last: $last, before: $before,
                       sortBy: $sortBy) { ...Page }
}
query CategoryProducts($slug: String!, $first: Int, $after: String, $last: Int, $before: String,
                       $sortBy: ProductSort) {
  category(slug: $slug) {
    connection: products(first: $first, after: $after, last: $last, before: $before,
                         sortBy: $sortBy) { ...Page }
  }
}
"""

# How a node shows each sort's value (NAME is ordered by the database's collation, which Python
# cannot reproduce; its walk still checks each product comes once and both directions agree).
SORT_VALUE: dict[str, Callable[[dict[str, Any]], Any] | None] = {
    "NAME": None,
    "PRICE": lambda n: Decimal(n["price"]["amount"]),
    "CREATED_AT": lambda n: datetime.fromisoformat(n["createdAt"]),
    "STOCK": lambda n: n["stock"],
    "RATING": lambda n: Decimal(n["rating"]),
}
# None: the client does not choose; {"direction": ...} alone keeps the default field.
SORTS: list[dict[str, str] | None] = [None, {"direction": "ASC"}, {"direction": "DESC"}] + [
    {"field": f.name, "direction": d} for f in SortField for d in ("ASC", "DESC")
]


def sort_id(sort: dict[str, str] | None) -> str:
    return "default" if sort is None else "-".join(sort.values())


Fetch = Callable[[dict[str, Any]], Any]


async def walk(fetch: Fetch, size: int, node_type: str) -> tuple[list[dict[str, Any]], int]:
    """All nodes forward, checked against the walk back; returns them and totalCount."""
    forward: list[dict[str, Any]] = []
    after, total, pages = None, None, 0
    while True:
        conn = await fetch({"first": size, "after": after})
        total = conn["totalCount"] if total is None else total
        assert conn["totalCount"] == total
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        forward += [e["node"] for e in conn["edges"]]
        pages += 1
        assert pages <= total // size + 2, "the walk does not end"
        if not conn["pageInfo"]["hasNextPage"]:
            assert len(conn["edges"]) <= size
            break
        assert len(conn["edges"]) == size
        assert conn["pageInfo"]["endCursor"] == conn["edges"][-1]["cursor"]
        after = conn["pageInfo"]["endCursor"]
    backward: list[dict[str, Any]] = []
    before = None
    while True:
        conn = await fetch({"last": size, "before": before})
        assert conn["pageInfo"]["hasNextPage"] is (before is not None)
        backward = [e["node"] for e in conn["edges"]] + backward
        if not conn["pageInfo"]["hasPreviousPage"]:
            break
        assert conn["pageInfo"]["startCursor"] == conn["edges"][0]["cursor"]
        before = conn["pageInfo"]["startCursor"]
    ids = [n["id"] for n in forward]
    assert len(ids) == len(set(ids)) == total
    assert [n["id"] for n in backward] == ids
    assert all(decode_pk(i, node_type) is not None for i in ids)
    return forward, total


def assert_sorted(nodes: list[dict[str, Any]], sort: dict[str, str] | None) -> None:
    field = (sort or {}).get("field", "CREATED_AT")
    descending = (sort or {}).get("direction", "DESC") == "DESC"
    value = SORT_VALUE[field]
    if value is None:
        return
    # The id breaks ties, in the sort's direction.
    keys = [(value(n), decode_pk(n["id"], "Product")) for n in nodes]
    assert keys == sorted(keys, reverse=descending)


@pytest.mark.parametrize("sort", SORTS, ids=sort_id)
async def test_products_page_through_the_whole_catalog(gql: GraphQLClient,
                                                       sort: dict[str, str] | None) -> None:
    async def fetch(args: dict[str, Any]) -> Any:
        data = await gql.data(PAGE, {**args, "sortBy": sort}, operation="Products")
        return data["connection"]

    nodes, total = await walk(fetch, 47, "Product")
    assert total >= 300
    assert_sorted(nodes, sort)
    assert await walk(fetch, 47, "Product") == (nodes, total)  # again, from the caches


@pytest.mark.parametrize("sort", SORTS, ids=sort_id)
async def test_category_products_page_through_the_category(gql: GraphQLClient,
                                                           sort: dict[str, str] | None) -> None:
    categories = (await gql.data("{ categories { slug productCount } }"))["categories"]
    biggest = max(categories, key=lambda c: c["productCount"])

    async def fetch(args: dict[str, Any]) -> Any:
        data = await gql.data(PAGE, {**args, "slug": biggest["slug"], "sortBy": sort},
                              operation="CategoryProducts")
        return data["category"]["connection"]

    nodes, total = await walk(fetch, 3, "Product")
    assert total == biggest["productCount"] >= 4
    assert_sorted(nodes, sort)
