"""Catalog reads over GraphQL: connections, filters, sorts, lookups, categories, nodes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

PRODUCTS = """
query Products($first: Int, $after: String, $last: Int, $before: String,
               $filter: ProductFilter, $sortBy: ProductSort) {
  products(first: $first, after: $after, last: $last, before: $before,
           filter: $filter, sortBy: $sortBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id sku name price { amount currency } stock inStock brand tags
                          rating createdAt category { slug name } } }
  }
}
"""


def nodes(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in data["products"]["edges"]]


async def test_first_page_has_products_with_money_as_decimal_strings(gql: Any) -> None:
    data = await gql.data(PRODUCTS, {"first": 5})
    items = nodes(data)
    assert len(items) == 5
    assert data["products"]["totalCount"] >= 300
    assert data["products"]["pageInfo"]["hasNextPage"] is True
    for item in items:
        assert isinstance(item["price"]["amount"], str)
        Decimal(item["price"]["amount"])
        assert item["price"]["currency"] == "USD"
    demo = await gql.data(PRODUCTS, {"first": 5, "sortBy": {"field": "NAME", "direction": "ASC"},
                                     "filter": {"inStock": True, "minPrice": "0.01"}})
    assert all(n["category"]["slug"] for n in nodes(demo) if not n["sku"].startswith("TEST-"))


async def test_forward_pagination_visits_every_product_once(gql: Any) -> None:
    seen: list[str] = []
    after = None
    total = None
    while True:
        data = await gql.data(PRODUCTS, {"first": 100, "after": after,
                                         "sortBy": {"field": "PRICE", "direction": "ASC"}})
        total = data["products"]["totalCount"]
        prices = [Decimal(n["price"]["amount"]) for n in nodes(data)]
        assert prices == sorted(prices)
        seen += [n["id"] for n in nodes(data)]
        info = data["products"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert len(seen) == len(set(seen)) == total


async def test_backward_pagination_mirrors_forward(gql: Any) -> None:
    sort = {"field": "NAME", "direction": "ASC"}
    first = await gql.data(PRODUCTS, {"first": 10, "sortBy": sort})
    second = await gql.data(PRODUCTS, {"first": 10, "sortBy": sort,
                                       "after": first["products"]["pageInfo"]["endCursor"]})
    back = await gql.data(PRODUCTS, {"last": 10, "sortBy": sort,
                                     "before": second["products"]["edges"][0]["cursor"]})
    assert [n["id"] for n in nodes(back)] == [n["id"] for n in nodes(first)]
    assert back["products"]["pageInfo"]["hasPreviousPage"] is False
    assert back["products"]["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize("field", ["NAME", "PRICE", "CREATED_AT", "STOCK", "RATING"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_every_sort_orders_the_page(gql: Any, field: str, direction: str) -> None:
    data = await gql.data(PRODUCTS, {"first": 30, "sortBy": {"field": field, "direction": direction}})
    key = {"NAME": lambda n: n["name"], "PRICE": lambda n: Decimal(n["price"]["amount"]),
           "CREATED_AT": lambda n: n["createdAt"], "STOCK": lambda n: n["stock"],
           "RATING": lambda n: n["rating"]}[field]
    values = [key(n) for n in nodes(data)]
    assert values == sorted(values, reverse=direction == "DESC")


async def test_filters_narrow_the_result(gql: Any) -> None:
    categories = (await gql.data("{ categories { slug productCount } }"))["categories"]
    category = max(categories, key=lambda c: c["productCount"])
    data = await gql.data(PRODUCTS, {"first": 100, "filter": {"categorySlug": category["slug"]}})
    assert data["products"]["totalCount"] == category["productCount"]
    assert {n["category"]["slug"] for n in nodes(data)} == {category["slug"]}

    brand = nodes(data)[0]["brand"]
    by_brand = await gql.data(PRODUCTS, {"first": 100, "filter": {"brand": brand.upper()}})
    assert by_brand["products"]["totalCount"] >= 1
    assert {n["brand"] for n in nodes(by_brand)} == {brand}

    priced = await gql.data(PRODUCTS, {"first": 100,
                                       "filter": {"minPrice": "20", "maxPrice": "100.50"}})
    assert priced["products"]["totalCount"] > 0
    assert all(Decimal("20") <= Decimal(n["price"]["amount"]) <= Decimal("100.50")
               for n in nodes(priced))

    out = await gql.data(PRODUCTS, {"first": 100, "filter": {"inStock": False}})
    assert out["products"]["totalCount"] > 0
    assert all(n["stock"] == 0 and not n["inStock"] for n in nodes(out))
    inside = await gql.data(PRODUCTS, {"first": 1, "filter": {"inStock": True}})
    total = (await gql.data(PRODUCTS, {"first": 1}))["products"]["totalCount"]
    assert inside["products"]["totalCount"] + out["products"]["totalCount"] == total


async def test_name_and_tag_filters(gql: Any) -> None:
    sample = nodes(await gql.data(PRODUCTS, {"first": 1}))[0]
    word = sample["name"].split()[0]
    data = await gql.data(PRODUCTS, {"first": 100, "filter": {"nameContains": word.lower()}})
    assert data["products"]["totalCount"] >= 1
    assert all(word.lower() in n["name"].lower() for n in nodes(data))

    tags = sample["tags"][:2]
    tagged = await gql.data(PRODUCTS, {"first": 100, "filter": {"tags": tags}})
    assert sample["id"] in {n["id"] for n in nodes(tagged)}
    assert all(set(tags) <= set(n["tags"]) for n in nodes(tagged))
    none = await gql.data(PRODUCTS, {"first": 5, "filter": {"tags": ["no-such-tag-anywhere"]}})
    assert none["products"]["totalCount"] == 0 and nodes(none) == []


async def test_like_wildcards_in_name_filter_are_literal(gql: Any) -> None:
    data = await gql.data(PRODUCTS, {"first": 5, "filter": {"nameContains": "%_%"}})
    assert data["products"]["totalCount"] == 0


async def test_product_lookup_by_id_sku_slug_and_node(gql: Any) -> None:
    sample = nodes(await gql.data(PRODUCTS, {"first": 1}))[0]
    full = await gql.data("query($sku: String) { product(sku: $sku) { id slug sku } }",
                          {"sku": sample["sku"]})
    product = full["product"]
    assert product["id"] == sample["id"]
    by_slug = await gql.data("query($slug: String) { product(slug: $slug) { id } }",
                             {"slug": product["slug"]})
    by_id = await gql.data("query($id: ID) { product(id: $id) { sku } }", {"id": sample["id"]})
    node = await gql.data("query($id: ID!) { node(id: $id) { id ... on Product { sku } } }",
                          {"id": sample["id"]})
    assert by_slug["product"]["id"] == sample["id"]
    assert by_id["product"]["sku"] == sample["sku"]
    assert node["node"] == {"id": sample["id"], "sku": sample["sku"]}


async def test_product_lookup_needs_exactly_one_key(gql: Any) -> None:
    body = await gql('{ product(sku: "a", slug: "b") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_missing_and_malformed_ids(gql: Any) -> None:
    from graphql_api.core.ids import to_global_id

    missing = await gql.data("query($id: ID!) { node(id: $id) { id } }",
                             {"id": to_global_id("Product", 999_999_999)})
    assert missing["node"] is None
    unknown_type = await gql.data("query($id: ID!) { node(id: $id) { id } }",
                                  {"id": to_global_id("Spaceship", 1)})
    assert unknown_type["node"] is None
    body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": "%%%not-base64"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["data"] == {"node": None}
    wrong_type = await gql.data("query($id: ID) { product(id: $id) { id } }",
                                {"id": to_global_id("Category", 1)})
    assert wrong_type["product"] is None


async def test_categories_with_counts_and_their_products(gql: Any) -> None:
    data = await gql.data("{ categories { id slug name productCount } }")
    categories = data["categories"]
    assert len(categories) >= 20
    assert sum(c["productCount"] for c in categories) >= 300
    slug = categories[0]["slug"]
    one = await gql.data(
        """query($slug: String!) { category(slug: $slug) {
             slug productCount products(first: 3, sortBy: {field: PRICE, direction: DESC}) {
               totalCount edges { node { category { slug } price { amount } } } } } }""",
        {"slug": slug},
    )
    category = one["category"]
    assert category["products"]["totalCount"] == category["productCount"]
    assert all(e["node"]["category"]["slug"] == slug for e in category["products"]["edges"])
    assert (await gql.data('{ category(slug: "nope") { id } }'))["category"] is None


@pytest.mark.parametrize("args", ["first: 101", "first: -1", "last: 500", "first: 2, last: 2"])
async def test_bad_page_sizes_are_clear_errors(gql: Any, args: str) -> None:
    body = await gql(f"{{ products({args}) {{ totalCount }} }}")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "first" in error["message"] or "last" in error["message"]


async def test_bad_cursor_is_a_clear_error(gql: Any) -> None:
    body = await gql('{ products(first: 2, after: "garbage") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["message"] == "Invalid cursor."


async def test_sql_statements_do_not_grow_with_page_size(gql: Any, resources: Any,
                                                         count_statements: Any) -> None:
    query = """query($first: Int, $f: ProductFilter) { products(first: $first, filter: $f) {
        totalCount edges { node { id name price { amount } category { name productCount } } } } }"""
    counts = []
    for size in (10, 100):
        await resources.cache.clear()  # measure the database path, not cache hits
        with count_statements() as counter:
            data = await gql.data(query, {"first": size, "f": {"inStock": True}})
        edges = data["products"]["edges"]
        assert len(edges) == size
        # Products made by earlier tests come first (newest) and often have no category: a
        # page of only those reads no category counts, one statement fewer.
        categorised = any(e["node"]["category"] for e in edges)
        counts.append(counter.count + (not categorised))
    assert categorised  # the 100 reach demo products: their categories' counts were read
    assert counts[0] == counts[1], counts
    assert counts[0] <= 5, counts  # page, count, category counts (+ generation)


@pytest.mark.parametrize("cursor_values", [
    ["abc", 1], [{"x": 1}, 1], ["1.00", 10**30], ["NaN", 1], ["1.00", True], [None, 1],
    ["1.00", 2**31], ["1.00", -(2**40)],
])
async def test_forged_cursors_are_bad_input_not_errors(gql: Any, cursor_values: list[Any]) -> None:
    import base64
    import json

    cursor = base64.urlsafe_b64encode(json.dumps(cursor_values).encode()).decode()
    body = await gql("query($c: String) { products(first: 2, after: $c, "
                     "sortBy: {field: PRICE, direction: ASC}) { totalCount } }", {"c": cursor})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


@pytest.mark.parametrize("filter", [
    {"tags": [f"t{i}" for i in range(21)]},
    {"nameContains": "x" * 201},
    {"minPrice": "NaN"},
    {"minPrice": "10000000000"},
    {"maxPrice": "1e12"},
    {"maxPrice": "-1e15"},
])
async def test_oversized_or_odd_filters_are_bad_input(gql: Any, filter: dict[str, Any]) -> None:
    body = await gql("query($f: ProductFilter) { products(first: 1, filter: $f) { totalCount } }",
                     {"f": filter})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


@pytest.mark.parametrize("pk", ["9" * 40, str(2**31), str(2**40)])
@pytest.mark.parametrize("type_name", ["Product", "Category", "User"])
async def test_huge_ids_are_bad_input(gql: Any, admin_token: str, type_name: str, pk: str) -> None:
    from graphql_api.core.ids import to_global_id

    body = await gql("query($id: ID!) { node(id: $id) { id } }",
                     {"id": to_global_id(type_name, pk)}, admin_token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_sku_and_slug_lookups_do_not_share_cache_entries(gql: Any, admin_token: str) -> None:
    from tests.catalog.test_product_admin import CREATE

    made = await gql.data(CREATE, {"input": {"sku": "None", "name": "Literally None",
                                             "price": "1"}}, admin_token)
    assert made["productCreate"]["userErrors"] == []
    assert (await gql.data('{ product(sku: "None") { sku } }'))["product"] == {"sku": "None"}
    assert (await gql.data('{ product(slug: "None") { sku } }'))["product"] is None
