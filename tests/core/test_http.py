"""The HTTP surface: GraphQL over HTTP rules, limits, masking, health and readiness."""

from __future__ import annotations

import json
from typing import Any

import pytest

GR = "application/graphql-response+json"


async def test_health_and_ready(client: Any, settings: Any) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    expected = {
        f"cache:{'redis' if settings.redis_url else 'memory'}": "ok",
        f"pubsub:{'redis' if settings.redis_url else 'memory'}": "ok",
        f"search:{'elasticsearch' if settings.elasticsearch_url else 'database'}": "ok",
    }
    assert expected.items() <= checks.items()


async def test_graphiql_in_a_browser(client: Any) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_get_runs_queries_but_not_mutations(client: Any) -> None:
    ok = await client.get("/graphql", params={"query": "{ categories { slug } }"},
                          headers={"Accept": GR})
    assert ok.status_code == 200 and ok.headers["content-type"].startswith(GR)
    assert ok.json()["data"]["categories"]
    mutation = 'mutation { tokenRevoke(input: {refreshToken: "x"}) { revoked } }'
    refused = await client.get("/graphql", params={"query": mutation})
    assert refused.status_code == 405
    assert "POST" in refused.headers["allow"]


@pytest.mark.parametrize("body,status", [
    (b"{not json", 400),
    (b"[]", 400),
    (b'{"query": 5}', 400),
    (b'{"query": "{ me { id } }", "variables": "nope"}', 400),
    (b'{"variables": {}}', 400),
])
async def test_malformed_requests_are_400(client: Any, body: bytes, status: int) -> None:
    response = await client.post("/graphql", content=body,
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json()["errors"][0]["message"]


async def test_unsupported_media_type_and_accept(client: Any) -> None:
    wrong_type = await client.post("/graphql", content="{ me { id } }",
                                   headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    wrong_accept = await client.post("/graphql", json={"query": "{ me { id } }"},
                                     headers={"Accept": "text/csv"})
    assert wrong_accept.status_code == 406


async def test_status_codes_follow_the_media_type(client: Any) -> None:
    bad = {"query": "{ noSuchField }"}
    legacy = await client.post("/graphql", json=bad, headers={"Accept": "application/json"})
    assert legacy.status_code == 200 and legacy.headers["content-type"] == "application/json"
    assert legacy.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    modern = await client.post("/graphql", json=bad, headers={"Accept": GR})
    assert modern.status_code == 400
    parse = await client.post("/graphql", json={"query": "{"}, headers={"Accept": GR})
    assert parse.status_code == 400
    assert parse.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "data" not in parse.json()


async def test_query_depth_is_limited(gql: Any) -> None:
    deep = "{ categories { products { edges { node { category { products { edges { node {" \
           " category { products { edges { node { category { name } } } } } } } } } } } } } }"
    body = await gql(deep)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "data" not in body or body["data"] is None


async def test_aliases_are_limited(gql: Any) -> None:
    wide = "{ " + " ".join(f"a{i}: categories {{ slug }}" for i in range(40)) + " }"
    body = await gql(wide)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_tokens_are_limited(gql: Any) -> None:
    huge = "{ " + " ".join("categories { slug name description }" for _ in range(500)) + " }"
    body = await gql(huge)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_unexpected_errors_are_masked_and_logged(
    gql: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A database that breaks mid-request cannot be caused on demand; a patched read stands in.
    from graphql_api.catalog.reads import CatalogReads

    async def broken(self: Any) -> Any:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(CatalogReads, "categories", broken)
    body = await gql("{ categories { slug } }")
    error = body["errors"][0]
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["requestId"]
    assert "hunter2" not in json.dumps(body)
    assert any("hunter2" in (r.exc_text or "") or "hunter2" in str(r.exc_info)
               for r in caplog.records)


async def test_variable_errors_are_bad_user_input(gql: Any) -> None:
    body = await gql("query($n: Int) { products(first: $n) { totalCount } }", {"n": "ten"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_cors_allows_only_the_configured_origins(tmp_path: Any) -> None:
    import httpx

    from graphql_api.app import create_app
    from graphql_api.core.settings import Settings

    app = create_app(Settings(data_dir=tmp_path, allowed_origins=["https://shop.example"]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        headers = {"Access-Control-Request-Method": "POST",
                   "Access-Control-Request-Headers": "authorization,content-type"}
        allowed = await http.options("/graphql", headers={"Origin": "https://shop.example",
                                                          **headers})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
        refused = await http.options("/graphql", headers={"Origin": "https://evil.example",
                                                          **headers})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers


async def test_overlong_query_text_is_refused(client: Any) -> None:
    query = "{ __typename }" + "#" + "x" * 30_000
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 413


@pytest.mark.parametrize("media", ["application/json", GR])
@pytest.mark.parametrize("headers", [None, {"x-cache": "hit"}, {"x-request-id": "r1", "X-Other": "1"}])
@pytest.mark.parametrize("status", [200, 400, 401])
def test_responses_are_starlettes_byte_for_byte(media: str, headers: Any, status: int) -> None:
    """The endpoint's responses skip Starlette's generic constructor; what they send is the same."""
    from starlette.responses import Response

    from graphql_api.http import _respond_text

    text = '{"data":{"name":"Café ☕"}}'
    ours = _respond_text(text, media, status, headers)
    theirs = Response(text, status_code=status, headers=headers,
                      media_type=media if media == "application/json" else f"{media}; charset=utf-8")
    assert (ours.status_code, ours.raw_headers, ours.body) == (
        theirs.status_code, theirs.raw_headers, theirs.body)
    ours.headers["set-cookie"] = "a=b"  # cookies are added to it like to any Response
    assert (b"set-cookie", b"a=b") in ours.raw_headers


def test_indexed_headers_answer_as_starlettes() -> None:
    """Lookups by name, case-insensitive, the first of a repeated header, missing ones."""
    from starlette.datastructures import Headers

    from graphql_api.http import IndexedHeaders

    raw = [(b"host", b"shop.example"), (b"cookie", b"a=1"), (b"cookie", b"b=2"),
           (b"x-cart-token", b"t\xe9")]
    ours, theirs = IndexedHeaders({"headers": raw}), Headers(scope={"headers": list(raw)})
    for name in ("host", "Host", "COOKIE", "x-cart-token", "authorization", "origin"):
        assert ours.get(name) == theirs.get(name)
        assert ours.get(name, "-") == theirs.get(name, "-")
        assert (name in ours) == (name in theirs)
        if name in theirs:
            assert ours[name] == theirs[name]
        else:
            with pytest.raises(KeyError):
                ours[name]
    assert ours.getlist("cookie") == theirs.getlist("cookie") == ["a=1", "b=2"]
    assert ours.raw == theirs.raw and dict(ours) == dict(theirs)
