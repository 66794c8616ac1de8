"""The Starlette app: /graphql (HTTP, GraphiQL, websocket), /auth/token, /health and /ready."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from graphql_api.accounts.oauth import token_endpoint
from graphql_api.accounts.security import TokenSigner
from graphql_api.catalog.subscribers import register_catalog_subscribers
from graphql_api.catalog.warming import product_views
from graphql_api.core.jobs import InProcessJobs
from graphql_api.core.resources import Resources
from graphql_api.core.schedule import InProcessScheduler, schedules
from graphql_api.core.settings import Settings, get_settings
from graphql_api.http import GraphQLHTTP, GraphQLRequest
from graphql_api.playground import ASSET_ROUTE
from graphql_api.schema import build_schema
from graphql_api.search.factory import create_search_engine
from graphql_api.search.subscribers import register_search_subscribers, replay_outbox
from graphql_api.tracking.subscribers import register_tracking_subscribers
from graphql_api.websocket import GraphQLWebSocket
from workers.functions import JOB_FUNCTIONS

log = logging.getLogger(__name__)


async def health(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> JSONResponse:
    resources: Resources = request.app.state.resources
    checks = await resources.readiness()
    serving = checks["database"] == "ok"
    body = {"status": "ready" if serving else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if serving else 503)


async def open_resources(settings: Settings) -> Resources:
    resources = await Resources.open(settings, JOB_FUNCTIONS)
    resources.search = create_search_engine(settings, resources.db)
    register_catalog_subscribers(resources)
    register_search_subscribers(resources)
    register_tracking_subscribers(resources)
    return resources


class App(Starlette):
    """Starlette, with POST /graphql (every GraphQL request but GraphiQL's and GET's) passed
    straight to its endpoint: Starlette's error and exception middleware, router, route and
    request/response wrappers are ~20 µs of a ~300 µs cache hit, for an endpoint that answers
    every outcome itself. The CORS middleware, when configured, wraps that path as it wraps the
    others; everything else (GET, websockets, other routes, lifespan) is Starlette's."""

    direct: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.direct is not None and scope["type"] == "http" and (
                scope["method"] == "POST" and scope["path"] == "/graphql"):
            scope["app"] = self
            await self.direct(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def direct_endpoint(endpoint: GraphQLHTTP) -> ASGIApp:
    """The endpoint as an ASGI app, answering an unexpected exception as Starlette's
    ServerErrorMiddleware does (a plain 500, then the exception raised for the server's log)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = GraphQLRequest(scope, receive, send)
        try:
            response = await endpoint.endpoint(request)
        except Exception:
            await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
            raise
        await response(scope, receive, send)

    return app


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level)
    schema = build_schema(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.resources = resources = await open_resources(settings)
        resources.search.start()
        replay = asyncio.create_task(replay_outbox(resources), name="search:replay")
        # Embedded, this process runs the cron schedule too; with Redis, arq workers run it and
        # API processes only queue jobs.
        cron = InProcessScheduler(resources.jobs, schedules(
            settings, {f.__name__ for f in JOB_FUNCTIONS}) if isinstance(
                resources.jobs, InProcessJobs) else [])
        cron.start()
        # Everything loaded so far lives as long as the process: moving it out of the collector's
        # reach keeps full collections (70-120 ms pauses under load) off the request path.
        gc.collect()
        gc.freeze()
        # Long-lived connections (2,000 subscriptions hold ~800,000 objects) made gen-0/1
        # collections frequent enough to keep promoting into full ones, each a pause of up to a
        # second; fewer, larger young collections keep those off the delivery path.
        gc.set_threshold(50_000, 20, 100)
        try:
            yield
        finally:
            replay.cancel()
            await cron.close()
            await product_views(resources).close()
            await resources.close()

    # Browsers on the listed origins (a storefront, an admin panel) may call the API, with the
    # Authorization header or with the session cookies (credentials mode). Never credentials for
    # `*`: Starlette would echo any origin, letting every site use the cookies.
    cors: dict[str, Any] = {"allow_origins": settings.allowed_origins,
                            "allow_credentials": "*" not in settings.allowed_origins,
                            "allow_methods": ["GET", "POST"],
                            "allow_headers": ["Authorization", "Content-Type", "X-Cart-Token",
                                              "X-Session-Id"],
                            "expose_headers": ["x-request-id", "x-cache"], "max_age": 600}
    middleware = [Middleware(CORSMiddleware, **cors)] if settings.allowed_origins else []
    graphql_http = GraphQLHTTP(schema, settings.graphiql_enabled, settings.max_tokens)
    # GraphiQL's own files, only while GraphiQL is on.
    playground_routes = [Route(f"{ASSET_ROUTE}/{{path:path}}", graphql_http.playground.asset)
                         ] if graphql_http.playground is not None else []
    app = App(
        middleware=middleware,
        routes=[
            Route("/graphql", graphql_http.endpoint,
                  methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            *playground_routes,
            WebSocketRoute("/graphql", GraphQLWebSocket(schema, settings.allowed_origins)),
            Route("/auth/token", token_endpoint, methods=["POST"]),
            Route("/health", health),
            Route("/ready", ready),
        ],
        lifespan=lifespan,
    )
    direct = direct_endpoint(graphql_http)
    app.direct = CORSMiddleware(direct, **cors) if settings.allowed_origins else direct
    app.state.settings = settings
    app.state.signer = TokenSigner(settings)
    return app
