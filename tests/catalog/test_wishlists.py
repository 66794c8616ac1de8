"""Wishlists: the caller's own live products, newest added first; adding is idempotent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graphql_api.core.ids import to_global_id
from tests.catalog.test_product_admin import DELETE
from tests.catalog.test_reviews import customer, new_product, settle_jobs
from tests.conftest import GraphQLClient

ADD = """mutation($id: ID!) { wishlistAdd(input: {productId: $id}) {
  product { id name } userErrors { field code message } } }"""
REMOVE = """mutation($id: ID!) { wishlistRemove(input: {productId: $id}) {
  product { id } userErrors { field code message } } }"""
WISHLIST = """query($first: Int, $after: String, $last: Int, $before: String) {
  wishlist(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name category { slug } } } } }"""


async def add(gql: GraphQLClient, token: str, product_id: str) -> dict[str, Any]:
    return (await gql.data(ADD, {"id": product_id}, token))["wishlistAdd"]  # type: ignore[no-any-return]


async def remove(gql: GraphQLClient, token: str, product_id: str) -> dict[str, Any]:
    return (await gql.data(REMOVE, {"id": product_id}, token))["wishlistRemove"]  # type: ignore[no-any-return]


async def wishlist_ids(gql: GraphQLClient, token: str) -> list[str]:
    connection = (await gql.data(WISHLIST, {"first": 100}, token))["wishlist"]
    assert connection["totalCount"] == len(connection["edges"])
    return [e["node"]["id"] for e in connection["edges"]]


def codes(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def test_signed_out_callers_are_unauthenticated(gql: GraphQLClient, admin_token: str) -> None:
    product = await new_product(gql, admin_token)
    for query, variables in [(WISHLIST, {}), (ADD, {"id": product["id"]}),
                             (REMOVE, {"id": product["id"]})]:
        body = await gql(query, variables)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert body["data"] is None


async def test_add_is_idempotent_and_remove_of_an_absent_product_is_not_found(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    token = await customer(resources)
    product = await new_product(gql, admin_token)
    assert await wishlist_ids(gql, token) == []

    added = await add(gql, token, product["id"])
    assert added == {"product": {"id": product["id"], "name": f"Reviewed {product['sku']}"},
                     "userErrors": []}
    assert (await add(gql, token, product["id"]))["userErrors"] == []
    assert await wishlist_ids(gql, token) == [product["id"]]

    removed = await remove(gql, token, product["id"])
    assert removed == {"product": {"id": product["id"]}, "userErrors": []}
    assert await wishlist_ids(gql, token) == []
    again = await remove(gql, token, product["id"])
    assert again["product"] is None and codes(again) == [(["productId"], "NOT_FOUND")]


async def test_unknown_wrong_type_and_deleted_products_are_not_found(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    token = await customer(resources)
    deleted = await new_product(gql, admin_token)
    await gql.data(DELETE, {"id": deleted["id"]}, admin_token)
    category_id = (await gql.data("{ categories { id } }"))["categories"][0]["id"]
    for product_id in (to_global_id("Product", 2**31 - 1), category_id, deleted["id"]):
        for payload in (await add(gql, token, product_id), await remove(gql, token, product_id)):
            assert payload["product"] is None
            assert codes(payload) == [(["productId"], "NOT_FOUND")]
    assert await wishlist_ids(gql, token) == []


async def test_each_caller_sees_only_their_own_wishlist(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    mine, theirs = await customer(resources), await customer(resources)
    product = await new_product(gql, admin_token)
    await add(gql, mine, product["id"])
    assert await wishlist_ids(gql, mine) == [product["id"]]
    assert await wishlist_ids(gql, theirs) == []
    refused = await remove(gql, theirs, product["id"])
    assert codes(refused) == [(["productId"], "NOT_FOUND")]
    assert await wishlist_ids(gql, mine) == [product["id"]]


async def test_concurrent_adds_of_one_product_all_succeed_once(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    token = await customer(resources)
    product = await new_product(gql, admin_token)
    results = await asyncio.gather(*(add(gql, token, product["id"]) for _ in range(8)))
    assert all(r["userErrors"] == [] for r in results)
    assert await wishlist_ids(gql, token) == [product["id"]]


async def _walk(gql: GraphQLClient, token: str, size: int, backwards: bool) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        args = {"last": size, "before": cursor} if backwards else {"first": size, "after": cursor}
        connection = (await gql.data(WISHLIST, args, token))["wishlist"]
        info = connection["pageInfo"]
        ids = [e["node"]["id"] for e in connection["edges"]]
        assert len(ids) <= size
        if backwards:
            seen = ids + seen
            assert info["hasNextPage"] is (cursor is not None)
            if not info["hasPreviousPage"]:
                return seen
            cursor = info["startCursor"]
        else:
            seen += ids
            assert info["hasPreviousPage"] is (cursor is not None)
            if not info["hasNextPage"]:
                return seen
            cursor = info["endCursor"]


async def test_wishlist_pages_newest_added_first_and_loses_deleted_products(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    token = await customer(resources)
    products = [(await new_product(gql, admin_token))["id"] for _ in range(7)]
    for product_id in products:
        await add(gql, token, product_id)
    await add(gql, token, products[0])  # adding again keeps the first time it was added
    newest_first = list(reversed(products))

    assert await _walk(gql, token, 3, backwards=False) == newest_first
    assert await _walk(gql, token, 3, backwards=True) == newest_first
    page = (await gql.data(WISHLIST, {"first": 2}, token))["wishlist"]
    assert page["totalCount"] == 7 and page["pageInfo"]["hasNextPage"] is True

    await gql.data(DELETE, {"id": products[3]}, admin_token)
    remaining = [p for p in newest_first if p != products[3]]
    assert await _walk(gql, token, 4, backwards=False) == remaining
    assert (await gql.data(WISHLIST, {"first": 1}, token))["wishlist"]["totalCount"] == 6


async def test_a_page_is_one_statement_plus_the_count(
    gql: GraphQLClient, resources: Any, admin_token: str, count_statements: Any
) -> None:
    token = await customer(resources)
    category = (await gql.data("{ categories { id slug } }"))["categories"][0]
    for _ in range(5):
        await add(gql, token, (await new_product(gql, admin_token, categoryId=category["id"]))["id"])
    await settle_jobs(resources)
    counts = []
    for size in (2, 5):
        with count_statements() as counter:
            page = (await gql.data(WISHLIST, {"first": size}, token))["wishlist"]
        assert len(page["edges"]) == size and page["totalCount"] == 5
        assert all(e["node"]["category"] == {"slug": category["slug"]} for e in page["edges"])
        wishlist_reads = [s for s in counter.statements if "wishlist_item" in s]
        assert len(wishlist_reads) == 2, counter.statements  # the page (categories joined), the count
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 3, counts  # with the caller's own row


@pytest.mark.parametrize("args", [{"first": 101}, {"first": 1, "last": 1},
                                  {"first": 1, "after": "garbage"}])
async def test_bad_page_arguments_are_bad_input(gql: GraphQLClient, resources: Any,
                                                args: dict[str, Any]) -> None:
    body = await gql(WISHLIST, args, await customer(resources))
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
