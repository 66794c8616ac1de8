"""An execution is freed by reference counting as it ends (core/acyclic_execution.py): no
executor, context or collected field of a request is left for the cycle collector, whose
passes over such garbage took 20-80 ms each under a burst of eventTracks."""

from __future__ import annotations

import gc
from collections import Counter

import httpx
from graphql.execution.collect_fields import FieldDetails
from graphql.execution.executor import Executor

from graphql_api.context import Context

QUERIES = [
    "{ products(first: 5) { edges { node { id name price category { name } } } } }",
    "mutation { a: eventTrack(input: {type: PAGE_VIEW, path: \"/a\"}) { userErrors { code } } "
    "b: eventTrack(input: {type: PAGE_VIEW, path: \"/b\"}) { event { type } } }",
    "{ products(first: 2) { edges { node { nope } } } }",  # a validation error
    "{ node(id: \"UHJvZHVjdDow\") { id } }",
]


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
        garbage = Counter(type(o).__name__ for o in gc.garbage
                          if isinstance(o, Executor | Context | FieldDetails))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert garbage == Counter()
