"""Uncached listings read only the columns their selection needs (catalog/projection.py): every
Product field, alone and all together, in each sort, paged both ways with cursors, answers
exactly what a read of whole records answers (the shared app, whose pages come through the
catalog cache and so are always whole); and what the map does not cover reads every column."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from graphql import GraphQLNamedType, GraphQLObjectType, get_named_type, is_leaf_type, parse
from starlette.applications import Starlette

from graphql_api.app import create_app
from graphql_api.catalog import projection
from graphql_api.catalog.projection import PRODUCT_FIELD_COLUMNS, listing_columns
from graphql_api.core.settings import Settings
from graphql_api.schema import build_schema


@pytest.fixture(scope="module")
async def uncached(prepared: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database, with the cache off: its listings are projected."""
    application: Starlette = create_app(prepared.model_copy(update={"cache_enabled": False}))
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def _product_type() -> GraphQLObjectType:
    product = build_schema(Settings(_env_file=None))._schema.type_map["Product"]
    assert isinstance(product, GraphQLObjectType)
    return product


def _selection(type_: GraphQLNamedType, depth: int) -> str:
    """Every argument-free leaf of an object type, and its objects' down to `depth`."""
    assert isinstance(type_, GraphQLObjectType)
    parts = []
    for name, field in type_.fields.items():
        if any(arg.type.__class__.__name__ == "GraphQLNonNull" for arg in field.args.values()):
            continue
        inner = get_named_type(field.type)
        if is_leaf_type(inner):
            parts.append(name)
        elif depth > 0:
            parts.append(f"{name} {{ {_selection(inner, depth - 1)} }}")
    return " ".join(parts)


PRODUCT_FIELDS = list(_product_type().fields)
SORTS = ["NAME", "PRICE", "CREATED_AT", "STOCK", "RATING"]


def _field(name: str) -> str:
    inner = get_named_type(_product_type().fields[name].type)
    return name if is_leaf_type(inner) else f"{name} {{ {_selection(inner, 2)} }}"


async def _both(gql: Any, uncached: httpx.AsyncClient, query: str,
                variables: dict[str, Any]) -> dict[str, Any]:
    """The shared app's answer, which the uncached app must equal. Signed out, the shared app
    may answer from its response cache: the same bytes either way, both reading under the same
    catalog generation. The catalog is shared with the suite's background work, which may change
    it between the two requests: a differing pair is asked again, up to three times."""
    for _attempt in range(3):
        whole = await gql(query, variables)
        response = await uncached.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        if response.json() == whole:
            break
    assert response.json() == whole
    assert "errors" not in whole, whole
    return whole["data"]  # type: ignore[no-any-return]


def test_every_product_field_is_mapped() -> None:
    """A field without a line in the map would only ever be read whole: add it to the map."""
    assert set(PRODUCT_FIELDS) <= set(PRODUCT_FIELD_COLUMNS)


@pytest.mark.parametrize("field", PRODUCT_FIELDS)
async def test_each_field_alone_reads_as_a_whole_record(gql: Any, uncached: httpx.AsyncClient,
                                                        field: str) -> None:
    query = f"query($n: Int) {{ products(first: $n) {{ edges {{ node {{ {_field(field)} }} }} }} }}"
    data = await _both(gql, uncached, query, {"n": 7})
    assert len(data["products"]["edges"]) == 7


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_pages_and_cursors_in_every_sort(gql: Any, uncached: httpx.AsyncClient, sort: str,
                                               direction: str) -> None:
    query = """query($first: Int, $after: String, $last: Int, $before: String, $sort: ProductSort) {
      products(first: $first, after: $after, last: $last, before: $before, sortBy: $sort) {
        edges { cursor node { name } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      } }"""
    order = {"field": sort, "direction": direction}
    for _attempt in range(3):  # a product written meanwhile by other work moves the pages
        first = await _both(gql, uncached, query, {"first": 4, "sort": order})
        end = first["products"]["pageInfo"]["endCursor"]
        after = await _both(gql, uncached, query, {"first": 4, "after": end, "sort": order})
        start = after["products"]["pageInfo"]["startCursor"]
        back = await _both(gql, uncached, query, {"last": 4, "before": start, "sort": order})
        if back["products"]["edges"] == first["products"]["edges"]:
            break
    assert back["products"]["edges"] == first["products"]["edges"]


async def test_all_fields_with_fragments_and_nested_listings(gql: Any,
                                                             uncached: httpx.AsyncClient) -> None:
    fields = " ".join(_field(f) for f in PRODUCT_FIELDS)
    query = f"""query($n: Int) {{
      products(first: $n, filter: {{inStock: true}}) {{
        totalCount nodes {{ ...Bits ... on Node {{ id }} }}
        edges {{ node {{ {fields} }} }} }}
      categories {{ slug products(first: 2) {{ edges {{ node {{ name category {{ slug }} }} }} }} }}
    }}
    fragment Bits on Product {{ sku salePrice {{ amount }} }}"""
    await _both(gql, uncached, query, {"n": 6})


def _columns(query: str) -> frozenset[str] | None:
    document = parse(query)
    operation = document.definitions[0]
    fragments = {d.name.value: d for d in document.definitions[1:]}  # type: ignore[attr-defined]
    field = operation.selection_set.selections[0]  # type: ignore[attr-defined]
    return listing_columns([field], fragments, "created_at")


def test_what_the_map_does_not_cover_reads_every_column() -> None:
    projection._CACHE.clear()
    assert _columns("{ products { edges { node { name price { amount } } } } }") == {
        "id", "name", "price", "currency", "created_at"}
    assert _columns("{ products { edges { node { unknownField } } } }") is None
    assert _columns("{ products { edges { node { ... on Category { name } } } } }") is None
    assert _columns("{ products { edges { node { ...F } } } } fragment F on Category { id }"
                    ) is None
    assert _columns("{ products { edges { somethingElse } } }") is None
    assert _columns("{ products { totalCount pageInfo { hasNextPage } } }") == {
        "id", "created_at"}


async def test_the_uncached_listing_is_the_projected_read(gql: Any, uncached: httpx.AsyncClient,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    from graphql_api.catalog import service

    asked: list[frozenset[str] | None] = []
    original = service.list_products

    async def spied(*args: Any, **kwargs: Any) -> Any:
        asked.append(args[4] if len(args) > 4 else kwargs.get("columns"))
        return await original(*args, **kwargs)

    monkeypatch.setattr(service, "list_products", spied)
    query = "{ products(first: 3) { edges { node { id name category { name } } } } }"
    response = await uncached.post("/graphql", json={"query": query})
    assert response.status_code == 200 and "errors" not in response.json()
    assert asked == [frozenset({"id", "name", "category_id", "category", "created_at"})]
