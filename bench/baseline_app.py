"""The hand-written baselines for bench/products_query.py: Starlette + an asyncpg pool, no ORM.

Each route answers POST with exactly the JSON bytes our GraphQL server gives for one query of the
benchmark, whatever the body asks (the query text is not interpreted):
- `/graphql`: `{ products(first: 20) { edges { node { id name price { amount } category { name } } } } }`,
  the first 20 live products in our default order with their category's name, one SQL query;
- `/product`: the product detail page (`PRODUCT_QUERY` in products_query.py): one product with
  its category and its first 10 reviews (newest first, with their author's name), two queries;
- `/cart`: a signed-in customer's cart (`CART_QUERY`): the bearer token verified like ours
  (pyjwt, the same secret, algorithm and issuer), then one query for the lines at current prices.
It is what a "minimal" service doing the same job looks like, the yardstick for ours.

Run on its own with
    BENCH_DATABASE_URL=postgresql://graphql:graphql@127.0.0.1:5432/graphql_api_bench \
        BENCH_JWT_SECRET=... python -m uvicorn baseline_app:app --app-dir bench --port 8001
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg
import jwt
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


# The product detail page: the product and its category, then its first 10 reviews of live
# products, newest first (created_at, id), each with its author's name.
PRODUCT_SQL = """
SELECT p.id, p.name, p.description, p.price, p.stock, c.name AS category_name
FROM product AS p
LEFT JOIN category AS c ON c.id = p.category_id
WHERE p.id = $1 AND p.deleted_at IS NULL
"""
REVIEWS_SQL = """
SELECT r.rating, r.title, r.body, u.name AS author_name
FROM review AS r JOIN "user" AS u ON u.id = r.user_id
WHERE r.product_id = $1
ORDER BY r.created_at DESC, r.id DESC
LIMIT 10
"""
# A customer's cart lines in the order they were added, with the products' current prices;
# lines of deleted products are left out, as ours leaves them out.
CART_SQL = """
SELECT l.quantity, p.id, p.name, p.price, p.discount_percent
FROM cart AS c
JOIN "user" AS u ON u.id = c.user_id AND u.is_active
JOIN cart_line AS l ON l.cart_id = c.id
JOIN product AS p ON p.id = l.product_id AND p.deleted_at IS NULL
WHERE c.user_id = $1
ORDER BY l.added_at, l.id
"""
CENT = Decimal("0.01")


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


def product_body(product: asyncpg.Record | None, reviews: list[asyncpg.Record]
                 ) -> dict[str, Any]:
    if product is None:
        return {"data": {"product": None}}
    return {"data": {"product": {
        "id": global_id("Product", product["id"]),
        "name": product["name"],
        "description": product["description"],
        "price": {"amount": str(product["price"])},
        "stock": product["stock"],
        "category": None if product["category_name"] is None
        else {"name": product["category_name"]},
        "reviews": {"edges": [
            {"node": {"rating": r["rating"], "title": r["title"], "body": r["body"],
                      "authorName": r["author_name"]}} for r in reviews
        ]},
    }}}


def cart_body(rows: list[asyncpg.Record]) -> dict[str, Any]:
    lines = []
    subtotal = total = Decimal("0.00")
    for row in rows:
        price, quantity = row["price"], row["quantity"]
        factor = Decimal(100 - row["discount_percent"]) / 100
        unit = (price * factor).quantize(CENT, rounding=ROUND_HALF_UP)
        amount = (unit * quantity).quantize(CENT)
        subtotal += (price * quantity).quantize(CENT)
        total += amount
        lines.append({"quantity": quantity,
                      "product": {"id": global_id("Product", row["id"]), "name": row["name"]},
                      "unitPrice": {"amount": str(unit)}, "lineTotal": {"amount": str(amount)}})
    return {"data": {"cart": {
        "itemCount": sum(line["quantity"] for line in lines),
        "subtotal": {"amount": str(subtotal)},
        "total": {"amount": str(total)},
        "lines": lines,
    }}}


def _dump(body: dict[str, Any]) -> str:
    # Serialised the way graphql_api.http does it, so the bytes can be compared.
    return json.dumps(body, separators=(",", ":"), default=str)


def create_app(
    dsn: str | None = None,
    init: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
) -> Starlette:
    """`init` runs on each new pool connection (the benchmark uses it to count round trips)."""
    dsn = dsn or os.environ.get("BENCH_DATABASE_URL", DEFAULT_DSN)
    jwt_secret = os.environ.get("BENCH_JWT_SECRET", "")

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
        return Response(_dump(products_body(rows)), media_type="application/json")

    async def product(request: Request) -> Response:
        params = json.loads(await request.body())
        pk = int(base64.urlsafe_b64decode(params["variables"]["id"] + "==").split(b":")[1])
        async with request.app.state.pool.acquire() as conn:
            row = await conn.fetchrow(PRODUCT_SQL, pk)
            reviews = await conn.fetch(REVIEWS_SQL, pk) if row is not None else []
        return Response(_dump(product_body(row, reviews)), media_type="application/json")

    async def cart(request: Request) -> Response:
        json.loads(await request.body())
        _, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            claims = jwt.decode(token, jwt_secret, algorithms=["HS256"], issuer="graphql-api",
                                options={"require": ["exp", "iat", "sub", "iss"]})
        except jwt.PyJWTError:
            return JSONResponse({"errors": [{"message": "Invalid token."}]}, 401)
        rows = await request.app.state.pool.fetch(CART_SQL, int(claims["sub"]))
        return Response(_dump(cart_body(rows)), media_type="application/json")

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/graphql", products, methods=["POST"]),
                Route("/product", product, methods=["POST"]),
                Route("/cart", cart, methods=["POST"]), Route("/health", health)],
        lifespan=lifespan,
    )


app = create_app()
