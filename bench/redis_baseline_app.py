"""The hand-written cache-hit baseline for bench/products_query.py: Starlette + one Redis GET.

POST any path with a GraphQL JSON body: the body is parsed, the key is a hash of its query and
variables (as any response cache would make it), and the bytes stored under it are sent back.
bench/products_query.py stores there the very bytes our server answers. One round trip, no
generation check: the least a response cache can do, the yardstick for our cached path.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/1 \\
        python -m uvicorn redis_baseline_app:app --app-dir bench --port 8002
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEFAULT_URL = "redis://127.0.0.1:6379/1"
PREFIX = "bench-raw:"


def key(params: dict[str, Any]) -> str:
    request = json.dumps([params.get("query"), params.get("variables")], sort_keys=True,
                         separators=(",", ":"))
    return PREFIX + hashlib.sha256(request.encode()).hexdigest()


def create_app(url: str | None = None) -> Starlette:
    url = url or os.environ.get("BENCH_REDIS_URL", DEFAULT_URL)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.redis = aioredis.Redis.from_url(url)
        try:
            yield
        finally:
            await app.state.redis.aclose()

    async def cached(request: Request) -> Response:
        params = json.loads(await request.body())
        if not isinstance(params, dict) or not isinstance(params.get("query"), str):
            return JSONResponse({"errors": [{"message": "`query` is required."}]}, 400)
        body = await request.app.state.redis.get(key(params))
        if body is None:
            return JSONResponse({"errors": [{"message": "not cached"}]}, 404)
        return Response(body, media_type="application/json")

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/health", health), Route("/{path:path}", cached,
                                                             methods=["POST"])],
                     lifespan=lifespan)


app = create_app()
