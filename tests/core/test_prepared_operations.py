"""Prepared operations (core/prepared_operations.py): an operation executed before runs past
Strawberry's per-operation steps, and a client cannot tell: every case below is sent through
HTTP once by the ordinary path and then by the prepared one, and the two answers must be equal
(status, media type and body; a masked error's requestId aside, which is per request)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from graphql_api.core.prepared_operations import PreparedOperations
from graphql_api.core.settings import Settings
from graphql_api.schema import build_schema, schema_extensions

GR = "application/graphql-response+json"


def _schema(app: Starlette) -> Any:
    for route in app.routes:
        endpoint = getattr(route, "endpoint", None)
        owner = getattr(endpoint, "__self__", None)
        if owner is not None and hasattr(owner, "schema"):
            return owner.schema
    raise AssertionError("no GraphQL HTTP endpoint")


@pytest.fixture
def lane(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The texts the prepared path executed, in order."""
    operations = _schema(app).prepared
    assert operations is not None
    ran: list[str] = []
    original = PreparedOperations.execute

    async def counted(self: PreparedOperations, schema: Any, prepared: Any, *args: Any) -> Any:
        ran.append(prepared.document.loc.source.body)
        return await original(self, schema, prepared, *args)

    monkeypatch.setattr(PreparedOperations, "execute", counted)
    yield ran


def _comparable(response: httpx.Response) -> tuple[int, str, Any]:
    body = response.json()
    for error in body.get("errors", ()):
        (error.get("extensions") or {}).pop("requestId", None)
    return response.status_code, response.headers["content-type"], body


async def _twice(client: httpx.AsyncClient, lane: list[str], method: str, query: str,
                 expect_prepared: bool = True, token: str | None = None, **body: Any
                 ) -> tuple[int, str, Any]:
    """Sends the query twice. Signed in (`token`), an answer is never the response cache's.

    The catalog is shared with the rest of the suite, whose background work (a job, an event
    flush) may change it between the two requests: a differing pair is tried again, with a new
    text, up to three times; a prepared path that answers otherwise differs every time."""
    headers = {"Accept": GR, **({"Authorization": f"Bearer {token}"} if token else {})}
    for _attempt in range(3):
        # A text no earlier request sent: its first run must be the ordinary path's.
        text = f"# {uuid.uuid4().hex}\n{query}"
        answers = []
        for _ in range(2):
            before = len(lane)
            if method == "GET":
                params = {"query": text, **{k: json.dumps(v) if isinstance(v, dict) else v
                                            for k, v in body.items()}}
                response = await client.get("/graphql", params=params, headers=headers)
            else:
                response = await client.post("/graphql", json={"query": text, **body},
                                             headers=headers)
            answers.append((_comparable(response), len(lane) > before))
        (first, first_prepared), (second, second_prepared) = answers
        assert not first_prepared
        assert second_prepared is expect_prepared
        if second == first:
            return first
    assert second == first
    return first


async def test_a_query_answers_the_same_both_ways(client: Any, lane: list[str],
                                                 customer_token: str) -> None:
    for method in ("POST", "GET"):
        status, _, body = await _twice(
            client, lane, method, token=customer_token, query=
        "{ products(first: 5) { totalCount edges { cursor node { id name price { amount }"
            " category { name } } } pageInfo { hasNextPage endCursor } } }")
        assert status == 200 and len(body["data"]["products"]["edges"]) == 5


async def test_variables_aliases_fragments_and_directives(client: Any, lane: list[str],
                                                          customer_token: str) -> None:
    query = """query Page($n: Int!, $more: Boolean!) {
      a: products(first: $n) { edges { node { ...Bits } } }
      b: products(first: 1) @include(if: $more) { totalCount }
      c: categories @skip(if: $more) { slug }
    }
    fragment Bits on Product { id name stock }"""
    for more in (True, False):
        status, _, body = await _twice(client, lane, "POST", query, token=customer_token,
                                       variables={"n": 3, "more": more})
        assert status == 200 and ("b" in body["data"]) is more and ("c" in body["data"]) is not more


