"""Anonymous catalog queries are served whole from the cache, and never stale or personal."""

from __future__ import annotations

from typing import Any

from graphql_api.catalog.reads import GENERATION_KEY
from graphql_api.response_cache import cacheable_operation
from tests.catalog.test_product_admin import CREATE, UPDATE, new_sku

QUERY = "query($sku: String) { product(sku: $sku) { stock } categories { slug } }"


async def _post(client: Any, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json={"query": QUERY, "variables": variables},
                             headers=headers)


async def test_repeated_anonymous_query_is_a_hit_until_the_catalog_changes(
    client: Any, gql: Any, admin_token: str
) -> None:
    sku = new_sku()
    created = await gql.data(CREATE, {"input": {"sku": sku, "name": "Cached", "price": "2",
                                                 "stock": 1}}, admin_token)
    first = await _post(client, {"sku": sku})
    second = await _post(client, {"sku": sku})
    assert "x-cache" not in first.headers
    assert second.headers.get("x-cache") == "hit"
    assert second.content == first.content and second.json()["data"]["product"] == {"stock": 1}

    product_id = created["productCreate"]["product"]["id"]
    await gql.data(UPDATE, {"id": product_id, "input": {"stock": 4}}, admin_token)
    fresh = await _post(client, {"sku": sku})
    assert "x-cache" not in fresh.headers
    assert fresh.json()["data"]["product"] == {"stock": 4}
    assert (await _post(client, {"sku": sku})).headers.get("x-cache") == "hit"


async def test_callers_with_a_token_are_never_served_from_the_cache(client: Any,
                                                                   customer_token: str) -> None:
    for _ in range(3):
        response = await _post(client, {"sku": "nothing"}, customer_token)
        assert "x-cache" not in response.headers


async def test_errors_are_not_cached(client: Any) -> None:
    query = '{ products(first: 1, after: "bad") { totalCount } }'
    for _ in range(2):
        response = await client.post("/graphql", json={"query": query})
        assert "x-cache" not in response.headers and response.json()["errors"]


def test_only_public_catalog_operations_are_eligible() -> None:
    assert cacheable_operation("{ products { totalCount } categories { slug } }", None, 2000)
    assert cacheable_operation("query A { me { id } } query B { categories { slug } }", "B", 2000)
    for query, name in [
        ("{ me { id } }", None),
        ("{ products { totalCount } me { id } }", None),
        ("{ node(id: \"x\") { id } }", None),
        ("{ ...F } fragment F on Query { categories { slug } }", None),
        ("mutation { tokenRevoke(input: {refreshToken: \"x\"}) { revoked } }", None),
        ("query A { categories { slug } } query B { categories { slug } }", None),
        ("{ categories {", None),
    ]:
        assert not cacheable_operation(query, name, 2000), query


async def test_a_hit_is_one_round_trip_to_the_cache(client: Any, gql: Any, admin_token: str,
                                                    resources: Any, monkeypatch: Any) -> None:
    """The generation and the entry come in one call (MGET on Redis), and the hit still sees a
    write made since: the entry names the generation it was made under."""
    sku = new_sku()
    created = await gql.data(CREATE, {"input": {"sku": sku, "name": "Once", "price": "2",
                                                 "stock": 1}}, admin_token)
    await _post(client, {"sku": sku})
    cache = resources.cache
    # What goes to the cache: Redis commands (each a round trip), or the in-memory backend's calls.
    calls: list[tuple[str, list[str]]] = []
    if cache.kind == "redis":
        def command(*args: Any, _inner: Any = cache.backend.client.execute_command,
                    **kwargs: Any) -> Any:
            calls.append((str(args[0]).upper(), [str(a) for a in args[1:]]))
            return _inner(*args, **kwargs)

        monkeypatch.setattr(cache.backend.client, "execute_command", command)
        multi_get, generation_key = "MGET", f"gql:{GENERATION_KEY}"
    else:
        for name in ("get", "multi_get", "set", "multi_set", "increment"):
            def call(*args: Any, _name: str = name, _inner: Any = getattr(cache.backend, name),
                     **kwargs: Any) -> Any:
                keys = args[0] if args and isinstance(args[0], list) else list(args[:1])
                calls.append((_name, [str(k) for k in keys]))
                return _inner(*args, **kwargs)

            monkeypatch.setattr(cache.backend, name, call)
        multi_get, generation_key = "multi_get", GENERATION_KEY
    hit = await _post(client, {"sku": sku})
    assert hit.headers.get("x-cache") == "hit" and hit.json()["data"]["product"] == {"stock": 1}
    assert [(name, keys[0]) for name, keys in calls] == [(multi_get, generation_key)]

    await gql.data(UPDATE, {"id": created["productCreate"]["product"]["id"],
                            "input": {"stock": 2}}, admin_token)
    calls.clear()
    fresh = await _post(client, {"sku": sku})
    assert "x-cache" not in fresh.headers and fresh.json()["data"]["product"] == {"stock": 2}
    # The miss executed under the generation that first call read: not read a second time.
    assert calls[0][0] == multi_get and calls[0][1][0] == generation_key
    assert all(generation_key not in keys for _, keys in calls[1:]), calls
