"""An execution is freed by reference counting as it ends (core/acyclic_execution.py, and the
loaders' batch functions kept apart from the loaders): no executor, context, collected field,
DataLoader or record of a request is left for the cycle collector, whose passes over such
garbage took 20-80 ms each under a burst of eventTracks, 55-70 ms every few hundred search
suggestions."""

from __future__ import annotations

import gc
import types
from collections import Counter
from typing import Any

import httpx
from graphql.execution.collect_fields import FieldDetails
from graphql.execution.executor import Executor
from strawberry.dataloader import DataLoader

from graphql_api.catalog.loaders import CatalogLoaders
from graphql_api.catalog.reads import CatalogReads
from graphql_api.catalog.records import ProductRecord
from graphql_api.context import Context
from graphql_api.core.resources import Resources
from graphql_api.orders.loaders import OrderLoaders
from tests.shop import buy, move

QUERIES = [
    "{ products(first: 5) { edges { node { id name price category { name } } } } }",
    "mutation { a: eventTrack(input: {type: PAGE_VIEW, path: \"/a\"}) { userErrors { code } } "
    "b: eventTrack(input: {type: PAGE_VIEW, path: \"/b\"}) { event { type } } }",
    "{ products(first: 2) { edges { node { nope } } } }",  # a validation error
    "{ node(id: \"UHJvZHVjdDow\") { id } }",
    "{ products(first: 3) { edges { node { reviews(first: 2) { edges { node { rating } } } "
    "category { name productCount } } } } }",
    "{ searchSuggestions(prefix: \"hea\") { text kind product { id name } } }",
    "{ search(query: \"headphnes\") { totalCount edges { node { id category { name } } } } }",
]
KINDS = (Executor, Context, FieldDetails, DataLoader, CatalogLoaders, OrderLoaders, ProductRecord)


def _ours(o: object) -> str:
    """What names a garbage object as the server's (the test client's own are left out): one of
    KINDS, an instance of a class of ours, or a function of ours (a closure calling itself)."""
    if isinstance(o, KINDS) or type(o).__module__.startswith("graphql_api."):
        return type(o).__qualname__
    if isinstance(o, types.FunctionType) and o.__module__.startswith("graphql_api."):
        return o.__qualname__
    return ""


async def test_requests_leave_no_cyclic_garbage(client: httpx.AsyncClient) -> None:
    for query in QUERIES:  # warm: caches filled, connections open
        assert (await client.post("/graphql", json={"query": query})).status_code == 200
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            for query in QUERIES:
                await client.post("/graphql", json={"query": query})
        gc.collect()
        garbage = Counter(_ours(o) for o in gc.garbage if _ours(o))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert garbage == Counter()


def test_loaders_are_freed_as_they_are_dropped(resources: Resources) -> None:
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            catalog, orders = CatalogLoaders(CatalogReads(resources)), OrderLoaders(resources.db)
            del catalog, orders
        gc.collect()
        garbage = Counter(type(o).__name__ for o in gc.garbage if isinstance(o, KINDS))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert garbage == Counter()


async def test_a_customer_and_an_admin_leave_no_cyclic_garbage(
        gql: Any, client: httpx.AsyncClient, customer_token: str, admin_token: str) -> None:
    """Cart, checkout, the customer's orders, the order's status moved by an admin, metrics and
    the dashboard: none of it leaves an object of ours for the collector."""
    product = (await gql.data("{ products(first: 1) { edges { node { id } } } }")
               )["products"]["edges"][0]["node"]["id"]
    reads = [("{ cart { itemCount lines { quantity product { name } } total { amount } } }",
              customer_token),
             ("{ orders(first: 3) { edges { node { status lines { quantity } "
              "statusHistory { status } } } } }", customer_token),
             ("{ metrics { kpis { revenue { amount } orders } topCountries(limit: 3) "
              "{ country } } adminStats { users ordersByStatus { status count } } }",
              admin_token)]

    async def shop() -> None:
        order = await buy(gql, customer_token, product)
        await move(gql, admin_token, order["id"], "PAID")
        for query, token in reads:
            response = await client.post("/graphql", json={"query": query},
                                         headers={"Authorization": f"Bearer {token}"})
            assert "errors" not in response.json(), response.text

    await shop()  # warm
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(2):
            await shop()
        gc.collect()
        garbage = Counter(_ours(o) for o in gc.garbage if _ours(o))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert garbage == Counter()