async def test_variable_coercion_errors(client: Any, lane: list[str]) -> None:
    status, _, body = await _twice(client, lane, "POST",
                                   "query($n: Int) { products(first: $n) { totalCount } }",
                                   variables={"n": "ten"})
    assert status == 400 and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    _, _, missing = await _twice(client, lane, "POST",
                                 "query($n: Int!) { products(first: $n) { totalCount } }")
    assert missing["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_errors_in_execution_keep_their_codes(client: Any, lane: list[str]) -> None:
    _, _, body = await _twice(client, lane, "POST", "{ me { id email } orders(first: 1) { totalCount } }")
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAUTHENTICATED"}


async def test_unexpected_errors_are_masked_both_ways(
    client: Any, lane: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from graphql_api.catalog.reads import CatalogReads

    async def broken(self: Any) -> Any:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(CatalogReads, "categories", broken)
    _, _, body = await _twice(client, lane, "POST", "{ categories { slug } }")
    assert body["errors"][0]["message"] == "Internal server error."
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "hunter2" not in json.dumps(body)


async def test_the_named_operation_of_a_document(client: Any, lane: list[str],
                                                 customer_token: str) -> None:
    query = "query A { categories { slug } } query B { products(first: 1) { totalCount } }"
    _, _, a = await _twice(client, lane, "POST", query, token=customer_token, operationName="A")
    _, _, b = await _twice(client, lane, "POST", query, token=customer_token, operationName="B")
    assert list(a["data"]) == ["categories"] and list(b["data"]) == ["products"]
    # Without a name the same text is another request (Strawberry's answer, then ours).
    await _twice(client, lane, "POST", query, token=customer_token)


async def test_a_prepared_mutation_is_still_refused_over_get(client: Any, lane: list[str]
                                                             ) -> None:
    mutation = f'# {uuid.uuid4().hex}\nmutation {{ tokenRevoke(input: {{refreshToken: "x"}}) {{ revoked }} }}'
    for _ in range(2):
        assert (await client.post("/graphql", json={"query": mutation})).status_code == 200
    assert lane, "the second POST ran prepared"
    before = len(lane)
    refused = await client.get("/graphql", params={"query": mutation})
    assert refused.status_code == 405 and "POST" in refused.headers["allow"]
    assert len(lane) == before


async def test_invalid_operations_are_never_prepared(client: Any, lane: list[str]) -> None:
    status, _, body = await _twice(client, lane, "POST", "{ products(first: 1) { nope } }",
                                   expect_prepared=False)
    assert status == 400 and body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    deep = "{ categories { " + "products(first: 1) { edges { node { category { " * 8 + "id" \
        + " } } } }" * 8 + " } }"
    status, _, body = await _twice(client, lane, "POST", deep, expect_prepared=False)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_the_operation_scope_runs_for_prepared_operations(
    client: Any, lane: list[str], monkeypatch: pytest.MonkeyPatch, customer_token: str
) -> None:
    from graphql_api.context import Context

    calls: list[str] = []
    begin, end = Context.begin_operation, Context.end_operation
    monkeypatch.setattr(Context, "begin_operation", lambda self: (calls.append("begin"),
                                                                  begin(self))[1])
    monkeypatch.setattr(Context, "end_operation", lambda self: (calls.append("end"),
                                                                end(self))[1])
    await _twice(client, lane, "POST", "{ categories { slug } }", token=customer_token)
    assert calls == ["begin", "end", "begin", "end"]


def test_an_extension_that_hooks_execution_turns_the_lane_off() -> None:
    from strawberry.extensions import SchemaExtension

    class Timing(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            yield

    settings = Settings(_env_file=None)
    extensions = schema_extensions(settings)
    assert PreparedOperations.for_extensions(extensions, 8) is not None
    assert PreparedOperations.for_extensions([*extensions, Timing], 8) is None
    assert build_schema(settings).prepared is not None


def test_the_cache_is_bounded_and_keeps_the_recent() -> None:
    from graphql import parse
    from strawberry.types.graphql import OperationType

    from graphql_api.core.prepared_operations import Prepared

    operations = PreparedOperations(maxsize=2, hide_suggestions=True)
    document = parse("{ __typename }")
    for name in ("a", "b"):
        operations.remember(name, None, Prepared(document, OperationType.QUERY, None))
    assert operations.get("a", None) is not None  # "a" is now the most recent
    operations.remember("c", None, Prepared(document, OperationType.QUERY, None))
    assert len(operations) == 2
    assert operations.get("b", None) is None and operations.get("a", None) is not None
    operations.remember("s", None, Prepared(document, OperationType.SUBSCRIPTION, None))
    assert operations.get("s", None) is None  # subscriptions are streamed, never prepared
