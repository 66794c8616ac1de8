"""Reading orders: own orders only (admins: all), filters, paging, a constant number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from graphql_api.accounts.models import Role
from graphql_api.core.ids import to_global_id
from tests.conftest import make_user
from tests.shop import ORDER, ORDER_FIELDS, buy, move, new_product

ORDERS = f"""query($first: Int, $after: String, $last: Int, $before: String,
  $filter: OrderFilter) {{ orders(first: $first, after: $after, last: $last, before: $before,
  filter: $filter) {{ totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  edges {{ cursor node {{ {ORDER_FIELDS} }} }} }} }}"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Order { number } } }"


@pytest.fixture(scope="module")
async def product(gql: Any, admin_token: str) -> str:
    return await new_product(gql, admin_token, stock=5000)


async def _ids(gql: Any, token: str, filter: dict[str, Any] | None = None) -> list[str]:
    data = await gql.data(ORDERS, {"first": 100, "filter": filter}, token)
    return [edge["node"]["id"] for edge in data["orders"]["edges"]]


async def test_someone_elses_order_does_not_exist_for_you(gql: Any, admin_token: str,
                                                          resources: Any, product: str) -> None:
    _, _, owner = await make_user(resources)
    _, _, other = await make_user(resources)
    order = await buy(gql, owner, product)
    assert (await gql.data(ORDER, {"id": order["id"]}, owner))["order"]["id"] == order["id"]
    assert (await gql.data(ORDER, {"id": order["id"]}, admin_token))["order"]["id"] == order["id"]
    missing = to_global_id("Order", 2**31 - 1)
    for token in (other, None):
        for oid in (order["id"], missing):
            assert (await gql.data(ORDER, {"id": oid}, token))["order"] is None
            assert (await gql.data(NODE, {"id": oid}, token))["node"] is None
        if token is not None:
            assert order["id"] not in await _ids(gql, token)
    assert (await gql.data(NODE, {"id": order["id"]}, owner))["node"]["number"] == order["number"]


async def test_the_list_is_yours_newest_first(gql: Any, admin_token: str, resources: Any,
                                              product: str) -> None:
    _, _, token = await make_user(resources)
    _, _, other = await make_user(resources)
    mine = [(await buy(gql, token, product))["id"] for _ in range(3)]
    theirs = (await buy(gql, other, product))["id"]
    data = await gql.data(ORDERS, {"first": 10}, token)
    assert [e["node"]["id"] for e in data["orders"]["edges"]] == mine[::-1]
    assert data["orders"]["totalCount"] == 3
    everyone = await _ids(gql, admin_token)
    assert everyone[:2] == [theirs, mine[-1]]


async def test_filters(gql: Any, admin_token: str, resources: Any, product: str) -> None:
    customer_id, _, token = await make_user(resources)
    other_id, _, other = await make_user(resources)
    first, second = [(await buy(gql, token, product)) for _ in range(2)]
    await move(gql, admin_token, second["id"], "PAID")
    await buy(gql, other, product)
    assert await _ids(gql, token, {"status": "PAID"}) == [second["id"]]
    assert await _ids(gql, token, {"status": "PENDING"}) == [first["id"]]
    created = dt.datetime.fromisoformat(second["createdAt"])
    assert await _ids(gql, token, {"createdAfter": second["createdAt"]}) == [second["id"]]
    assert await _ids(gql, token, {"createdBefore": second["createdAt"]}) == [first["id"]]
    later = (created + dt.timedelta(seconds=1)).isoformat()
    assert await _ids(gql, token, {"createdAfter": later}) == []
    me, them = to_global_id("User", customer_id), to_global_id("User", other_id)
    assert await _ids(gql, admin_token, {"customerId": me}) == [second["id"], first["id"]]
    assert await _ids(gql, admin_token, {"customerId": me, "status": "PAID"}) == [second["id"]]
    # A customer naming someone else sees nothing, as if that customer had no orders.
    assert await _ids(gql, token, {"customerId": them}) == []
    assert await _ids(gql, token, {"customerId": me}) == [second["id"], first["id"]]
    body = await gql(ORDERS, {"filter": {"customerId": "nonsense"}}, token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await gql(ORDERS, {"filter": {"createdAfter": "2026-01-01T00:00:00"}}, token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_orders_need_a_signed_in_caller(gql: Any) -> None:
    body = await gql(ORDERS, {})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_paging_walks_every_order_once_both_ways(gql: Any, admin_token: str,
                                                       resources: Any, product: str) -> None:
    _, _, token = await make_user(resources)
    made = [(await buy(gql, token, product))["id"] for _ in range(7)][::-1]
    seen, after = [], None
    while True:
        page = (await gql.data(ORDERS, {"first": 3, "after": after}, token))["orders"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == made
    back, before = [], None
    while True:
        page = (await gql.data(ORDERS, {"last": 2, "before": before}, token))["orders"]
        back = [e["node"]["id"] for e in page["edges"]] + back
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert back == made
    body = await gql(ORDERS, {"first": 101}, token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await gql(ORDERS, {"first": 1, "after": "bogus"}, token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_statements_per_page_do_not_grow_with_its_size(
    gql: Any, resources: Any, product: str, count_statements: Any
) -> None:
    _, _, admin = await make_user(resources, Role.ADMIN)
    _, _, token = await make_user(resources)
    for _ in range(12):
        await buy(gql, token, product)
    counts = []
    for size in (2, 12):
        await gql.data(ORDERS, {"first": size}, admin)  # the caller and the catalog warm up
        with count_statements() as counter:
            data = await gql.data(ORDERS, {"first": size}, admin)
        assert len(data["orders"]["edges"]) == size
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
