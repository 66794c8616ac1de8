"""Decides which backends a run uses.

With no URLs in the environment the suite runs embedded (SQLite file, in-process cache, pub/sub and
jobs). With DATABASE_URL / REDIS_URL / ELASTICSEARCH_URL it runs on those services; with
REQUIRE_SERVICES=1 (CI) a missing or unreachable service fails the run instead of shrinking it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import event, text
from starlette.applications import Starlette

from graphql_api.accounts import service as accounts
from graphql_api.accounts.models import Role
from graphql_api.app import create_app
from graphql_api.catalog.seed import seed_demo_catalog
from graphql_api.core.database import Database
from graphql_api.core.execution_diff import MISMATCHES, STATS
from graphql_api.core.migrate import upgrade
from graphql_api.core.resources import Resources
from graphql_api.core.settings import Settings

TEST_PRODUCTS = 300
PASSWORD = "correct-Horse-9-battery"


def pytest_report_header() -> list[str]:
    return [
        f"database: {os.environ.get('DATABASE_URL', 'embedded SQLite')}",
        f"redis: {os.environ.get('REDIS_URL', 'in-process')}",
        f"elasticsearch: {os.environ.get('ELASTICSEARCH_URL', 'database search')}",
    ]


def pytest_configure(config: pytest.Config) -> None:
    # Every operation the suite runs is executed by the fast path and by graphql-core's
    # reference path and compared (graphql_api/core/execution_diff.py); in server processes the
    # tests start too, since they inherit the environment. GRAPHQL_EXEC_DIFF=0 turns it off.
    os.environ.setdefault("GRAPHQL_EXEC_DIFF", "1")
    if os.environ.get("REQUIRE_SERVICES") == "1":
        missing = [k for k in ("DATABASE_URL", "REDIS_URL", "ELASTICSEARCH_URL")
                   if not os.environ.get(k)]
        if missing:
            raise pytest.UsageError(f"REQUIRE_SERVICES=1 but {', '.join(missing)} unset")


@pytest.fixture(autouse=True)
def _execution_diff() -> Iterator[None]:
    """Fails the test during which the fast path and the reference executor disagreed."""
    seen = len(MISMATCHES)
    yield
    if len(MISMATCHES) > seen:
        pytest.fail("\n\n".join(MISMATCHES[seen:]), pytrace=False)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if STATS["operations"]:
        share = 1 - STATS["ordinary_fields"] / max(STATS["fields"], 1)
        terminalreporter.write_line(
            f"differential execution: {STATS['operations']} executions compared, "
            f"{STATS['fields']} fields, {share:.0%} of them completed by the fast path, "
            f"{len(MISMATCHES)} mismatches ({STATS['raced']} differing only in which of racing "
            "failures was reported)")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    return Settings(
        app_env="test",
        data_dir=data_dir,
        database_url=os.environ.get("DATABASE_URL"),
        redis_url=os.environ.get("REDIS_URL"),
        elasticsearch_url=os.environ.get("ELASTICSEARCH_URL"),
        jwt_secret="test-secret-" + "x" * 40,
        auto_migrate=False,
        seed_demo=False,
        login_attempts_per_client=1000,  # the whole suite signs in from one client address
        # No scheduled or after-write warm-ups in the shared app: they would read the database
        # in the middle of tests that count statements (tests/workers start their own).
        cache_warm_interval_minutes=0,
        cache_warm_after_writes=False,
    )


async def _reset_database(settings: Settings) -> None:
    """Start from an empty database, so the whole migration history runs every time."""
    if settings.embedded_database:
        return  # a fresh temporary folder
    db = Database(settings)
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await db.close()


async def _reset_redis(settings: Settings) -> None:
    if settings.redis_url:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(settings.redis_url)
        await client.flushdb()
        await client.aclose()


async def _reset_search(settings: Settings) -> None:
    """Forget the indexes of earlier runs: they describe another database's products."""
    if settings.elasticsearch_url:
        from elasticsearch import AsyncElasticsearch

        client = AsyncElasticsearch(settings.elasticsearch_url, request_timeout=30)
        try:
            # By name: wildcard deletes are refused (action.destructive_requires_name).
            found = await client.indices.get(index=f"{settings.elasticsearch_index}-*",
                                             allow_no_indices=True, ignore_unavailable=True)
            if found:
                await client.indices.delete(index=",".join(found))
        finally:
            await client.close()


