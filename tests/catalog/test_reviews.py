"""Reviews: who may write and delete them, validation, the product's rating kept in step, paging,
batching, and the cached public catalog seeing every review change."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from graphql_api.accounts.models import Role
from graphql_api.catalog.models import Review
from graphql_api.core.ids import to_global_id
from graphql_api.orders.models import Order, OrderLine
from graphql_api.orders.purchases import has_paid_purchase
from tests.catalog.test_product_admin import CREATE, DELETE, new_sku
from tests.conftest import GraphQLClient, make_user

REVIEW_CREATE = """mutation($input: ReviewCreateInput!) { reviewCreate(input: $input) {
  review { id rating title body verifiedPurchase createdAt authorName
           product { id rating reviewCount } }
  userErrors { field code message } } }"""
REVIEW_DELETE = """mutation($id: ID!) { reviewDelete(id: $id) {
  deletedId userErrors { field code message } } }"""
PRODUCT_RATING = """query($id: ID!) { product(id: $id) { rating reviewCount } }"""
REVIEWS_PAGE = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  product(id: $id) { reviews(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id rating title createdAt } } } } }"""


async def new_product(gql: GraphQLClient, admin_token: str, **fields: Any) -> dict[str, Any]:
    """A fresh product (so each test starts from no reviews); returns its id and sku."""
    sku = new_sku()
    data = await gql.data(CREATE, {"input": {"sku": sku, "name": f"Reviewed {sku}", "price": "10",
                                             "stock": 5, **fields}}, admin_token)
    assert data["productCreate"]["userErrors"] == []
    return {"id": data["productCreate"]["product"]["id"], "sku": sku}


async def create_review(gql: GraphQLClient, token: str | None, product_id: str, rating: int = 4,
                        title: str = "Good", body: str = "Works.") -> dict[str, Any]:
    data = await gql.data(REVIEW_CREATE, {"input": {"productId": product_id, "rating": rating,
                                                    "title": title, "body": body}}, token)
    return data["reviewCreate"]  # type: ignore[no-any-return]


async def customer(resources: Any) -> str:
    return (await make_user(resources))[2]


async def settle_jobs(resources: Any) -> None:
    """Let the in-process jobs that writes queued (cache warm-up) finish: not to be counted."""
    drain = getattr(resources.jobs, "drain", None)
    if drain is not None:
        await drain()


async def rating_of(gql: GraphQLClient, product_id: str) -> tuple[Decimal, int]:
    product = (await gql.data(PRODUCT_RATING, {"id": product_id}))["product"]
    return Decimal(str(product["rating"])), product["reviewCount"]


async def test_a_review_is_created_and_the_rating_follows_creates_and_deletes(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    product = await new_product(gql, admin_token)
    assert await rating_of(gql, product["id"]) == (Decimal("0"), 0)

    tokens = [await customer(resources) for _ in range(3)]
    first = await create_review(gql, tokens[0], product["id"], 4, "  Solid kettle  ", " Boils. ")
    assert first["userErrors"] == []
    review = first["review"]
    assert review["rating"] == 4 and review["title"] == "Solid kettle" and review["body"] == "Boils."
    assert review["authorName"] == "Test User" and review["verifiedPurchase"] is False
    assert review["product"] == {"id": product["id"], "rating": 4.0, "reviewCount": 1}
    assert review["createdAt"]

    second = await create_review(gql, tokens[1], product["id"], 5)
    assert second["review"]["product"]["rating"] == 4.5
    third = await create_review(gql, tokens[2], product["id"], 2)
    assert await rating_of(gql, product["id"]) == (Decimal("3.67"), 3)  # 11 / 3, two decimals

    deleted = await gql.data(REVIEW_DELETE, {"id": second["review"]["id"]}, tokens[1])
    assert deleted["reviewDelete"] == {"deletedId": second["review"]["id"], "userErrors": []}
    assert await rating_of(gql, product["id"]) == (Decimal("3"), 2)
    await gql.data(REVIEW_DELETE, {"id": first["review"]["id"]}, tokens[0])
    assert await rating_of(gql, product["id"]) == (Decimal("2"), 1)
    await gql.data(REVIEW_DELETE, {"id": third["review"]["id"]}, admin_token)
    assert await rating_of(gql, product["id"]) == (Decimal("0"), 0)


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"rating": 0}, "rating", "OUT_OF_RANGE"),
    ({"rating": 6}, "rating", "OUT_OF_RANGE"),
    ({"rating": -2**31}, "rating", "OUT_OF_RANGE"),
    ({"title": ""}, "title", "REQUIRED"),
    ({"title": " \t\n "}, "title", "REQUIRED"),
    ({"title": "x" * 201}, "title", "TOO_LONG"),
    ({"body": "x" * 5001}, "body", "TOO_LONG"),
])
async def test_invalid_input_is_a_user_error_and_writes_nothing(
    gql: GraphQLClient, resources: Any, admin_token: str, changes: dict[str, Any], field: str,
    code: str
) -> None:
    product = await new_product(gql, admin_token)
    values = {"productId": product["id"], "rating": 3, "title": "Fine", "body": "", **changes}
    data = await gql.data(REVIEW_CREATE, {"input": values}, await customer(resources))
    assert data["reviewCreate"]["review"] is None
    assert [(e["field"], e["code"]) for e in data["reviewCreate"]["userErrors"]] == [([field], code)]
    assert await rating_of(gql, product["id"]) == (Decimal("0"), 0)


