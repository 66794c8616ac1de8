"""The order lifecycle: every transition allowed or refused as documented, stock back once."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from graphql_api.orders.lifecycle import TRANSITIONS, OrderStatus
from tests.conftest import make_user
from tests.shop import CANCEL, STATUS_UPDATE, buy, move, new_product, stock_of

# The shortest way from a new (PENDING) order to each status.
PATH_TO = {
    "PENDING": [], "PAID": ["PAID"], "SHIPPED": ["PAID", "SHIPPED"],
    "DELIVERED": ["PAID", "SHIPPED", "DELIVERED"], "CANCELLED": ["CANCELLED"],
    "REFUNDED": ["PAID", "REFUNDED"],
}
DOCUMENTED = {
    ("PENDING", "PAID"), ("PENDING", "CANCELLED"), ("PAID", "SHIPPED"), ("PAID", "CANCELLED"),
    ("PAID", "REFUNDED"), ("SHIPPED", "DELIVERED"), ("DELIVERED", "REFUNDED"),
}


def test_the_state_machine_is_the_documented_one() -> None:
    written = {(a.value, b.value) for a, targets in TRANSITIONS.items() for b in targets}
    assert written == DOCUMENTED
    assert set(PATH_TO) == {s.value for s in OrderStatus}


@pytest.fixture(scope="module")
async def product(gql: Any, admin_token: str) -> str:
    return await new_product(gql, admin_token, stock=1000)


@pytest.mark.parametrize(("start", "target"),
                         list(itertools.product(PATH_TO, [s.value for s in OrderStatus])))
async def test_each_transition(gql: Any, admin_token: str, resources: Any, product: str,
                               start: str, target: str) -> None:
    _, _, token = await make_user(resources)
    order = await buy(gql, token, product)
    await move(gql, admin_token, order["id"], *PATH_TO[start])
    data = await gql.data(STATUS_UPDATE, {"id": order["id"], "input": {"status": target,
                                                                       "note": "by the test"}},
                          admin_token)
    payload = data["orderStatusUpdate"]
    if (start, target) in DOCUMENTED:
        assert payload["userErrors"] == []
        assert payload["order"]["status"] == target
        assert payload["order"]["version"] == len(PATH_TO[start]) + 2
    else:
        assert payload["order"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["status"], "INVALID_TRANSITION")]


async def test_history_records_every_status_with_its_note(gql: Any, admin_token: str,
                                                          resources: Any, product: str) -> None:
    from tests.shop import ORDER

    _, _, token = await make_user(resources)
    order = await buy(gql, token, product)
    for status in ("PAID", "SHIPPED"):
        await gql.data(STATUS_UPDATE, {"id": order["id"], "input": {
            "status": status, "note": f"now {status.lower()}"}}, admin_token)
    seen = (await gql.data(ORDER, {"id": order["id"]}, token))["order"]
    assert [(h["status"], h["note"], h["version"]) for h in seen["statusHistory"]] == [
        ("PENDING", None, 1), ("PAID", "now paid", 2), ("SHIPPED", "now shipped", 3)]
    assert seen["status"] == "SHIPPED" and seen["version"] == 3


@pytest.mark.parametrize("path", [["CANCELLED"], ["PAID", "CANCELLED"], ["PAID", "REFUNDED"],
                                  ["PAID", "SHIPPED", "DELIVERED", "REFUNDED"]])
async def test_cancelling_or_refunding_returns_the_stock_once(
    gql: Any, admin_token: str, resources: Any, path: list[str]
) -> None:
    _, _, token = await make_user(resources)
    product = await new_product(gql, admin_token, stock=5)
    order = await buy(gql, token, product, 3)
    assert await stock_of(gql, product) == 2
    await move(gql, admin_token, order["id"], *path)
    assert await stock_of(gql, product) == 5
    # Final: no second transition, so no second restock, however often it is asked for.
    for status in ("CANCELLED", "REFUNDED"):
        await gql.data(STATUS_UPDATE, {"id": order["id"], "input": {"status": status}},
                       admin_token)
    assert (await gql.data(CANCEL, {"id": order["id"]}, token))["orderCancel"]["order"] is None
    assert await stock_of(gql, product) == 5


async def test_concurrent_cancellations_return_the_stock_once(gql: Any, admin_token: str,
                                                              resources: Any) -> None:
    _, _, token = await make_user(resources)
    product = await new_product(gql, admin_token, stock=4)
    order = await buy(gql, token, product, 4)
    requests = [gql.data(STATUS_UPDATE, {"id": order["id"], "input": {"status": "CANCELLED"}},
                         admin_token) for _ in range(5)]
    requests += [gql.data(CANCEL, {"id": order["id"]}, token) for _ in range(5)]
    results = await asyncio.gather(*requests)
    payloads = [r.get("orderStatusUpdate") or r["orderCancel"] for r in results]
    assert sum(p["order"] is not None for p in payloads) == 1
    assert {e["code"] for p in payloads for e in p["userErrors"]} <= {"CONFLICT",
                                                                      "INVALID_TRANSITION"}
    assert await stock_of(gql, product) == 4


async def test_two_admins_cannot_both_win(gql: Any, admin_token: str, resources: Any,
                                          product: str) -> None:
    from graphql_api.accounts.models import Role

    _, _, other_admin = await make_user(resources, Role.ADMIN)
    _, _, token = await make_user(resources)
    order = await buy(gql, token, product)
    await move(gql, admin_token, order["id"], "PAID")
    ship = gql.data(STATUS_UPDATE, {"id": order["id"], "input": {"status": "SHIPPED"}},
                    admin_token)
    cancel = gql.data(STATUS_UPDATE, {"id": order["id"], "input": {"status": "CANCELLED"}},
                      other_admin)
    results = [r["orderStatusUpdate"] for r in await asyncio.gather(ship, cancel)]
    winners = [r for r in results if r["order"] is not None]
    assert len(winners) == 1 and winners[0]["order"]["version"] == 3
    loser = next(r for r in results if r["order"] is None)
    assert loser["userErrors"][0]["code"] in ("CONFLICT", "INVALID_TRANSITION")


async def test_an_expected_version_guards_the_change(gql: Any, admin_token: str, resources: Any,
                                                     product: str) -> None:
    _, _, token = await make_user(resources)
    order = await buy(gql, token, product)
    stale = await gql.data(STATUS_UPDATE, {"id": order["id"], "input": {
        "status": "PAID", "expectedVersion": 7}}, admin_token)
    assert [(e["field"], e["code"]) for e in stale["orderStatusUpdate"]["userErrors"]] == [
        (["id"], "CONFLICT")]
    fresh = await gql.data(STATUS_UPDATE, {"id": order["id"], "input": {
        "status": "PAID", "expectedVersion": 1}}, admin_token)
    assert fresh["orderStatusUpdate"]["order"]["version"] == 2


@pytest.mark.parametrize(("path", "allowed"), [([], True), (["PAID"], True),
                                               (["PAID", "SHIPPED"], False),
                                               (["CANCELLED"], False)])
async def test_the_owner_cancels_while_pending_or_paid(gql: Any, admin_token: str,
                                                       resources: Any, product: str,
                                                       path: list[str], allowed: bool) -> None:
    _, _, token = await make_user(resources)
    order = await buy(gql, token, product)
    await move(gql, admin_token, order["id"], *path)
    payload = (await gql.data(CANCEL, {"id": order["id"]}, token))["orderCancel"]
    if allowed:
        assert payload["userErrors"] == [] and payload["order"]["status"] == "CANCELLED"
    else:
        assert [e["code"] for e in payload["userErrors"]] == ["INVALID_TRANSITION"]


async def test_only_the_owner_cancels_and_only_admins_update(gql: Any, admin_token: str,
                                                             resources: Any,
                                                             product: str) -> None:
    _, _, owner = await make_user(resources)
    _, _, other = await make_user(resources)
    order = await buy(gql, owner, product)
    missing = (await gql.data(CANCEL, {"id": order["id"]}, other))["orderCancel"]
    assert [(e["field"], e["code"]) for e in missing["userErrors"]] == [(["id"], "NOT_FOUND")]
    from graphql_api.core.ids import to_global_id

    absent = (await gql.data(CANCEL, {"id": to_global_id("Order", 2**31 - 1)}, other))
    assert absent["orderCancel"]["userErrors"] == missing["userErrors"]  # indistinguishable
    for token in (owner, other):
        body = await gql(STATUS_UPDATE, {"id": order["id"], "input": {"status": "PAID"}}, token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await gql(STATUS_UPDATE, {"id": order["id"], "input": {"status": "PAID"}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