@pytest.fixture(scope="session")
async def prepared(settings: Settings) -> Settings:
    await _reset_database(settings)
    await _reset_redis(settings)
    await _reset_search(settings)
    await upgrade(settings)
    db = Database(settings)
    await seed_demo_catalog(db, products=TEST_PRODUCTS)
    await db.close()
    return settings


@pytest.fixture(scope="session")
async def app(prepared: Settings) -> AsyncIterator[Starlette]:
    application = create_app(prepared)
    async with LifespanManager(application):
        yield application


@pytest.fixture(scope="session")
def resources(app: Starlette) -> Resources:
    return app.state.resources  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(self, query: str, variables: dict[str, Any] | None = None,
                   token: str | None = None, operation: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body: dict[str, Any] = {"query": query, "variables": variables}
        if operation is not None:
            body["operationName"] = operation
        return await self.http.post("/graphql", json=body, headers=headers)

    async def __call__(self, query: str, variables: dict[str, Any] | None = None,
                       token: str | None = None, operation: str | None = None) -> dict[str, Any]:
        response = await self.post(query, variables, token, operation)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def data(self, query: str, variables: dict[str, Any] | None = None,
                   token: str | None = None, operation: str | None = None) -> dict[str, Any]:
        body = await self(query, variables, token, operation)
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


async def make_user(resources: Resources, role: Role = Role.CUSTOMER) -> tuple[int, str, str]:
    """A user with `role`; returns (id, email, access token)."""
    email = unique_email(role.value)
    async with resources.db.transaction() as session:
        user = await accounts.register(session, email, PASSWORD, "Test User", role)
    assert user.id is not None
    signer = resources.extras.get("signer")
    if signer is None:
        from graphql_api.accounts.security import TokenSigner

        signer = resources.extras["signer"] = TokenSigner(resources.settings)
    return user.id, email, signer.issue_access(user.id, user.role)


@pytest.fixture(scope="session")
async def admin_token(resources: Resources) -> str:
    return (await make_user(resources, Role.ADMIN))[2]


@pytest.fixture(scope="session")
async def super_admin_token(resources: Resources) -> str:
    return (await make_user(resources, Role.SUPER_ADMIN))[2]


@pytest.fixture(scope="session")
async def customer_token(resources: Resources) -> str:
    return (await make_user(resources, Role.CUSTOMER))[2]


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    # Background tasks of the shared app (the search outbox replay, in-process jobs, cron) read
    # the database on their own clock: their statements are not the measured request's.
    BACKGROUND = ("search:", "job:", "cron:", "events:")

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        if task is not None and task.get_name().startswith(self.BACKGROUND):
            return
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
async def count_statements(resources: Resources) -> Any:
    from graphql_api.core.jobs import InProcessJobs

    if isinstance(resources.jobs, InProcessJobs):
        # Jobs queued by earlier tests' writes (a cache warm-up reads ~150 statements) must not
        # run into this test's count.
        await resources.jobs.drain()

    @contextmanager
    def counting() -> Iterator[StatementCounter]:
        counter = StatementCounter()
        engine = resources.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return counting


@pytest.fixture(scope="session")
async def live_url(app: Starlette) -> AsyncIterator[str]:
    """The app served by a real uvicorn on a loopback port, in this event loop."""

    import uvicorn

    from tests.servers import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning", ws="websockets-sansio"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await task