async def test_limits_are_inclusive_and_every_error_is_reported_at_once(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    product = await new_product(gql, admin_token)
    ok = await create_review(gql, await customer(resources), product["id"], 1,
                             "  " + "t" * 200 + "  ", "b" * 5000)
    assert ok["userErrors"] == [] and len(ok["review"]["title"]) == 200
    ok = await create_review(gql, await customer(resources), product["id"], 5, "t", "")
    assert ok["userErrors"] == [] and ok["review"]["body"] == ""

    data = await gql.data(REVIEW_CREATE, {"input": {
        "productId": to_global_id("Product", 2**31 - 1), "rating": 9, "title": "", "body": "x" * 5001,
    }}, await customer(resources))
    codes = {e["field"][0]: e["code"] for e in data["reviewCreate"]["userErrors"]}
    assert codes == {"rating": "OUT_OF_RANGE", "title": "REQUIRED", "body": "TOO_LONG",
                     "productId": "NOT_FOUND"}


async def test_unknown_wrong_type_or_deleted_products_are_not_found(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    token = await customer(resources)
    deleted = await new_product(gql, admin_token)
    await gql.data(DELETE, {"id": deleted["id"]}, admin_token)
    category_id = (await gql.data("{ categories { id } }"))["categories"][0]["id"]
    for product_id in (to_global_id("Product", 2**31 - 1), category_id, deleted["id"]):
        result = await create_review(gql, token, product_id)
        assert result["review"] is None
        assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
            (["productId"], "NOT_FOUND")]


async def test_one_review_per_customer_and_product(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    product, other = await new_product(gql, admin_token), await new_product(gql, admin_token)
    token = await customer(resources)
    assert (await create_review(gql, token, product["id"], 5))["userErrors"] == []
    again = await create_review(gql, token, product["id"], 1)
    assert again["review"] is None
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [(["productId"], "DUPLICATE")]
    assert await rating_of(gql, product["id"]) == (Decimal("5"), 1)
    # Other products, and other customers, are not affected.
    assert (await create_review(gql, token, other["id"]))["userErrors"] == []
    assert (await create_review(gql, await customer(resources), product["id"], 1))["userErrors"] == []
    assert await rating_of(gql, product["id"]) == (Decimal("3"), 2)


async def test_concurrent_reviews_by_one_customer_make_exactly_one(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    product = await new_product(gql, admin_token)
    token = await customer(resources)
    results = await asyncio.gather(*(
        create_review(gql, token, product["id"], rating, f"Take {rating}")
        for rating in (1, 2, 3, 4, 5, 1, 2, 3, 4, 5)
    ))
    made = [r["review"] for r in results if r["review"] is not None]
    assert len(made) == 1
    refused = [e["code"] for r in results for e in r["userErrors"]]
    assert refused == ["DUPLICATE"] * 9
    assert await rating_of(gql, product["id"]) == (Decimal(made[0]["rating"]), 1)
    async with resources.db.session() as session:
        stored = await session.scalar(select(func.count()).select_from(Review).where(
            Review.product_id == _pk(product["id"])))
    assert stored == 1


async def test_concurrent_reviews_by_many_customers_all_count(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    product = await new_product(gql, admin_token)
    tokens = [await customer(resources) for _ in range(8)]
    ratings = [5, 4, 4, 3, 5, 1, 2, 5]
    results = await asyncio.gather(*(
        create_review(gql, token, product["id"], rating) for token, rating in zip(tokens, ratings,
                                                                                  strict=True)
    ))
    assert all(r["userErrors"] == [] for r in results)
    # Each write recomputed under the product's row lock, so the last one saw all the others.
    assert await rating_of(gql, product["id"]) == (Decimal("3.63"), 8)  # 29 / 8 = 3.625


async def test_signed_out_callers_are_unauthenticated(gql: GraphQLClient, admin_token: str) -> None:
    product = await new_product(gql, admin_token)
    for query, variables in [
        (REVIEW_CREATE, {"input": {"productId": product["id"], "rating": 5, "title": "x"}}),
        (REVIEW_DELETE, {"id": to_global_id("Review", 1)}),
    ]:
        body = await gql(query, variables)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert body["data"] is None


async def test_only_the_author_or_an_admin_may_delete_and_others_see_not_found(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    product = await new_product(gql, admin_token)
    author, other = await customer(resources), await customer(resources)
    review_id = (await create_review(gql, author, product["id"]))["review"]["id"]

    refused = await gql.data(REVIEW_DELETE, {"id": review_id}, other)
    missing = await gql.data(REVIEW_DELETE, {"id": to_global_id("Review", 2**31 - 1)}, other)
    assert refused == missing  # indistinguishable from a review that does not exist
    assert refused["reviewDelete"]["deletedId"] is None
    assert [e["code"] for e in refused["reviewDelete"]["userErrors"]] == ["NOT_FOUND"]
    assert await rating_of(gql, product["id"]) == (Decimal("4"), 1)

    ok = await gql.data(REVIEW_DELETE, {"id": review_id}, author)
    assert ok["reviewDelete"] == {"deletedId": review_id, "userErrors": []}
    again = await gql.data(REVIEW_DELETE, {"id": review_id}, author)
    assert [e["code"] for e in again["reviewDelete"]["userErrors"]] == ["NOT_FOUND"]

    second = (await create_review(gql, other, product["id"], 2))["review"]["id"]
    by_admin = await gql.data(REVIEW_DELETE, {"id": second}, admin_token)
    assert by_admin["reviewDelete"] == {"deletedId": second, "userErrors": []}
    assert await rating_of(gql, product["id"]) == (Decimal("0"), 0)


async def test_review_delete_needs_a_review_id(gql: GraphQLClient, admin_token: str) -> None:
    product = await new_product(gql, admin_token)
    body = await gql(REVIEW_DELETE, {"id": product["id"]}, admin_token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def _pk(global_id: str) -> int:
    from graphql_api.core.ids import from_global_id

    return int(from_global_id(global_id)[1])


async def _order(resources: Any, user_id: int, product_id: int, status: str) -> None:
    """An order row as checkout would leave it, written directly (checkout is not under test)."""
    async with resources.db.transaction() as session:
        order = Order(number=uuid.uuid4().hex[:20], user_id=user_id, status=status, currency="USD",
                      subtotal=Decimal("10"), discount_total=Decimal("0"), total=Decimal("10"),
                      shipping_address={"name": "Ada", "line1": "1 Main St", "line2": None,
                                        "city": "Springfield", "postal_code": "12345",
                                        "country": "US"},
                      idempotency_key=uuid.uuid4().hex,
                      request_digest="0" * 64)
        session.add(order)
        await session.flush()
        assert order.id is not None
        session.add(OrderLine(order_id=order.id, product_id=product_id, sku="SKU", name="Name",
                              quantity=1, unit_price=Decimal("10"), line_total=Decimal("10")))


async def test_verified_purchase_needs_a_paid_order_with_the_product(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    bought, other = await new_product(gql, admin_token), await new_product(gql, admin_token)
    paid_id, _, paid = await make_user(resources)
    pending_id, _, pending = await make_user(resources)
    await _order(resources, paid_id, _pk(bought["id"]), "PAID")
    await _order(resources, paid_id, _pk(other["id"]), "CANCELLED")
    await _order(resources, pending_id, _pk(bought["id"]), "PENDING")

    assert (await create_review(gql, paid, bought["id"]))["review"]["verifiedPurchase"] is True
    assert (await create_review(gql, paid, other["id"]))["review"]["verifiedPurchase"] is False
    assert (await create_review(gql, pending, bought["id"]))["review"]["verifiedPurchase"] is False
    page = await gql.data("""query($id: ID!) { product(id: $id) { reviews {
        edges { node { verifiedPurchase } } } } }""", {"id": bought["id"]})
    assert [e["node"]["verifiedPurchase"] for e in page["product"]["reviews"]["edges"]] == [
        False, True]


@pytest.mark.parametrize(("status", "verified"), [
    ("PENDING", False), ("PAID", True), ("SHIPPED", True), ("DELIVERED", True),
    ("CANCELLED", False), ("REFUNDED", False),
])
async def test_paid_statuses(gql: GraphQLClient, resources: Any, admin_token: str, status: str,
                             verified: bool) -> None:
    product = _pk((await new_product(gql, admin_token))["id"])
    user_id, _, _ = await make_user(resources)
    await _order(resources, user_id, product, status)
    async with resources.db.session() as session:
        assert await has_paid_purchase(session, user_id, product) is verified
        other_id, _, _ = await make_user(resources)
        assert await has_paid_purchase(session, other_id, product) is False


async def _walk(gql: GraphQLClient, product_id: str, size: int, backwards: bool
                ) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        args: dict[str, Any] = {"id": product_id}
        args.update({"last": size, "before": cursor} if backwards else {"first": size, "after": cursor})
        connection = (await gql.data(REVIEWS_PAGE, args))["product"]["reviews"]
        info = connection["pageInfo"]
        nodes = [e["node"] for e in connection["edges"]]
        assert len(nodes) <= size
        if backwards:
            seen = nodes + seen
            assert info["hasNextPage"] is (cursor is not None)
            if not info["hasPreviousPage"]:
                return seen
            cursor = info["startCursor"]
        else:
            seen += nodes
            assert info["hasPreviousPage"] is (cursor is not None)
            if not info["hasNextPage"]:
                return seen
            cursor = info["endCursor"]


async def test_reviews_page_newest_first_forward_and_backward(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    product = await new_product(gql, admin_token)
    created = []
    for i in range(7):
        result = await create_review(gql, await customer(resources), product["id"], 1 + i % 5,
                                     f"Review {i}")
        created.append(result["review"]["id"])
    newest_first = list(reversed(created))

    forward = await _walk(gql, product["id"], 3, backwards=False)
    backward = await _walk(gql, product["id"], 3, backwards=True)
    assert [n["id"] for n in forward] == newest_first
    assert [n["id"] for n in backward] == newest_first
    times = [n["createdAt"] for n in forward]
    assert times == sorted(times, reverse=True)

    whole = (await gql.data(REVIEWS_PAGE, {"id": product["id"], "first": 100}))["product"]["reviews"]
    assert whole["totalCount"] == 7 and len(whole["edges"]) == 7
    assert whole["pageInfo"]["hasNextPage"] is False
    empty = (await gql.data(REVIEWS_PAGE, {"id": product["id"], "first": 0}))["product"]["reviews"]
    assert empty["edges"] == [] and empty["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize("args", [{"first": 101}, {"last": -1}, {"first": 1, "last": 1},
                                  {"first": 1, "after": "garbage"}])
async def test_bad_review_page_arguments_are_bad_input(gql: GraphQLClient, admin_token: str,
                                                       args: dict[str, Any]) -> None:
    product = await new_product(gql, admin_token)
    body = await gql(REVIEWS_PAGE, {"id": product["id"], **args})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_bad_cursor_fails_only_the_field_that_passed_it(
    gql: GraphQLClient, admin_token: str
) -> None:
    product = await new_product(gql, admin_token)
    body = await gql("""query($id: ID!) { product(id: $id) {
        good: reviews(first: 1) { totalCount } bad: reviews(first: 1, after: "garbage") { totalCount }
      } }""", {"id": product["id"]})
    assert body["errors"][0]["path"] == ["product", "bad"]


async def test_a_review_is_a_node_and_goes_with_its_deleted_product(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    product = await new_product(gql, admin_token)
    review = (await create_review(gql, await customer(resources), product["id"], 3))["review"]
    query = """query($id: ID!) { node(id: $id) { id ... on Review { title authorName
               product { id } } } }"""
    node = (await gql.data(query, {"id": review["id"]}))["node"]
    assert node == {"id": review["id"], "title": "Good", "authorName": "Test User",
                    "product": {"id": product["id"]}}
    assert (await gql.data(query, {"id": to_global_id("Review", 2**31 - 1)}))["node"] is None

    await gql.data(DELETE, {"id": product["id"]}, admin_token)
    assert (await gql.data(query, {"id": review["id"]}))["node"] is None


async def test_review_pages_of_a_product_listing_take_a_constant_number_of_statements(
    gql: GraphQLClient, resources: Any, admin_token: str, count_statements: Any
) -> None:
    for _ in range(3):  # the newest products have reviews, so the pages hold some
        product = await new_product(gql, admin_token)
        for rating in (2, 5):
            await create_review(gql, await customer(resources), product["id"], rating)
    query = """query($first: Int) { products(first: $first) { edges { node { id
        reviews(first: 3) { totalCount edges { cursor node { id title authorName
                                                           product { id } } } } } } } }"""
    await settle_jobs(resources)
    counts = []
    for size in (10, 50):
        await resources.cache.clear()  # measure the database path, not cache hits
        with count_statements() as counter:
            data = await gql.data(query, {"first": size})
        edges = data["products"]["edges"]
        assert len(edges) == size
        assert sum(len(e["node"]["reviews"]["edges"]) for e in edges) >= 6
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 4, counts  # products page, reviews, reviewed products (+ generation)


async def test_anonymous_cached_product_response_changes_with_a_review(
    client: Any, gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    product = await new_product(gql, admin_token)
    query = """query($sku: String) { product(sku: $sku) { rating reviewCount
               reviews(first: 5) { totalCount edges { node { title rating } } } } }"""

    async def fetch() -> Any:
        return await client.post("/graphql", json={"query": query,
                                                   "variables": {"sku": product["sku"]}})

    first, second = await fetch(), await fetch()
    assert "x-cache" not in first.headers and second.headers.get("x-cache") == "hit"
    assert second.json()["data"]["product"]["reviewCount"] == 0

    token = await customer(resources)
    review = (await create_review(gql, token, product["id"], 5, "Cached no more"))["review"]
    fresh = await fetch()
    assert "x-cache" not in fresh.headers
    assert fresh.json()["data"]["product"] == {
        "rating": 5.0, "reviewCount": 1,
        "reviews": {"totalCount": 1, "edges": [{"node": {"title": "Cached no more", "rating": 5}}]},
    }
    assert (await fetch()).headers.get("x-cache") == "hit"

    await gql.data(REVIEW_DELETE, {"id": review["id"]}, token)
    gone = await fetch()
    assert "x-cache" not in gone.headers
    assert gone.json()["data"]["product"]["reviews"]["edges"] == []


async def test_a_super_admin_may_delete_too(
    gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    product = await new_product(gql, admin_token)
    review_id = (await create_review(gql, await customer(resources), product["id"]))["review"]["id"]
    _, _, super_admin = await make_user(resources, Role.SUPER_ADMIN)
    result = await gql.data(REVIEW_DELETE, {"id": review_id}, super_admin)
    assert result["reviewDelete"]["userErrors"] == []


async def test_a_cached_author_name_follows_a_rename_and_an_account_deletion(
    client: Any, gql: GraphQLClient, resources: Any, admin_token: str
) -> None:
    from tests.conftest import PASSWORD

    product = await new_product(gql, admin_token)
    token = await customer(resources)
    await create_review(gql, token, product["id"])
    query = """query($sku: String) { product(sku: $sku) {
               reviews(first: 1) { edges { node { authorName } } } } }"""

    async def author() -> tuple[str, str | None]:
        response = await client.post("/graphql", json={"query": query,
                                                       "variables": {"sku": product["sku"]}})
        edges = response.json()["data"]["product"]["reviews"]["edges"]
        return edges[0]["node"]["authorName"], response.headers.get("x-cache")

    await author()
    assert await author() == ("Test User", "hit")
    renamed = await gql.data("mutation { accountUpdate(input: {name: \"Renamed Reviewer\"}) "
                             "{ userErrors { code } } }", token=token)
    assert renamed["accountUpdate"]["userErrors"] == []
    assert await author() == ("Renamed Reviewer", None)
    deleted = await gql.data("mutation($p: String!) { accountDelete(input: {password: $p}) "
                             "{ deleted } }", {"p": PASSWORD}, token)
    assert deleted["accountDelete"]["deleted"] is True
    name, cached = await author()
    assert name != "Renamed Reviewer" and cached is None
