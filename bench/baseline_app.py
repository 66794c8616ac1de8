"""The hand-written baseline for bench/products_query.py: Starlette + an asyncpg pool, no ORM.

It answers POST /graphql (whatever the body asks) with exactly the JSON our GraphQL server gives
for `{ products(first: 20) { edges { node { id name price { amount } category { name } } } } }`:
the first 20 live products in our default order, each with its category's name, from one SQL
query. It is what a "minimal" service doing the same job looks like, the yardstick for ours.

Run on its own with
    BENCH_DATABASE_URL=postgresql://graphql:graphql@127.0.0.1:5432/graphql_api_bench \
        python -m uvicorn baseline_app:app --app-dir bench --port 8001
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEFAULT_DSN = "postgresql://graphql:graphql@127.0.0.1:5432/graphql_api_bench"
# Same filter and order as products(first: 20): live products, newest first, id breaking ties.
PRODUCTS_SQL = """
SELECT p.id, p.name, p.price, p.category_id, c.name AS category_name
FROM product AS p
LEFT JOIN category AS c ON c.id = p.category_id
WHERE p.deleted_at IS NULL
ORDER BY p.created_at DESC, p.id DESC
LIMIT 20
"""


def global_id(type_name: str, pk: int) -> str:
    """A Relay global ID exactly as graphql_api.core.ids encodes it (unpadded urlsafe base64)."""
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def products_body(rows: list[asyncpg.Record]) -> dict[str, Any]:
    edges = [
        {
            "node": {
                "id": global_id("Product", row["id"]),
                "name": row["name"],
                "price": {"amount": str(row["price"])},
                "category": None if row["category_id"] is None
                else {"name": row["category_name"]},
            }
        }
        for row in rows
    ]
    return {"data": {"products": {"edges": edges}}}


def create_app(
    dsn: str | None = None,
    init: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
) -> Starlette:
    """`init` runs on each new pool connection (the benchmark uses it to count round trips)."""
    dsn = dsn or os.environ.get("BENCH_DATABASE_URL", DEFAULT_DSN)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Our server's SQLAlchemy pool is 10 + 10 overflow; give the baseline the same ceiling.
        app.state.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=20, init=init)
        try:
            yield
        finally:
            await app.state.pool.close()

    async def products(request: Request) -> Response:
        # Parse the request like any JSON API would; the query text itself is not interpreted.
        params = json.loads(await request.body())
        if not isinstance(params, dict) or not isinstance(params.get("query"), str):
            return JSONResponse({"errors": [{"message": "`query` is required."}]}, 400)
        rows = await request.app.state.pool.fetch(PRODUCTS_SQL)
        # Serialised the way graphql_api.http does it, so the bytes can be compared.
        body = json.dumps(products_body(rows), separators=(",", ":"), default=str)
        return Response(body, media_type="application/json")

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/graphql", products, methods=["POST"]), Route("/health", health)],
        lifespan=lifespan,
    )


app = create_app()
