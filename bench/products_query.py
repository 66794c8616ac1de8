"""Benchmark `products(first: 20)` against a hand-written Starlette + asyncpg baseline.

    python bench/products_query.py [--products 100000] [--duration 15] [--connections 16]

One run:
1. creates the `graphql_api_bench` database if missing, migrates it, seeds the demo catalog
   (`graphql-api seed`, idempotent) and runs VACUUM ANALYZE;
2. counts the SQL statements and PostgreSQL round trips of one request, in-process (cold cache,
   warm cache, cache disabled, and the baseline for comparison), and EXPLAIN ANALYZEs the SQL;
3. profiles the cache-disabled path in-process with pyinstrument (if installed);
4. serves the baseline (bench/baseline_app.py) and our server in three variants, each with
   uvicorn and one worker: in-memory cache (no REDIS_URL), Redis cache (db 1) and cache disabled
   (CACHE_ENABLED=false); checks that every response equals the baseline's, then measures each
   with wrk after a warm-up;
5. prints markdown tables and rewrites its section of BENCHMARKS.md.

Every process it starts listens on 127.0.0.1 only and is stopped before it exits. With 2 cores
or more, the servers are pinned to CPU 1 and wrk to CPU 0 (`taskset`; --no-pin to skip).

--partial-index adds, to the benchmark database only, the index the default order needs on
PostgreSQL: `(created_at, id) WHERE deleted_at IS NULL`. The migrated `(deleted_at, created_at,
id)` cannot give that order (the planner does not treat `IS NULL` as an equality), so without it
both servers sort the whole table on every request. Without the flag the script drops that
index again, so the database matches the migrations. Each mode has its own part of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from graphql_api.app import create_app
from graphql_api.core.settings import Settings

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))  # the sibling baseline module, however this file is started

import baseline_app  # noqa: E402

BENCH_DB = "graphql_api_bench"
DEFAULT_ADMIN_URL = "postgresql+asyncpg://graphql:graphql@127.0.0.1:5432/graphql_api_test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
QUERY = "{ products(first: 20) { edges { node { id name price { amount } category { name } } } } }"
PAYLOAD = {"query": QUERY}
RESULTS_DIR = BENCH_DIR / "results"
BENCHMARKS_MD = REPO_ROOT / "BENCHMARKS.md"
SECTION_TITLE = "## `products(first: 20)`: our server vs a hand-written Starlette + asyncpg baseline"
ANALYSIS_HEADING = "### Analysis"
PARTIAL_INDEX = "bench_product_live_created_partial"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- configuration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    products: int
    duration: int
    connections: int
    warmup: int
    rounds: int
    profile_runs: int
    admin_url: str  # SQLAlchemy URL of an existing database, used only to CREATE DATABASE
    bench_url: str  # SQLAlchemy URL of the benchmark database
    redis_url: str
    jwt_secret: str
    server_cpu: str | None  # taskset CPU list for the servers; None: no pinning
    wrk_cpu: str | None
    partial_index: bool
    skip_seed: bool
    quiet_below: float  # wait until the machine's CPU use is below this (percent) ...
    quiet_wait: int  # ... for at most this many seconds before each measurement
    write_md: bool

    @property
    def mode(self) -> str:
        return "with the proposed partial index" if self.partial_index else "schema as migrated"

    @property
    def bench_dsn(self) -> str:
        """The benchmark database as a plain libpq DSN, for asyncpg."""
        return make_url(self.bench_url).set(drivername="postgresql").render_as_string(False)

    def settings(self, **overrides: Any) -> Settings:
        """Our server's settings for the in-process parts: no Redis or Elasticsearch, production."""
        values: dict[str, Any] = {
            "app_env": "production",
            "database_url": self.bench_url,
            "redis_url": None,
            "elasticsearch_url": None,
            "jwt_secret": self.jwt_secret,
            "log_level": "WARNING",
            **overrides,
        }
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    def server_env(self, **extra: str) -> dict[str, str]:
        env = clean_environ()
        env.update(
            DATABASE_URL=self.bench_url,
            APP_ENV="production",
            JWT_SECRET=self.jwt_secret,
            LOG_LEVEL="WARNING",
        )
        env.update(extra)
        return env


def clean_environ() -> dict[str, str]:
    """os.environ without any variable graphql_api's Settings would read (REDIS_URL, ...)."""
    names = {name.upper() for name in Settings.model_fields}
    return {k: v for k, v in os.environ.items() if k.upper() not in names}


def parse_args() -> Config:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000, help="catalog size to seed")
    parser.add_argument("--duration", type=int, default=15, help="seconds of wrk per variant")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk before measuring")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every variant this many times, interleaved; keep the best")
    parser.add_argument("--profile-runs", type=int, default=500,
                        help="in-process requests profiled with pyinstrument (0: no profile)")
    parser.add_argument("--partial-index", action="store_true",
                        help="add the partial index the default order needs (bench DB only)")
    parser.add_argument("--admin-database-url", default=DEFAULT_ADMIN_URL,
                        help="an existing database to connect to for CREATE DATABASE")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help="Redis for the Redis-cache variant (not db 0: the tests flush it)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the servers and wrk to separate CPUs")
    parser.add_argument("--skip-seed", action="store_true",
                        help="skip migrate and seed (the database must be ready)")
    parser.add_argument("--quiet-below", type=float, default=20.0,
                        help="before each measurement, wait for machine CPU use below this %%")
    parser.add_argument("--quiet-wait", type=int, default=90,
                        help="seconds to wait at most for that (then measure anyway)")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args()

    admin = make_url(args.admin_database_url)
    if admin.database == BENCH_DB:
        parser.error("--admin-database-url must name another database than the benchmark's")
    redis_db = args.redis_url.rstrip("/").rsplit("/", 1)[-1]
    if not redis_db.isdigit() or int(redis_db) == 0:
        parser.error("--redis-url must name a Redis database other than 0, e.g. .../1")
    server_cpu = wrk_cpu = None
    if not args.no_pin and shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        wrk_cpu, server_cpu = "0", "1"
    return Config(
        products=args.products,
        duration=args.duration,
        connections=args.connections,
        warmup=args.warmup,
        rounds=max(1, args.rounds),
        profile_runs=args.profile_runs,
        admin_url=args.admin_database_url,
        bench_url=admin.set(database=BENCH_DB).render_as_string(False),
        redis_url=args.redis_url,
        jwt_secret=secrets.token_urlsafe(36),  # 48 characters
        server_cpu=server_cpu,
        wrk_cpu=wrk_cpu,
        partial_index=args.partial_index,
        skip_seed=args.skip_seed,
        quiet_below=args.quiet_below,
        quiet_wait=args.quiet_wait,
        write_md=not args.no_write,
    )


# --- 1. the database ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    products: int
    live_products: int
    categories: int
    postgres_version: str
    ssl: bool


async def ensure_database(cfg: Config) -> None:
    admin = make_url(cfg.admin_url).set(drivername="postgresql")
    last_error: Exception | None = None
    for url in (admin.set(database="postgres"), admin):
        try:
            conn = await asyncpg.connect(url.render_as_string(False))
        except (OSError, asyncpg.PostgresError) as exc:
            last_error = exc
            continue
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", BENCH_DB)
            if not exists:
                log(f"creating database {BENCH_DB}")
                await conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
            return
        finally:
            await conn.close()
    raise SystemExit(f"cannot connect to PostgreSQL to create {BENCH_DB}: {last_error!r}")


def run_cli(cfg: Config, *args: str, workdir: Path) -> None:
    log("$ DATABASE_URL=<bench> " + shlex.join(["graphql-api", *args]))
    subprocess.run([sys.executable, "-m", "graphql_api", *args], env=cfg.server_env(),
                   cwd=workdir, check=True)


async def finish_database(cfg: Config) -> Catalog:
    conn = await asyncpg.connect(cfg.bench_dsn)
    try:
        if cfg.partial_index:
            await conn.execute(f"CREATE INDEX IF NOT EXISTS {PARTIAL_INDEX} ON product "
                               "(created_at, id) WHERE deleted_at IS NULL")
        else:
            await conn.execute(f"DROP INDEX IF EXISTS {PARTIAL_INDEX}")
        await conn.execute("VACUUM ANALYZE")
        return Catalog(
            products=await conn.fetchval("SELECT count(*) FROM product"),
            live_products=await conn.fetchval(
                "SELECT count(*) FROM product WHERE deleted_at IS NULL"),
            categories=await conn.fetchval("SELECT count(*) FROM category"),
            postgres_version=await conn.fetchval("SHOW server_version"),
            ssl=conn._transport.get_extra_info("sslcontext") is not None,  # type: ignore[attr-defined]
        )
    finally:
        await conn.close()


def prepare_database(cfg: Config, workdir: Path) -> Catalog:
    asyncio.run(ensure_database(cfg))
    if not cfg.skip_seed:
        run_cli(cfg, "migrate", workdir=workdir)
        started = time.perf_counter()
        run_cli(cfg, "seed", "--products", str(cfg.products), workdir=workdir)
        log(f"seed took {time.perf_counter() - started:.1f}s")
    log(f"{'adding' if cfg.partial_index else 'no'} partial index; VACUUM ANALYZE")
    catalog = asyncio.run(finish_database(cfg))
    log(f"catalog: {catalog.live_products} live products of {catalog.products}, "
        f"{catalog.categories} categories")
    return catalog


# --- 2. statements, round trips and plans, in-process ---------------------------------------------

# asyncpg protocol calls that each send a message sequence and wait for PostgreSQL's answer.
_ROUND_TRIP_CALLS = frozenset(
    {"query", "prepare", "bind_execute", "bind_execute_many", "bind", "execute", "close_statement"}
)


def _short_sql(sql: str, width: int = 60) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class _CountingProtocol:
    """Delegates to an asyncpg protocol, recording each call that is a round trip to the server."""

    __slots__ = ("_calls", "_inner")

    def __init__(self, inner: Any, calls: list[str]) -> None:
        self._inner = inner
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in _ROUND_TRIP_CALLS:
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(_describe_call(name, args, kwargs))
            return attr(*args, **kwargs)

        return counted


def _describe_call(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    def arg(position: int, keyword: str) -> Any:
        return args[position] if len(args) > position else kwargs.get(keyword)

    if name == "query":  # simple protocol: BEGIN, ROLLBACK, the pool's reset query
        return _short_sql(str(arg(0, "query")))
    if name == "prepare":
        return "PREPARE " + _short_sql(str(arg(1, "query")))
    if name in ("bind_execute", "bind_execute_many", "bind"):
        return "EXECUTE " + _short_sql(str(getattr(arg(0, "state"), "query", "?")))
    return name


@dataclass
class RequestCount:
    label: str
    statements: list[tuple[str, Any]]  # (SQL, parameters)
    round_trips: list[str]

    def breakdown(self) -> str:
        counts = Counter(self.round_trips)
        return "; ".join(f"{n} x `{what}`" for what, n in counts.items()) or "none"


class Recorder:
    """SQL statements (SQLAlchemy's before_cursor_execute) and server round trips (asyncpg)."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.round_trips: list[str] = []

    def reset(self) -> None:
        self.statements.clear()
        self.round_trips.clear()

    def wrap_connection(self, conn: asyncpg.Connection) -> None:
        conn._protocol = _CountingProtocol(conn._protocol, self.round_trips)  # type: ignore[attr-defined]

    def attach(self, sync_engine: Any) -> None:
        @event.listens_for(sync_engine, "before_cursor_execute")
        def _statement(_conn: Any, _cursor: Any, statement: str, parameters: Any,
                       *_: Any) -> None:
            self.statements.append((statement, parameters))

        @event.listens_for(sync_engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            self.wrap_connection(dbapi_connection.driver_connection)

    def snapshot(self, label: str) -> RequestCount:
        return RequestCount(label, list(self.statements), list(self.round_trips))


@contextlib.asynccontextmanager
async def in_process(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    from asgi_lifespan import LifespanManager

    async with LifespanManager(app, startup_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield client


async def post_query(client: httpx.AsyncClient) -> bytes:
    response = await client.post("/graphql", json=PAYLOAD)
    response.raise_for_status()
    body = json.loads(response.content)
    if "errors" in body or not body.get("data", {}).get("products", {}).get("edges"):
        raise RuntimeError(f"unexpected response: {response.text[:500]}")
    return response.content


async def count_requests(cfg: Config) -> list[RequestCount]:
    """One request's statements and round trips, after warm-up requests opened a connection."""
    counts: list[RequestCount] = []
    recorder = Recorder()
    app = create_app(cfg.settings())
    async with in_process(app) as client:
        recorder.attach(app.state.resources.db.engine.sync_engine)
        for _ in range(3):
            ours = await post_query(client)
        await app.state.resources.cache.clear()
        recorder.reset()
        await post_query(client)
        counts.append(recorder.snapshot("ours, cold in-memory cache"))
        recorder.reset()
        await post_query(client)
        counts.append(recorder.snapshot("ours, warm in-memory cache"))

    recorder = Recorder()
    app = create_app(cfg.settings(cache_enabled=False))
    async with in_process(app) as client:
        recorder.attach(app.state.resources.db.engine.sync_engine)
        for _ in range(3):
            await post_query(client)
        recorder.reset()
        await post_query(client)
        counts.append(recorder.snapshot("ours, cache disabled (DB path)"))

    recorder = Recorder()

    async def wrap(conn: asyncpg.Connection) -> None:
        recorder.wrap_connection(conn)

    async with in_process(baseline_app.create_app(cfg.bench_dsn, init=wrap)) as client:
        for _ in range(3):
            theirs = await post_query(client)
        recorder.reset()
        await post_query(client)
        baseline = recorder.snapshot("baseline")
        baseline.statements = [(baseline_app.PRODUCTS_SQL, ())]  # no SQLAlchemy to see it
        counts.append(baseline)
    check_same_response(theirs, ours, "in-process")
    return counts


@dataclass
class Plan:
    label: str
    nodes: str
    execution_ms: float


async def explain(cfg: Config, counts: list[RequestCount]) -> list[Plan]:
    """EXPLAIN ANALYZE the statements of the DB path and of the baseline."""
    wanted = [c for c in counts if c.label.startswith(("ours, cache disabled", "baseline"))]
    conn = await asyncpg.connect(cfg.bench_dsn)
    plans: list[Plan] = []
    try:
        for count in wanted:
            for sql, params in count.statements:
                rows = await conn.fetch(f"EXPLAIN (ANALYZE, FORMAT TEXT) {sql}", *params)
                lines = [r[0] for r in rows]
                nodes = [m[1].strip() for line in lines
                         if (m := re.match(r"^\s*(?:->\s*)?([A-Z][^(]*?)\s+\(cost", line))]
                total = next((float(m[1]) for line in lines
                              if (m := re.match(r"Execution Time: ([\d.]+) ms", line))), 0.0)
                table = "product" if "FROM product" in sql else "category"
                who = "ours" if count.label.startswith("ours") else "baseline"
                plans.append(Plan(f"{who}: {table} query", " → ".join(nodes), total))
    finally:
        await conn.close()
    return plans


# --- 3. profile -----------------------------------------------------------------------------------


@dataclass
class Profile:
    runs: int
    ms_per_request: float
    idle_share: float  # of wall time: the event loop waiting for PostgreSQL
    by_area: list[tuple[str, float]]  # shares of on-CPU time
    entry_points: list[tuple[str, float]]
    ours: list[tuple[str, float]]
    top_self: list[tuple[str, float]]
    text_path: Path


# Time is attributed to the innermost frame with a source file: C code (json's encoder,
# asyncpg's Cython protocol, builtins) counts for the Python function that called it.
_AREAS: list[tuple[str, str]] = [
    ("/strawberry/", "Strawberry (schema execution, extensions, field resolution)"),
    ("/graphql/", "graphql-core (execution, validation rules, result completion)"),
    ("/sqlalchemy/", "SQLAlchemy (session, pool, compile cache, result rows)"),
    ("/asyncpg/", "asyncpg (protocol, incl. its C code)"),
    ("/asyncio/sslproto.py", "TLS to PostgreSQL (asyncio sslproto, ssl)"),
    ("/ssl.py", "TLS to PostgreSQL (asyncio sslproto, ssl)"),
    ("/starlette/", "Starlette (routing, request, response)"),
    ("/aiocache/", "aiocache"),
    ("/greenlet", "greenlet (SQLAlchemy's async bridge)"),
    ("/httpx/", "in-process test client (httpx; not in the real server)"),
    ("/httpcore/", "in-process test client (httpx; not in the real server)"),
    ("/anyio/", "in-process test client (httpx; not in the real server)"),
    ("/asgi_lifespan/", "in-process test client (httpx; not in the real server)"),
    ("/graphql_api/", "graphql_api (our code)"),
    ("/json/", "json (stdlib)"),
    ("/asyncio/", "asyncio event loop (tasks, futures, callbacks)"),
]

# (function, path fragment, description): inclusive on-CPU time of these.
_ENTRY_POINTS: list[tuple[str, str, str]] = [
    ("endpoint", "graphql_api/http.py", "GraphQLHTTP.endpoint (the whole request)"),
    ("execute", "strawberry/schema/schema.py", "Strawberry Schema.execute"),
    ("_respond", "graphql_api/http.py", "response JSON encoding (json.dumps)"),
    ("execute", "sqlalchemy/ext/asyncio/session.py", "AsyncSession.execute"),
    ("_checkout", "sqlalchemy/pool/base.py", "pool checkout (incl. pre-ping)"),
    ("do_ping", "sqlalchemy/dialects/postgresql/asyncpg.py", "pre-ping (BEGIN; ;  ROLLBACK)"),
    ("_start_transaction", "sqlalchemy/dialects/postgresql/asyncpg.py", "BEGIN"),
    ("close", "sqlalchemy/ext/asyncio/session.py", "AsyncSession.close (ROLLBACK, check-in)"),
    ("_prepare_and_execute", "sqlalchemy/dialects/postgresql/asyncpg.py",
     "asyncpg cursor execute (BEGIN + statement)"),
    ("fetchall", "sqlalchemy/dialects/postgresql/asyncpg.py", "fetch rows"),
    ("__iter__", "sqlalchemy/engine/result.py", "Result iteration (row processing)"),
    ("complete_list_value", "graphql/execution/executor.py", "graphql-core list completion"),
]


def _frame_parts(identifier: str) -> tuple[str, str]:
    function, _, rest = identifier.partition("\x00")
    return function, rest.split("\x00", 1)[0]


def _area(frames: list[tuple[str, str]]) -> str:
    for _function, path in reversed(frames):
        if path and not path.startswith("<"):
            for marker, name in _AREAS:
                if marker in path:
                    return name
            return "other libraries" if "site-packages" in path else "other stdlib"
    return "other"


def _short_path(path: str) -> str:
    for root in (str(REPO_ROOT) + "/", "site-packages/"):
        if root in path:
            return path.split(root, 1)[1]
    if "/lib/python3." in path:
        return path.split("/lib/python3.", 1)[1].split("/", 1)[-1]
    return path


async def profile_db_path(cfg: Config) -> Profile | None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        log("pyinstrument is not installed (pip install pyinstrument): no profile")
        return None
    app = create_app(cfg.settings(cache_enabled=False))
    async with in_process(app) as client:
        for _ in range(30):
            await post_query(client)
        profiler = Profiler(interval=0.0005, async_mode="disabled")
        started = time.perf_counter()
        profiler.start()
        for _ in range(cfg.profile_runs):
            await post_query(client)
        profiler.stop()
        elapsed = time.perf_counter() - started
    session = profiler.last_session
    assert session is not None

    areas: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    inclusive: Counter[tuple[str, str]] = Counter()
    idle = busy = 0.0
    for stack, seconds in session.frame_records:
        frames = [_frame_parts(s) for s in stack if not s.startswith("[")]
        if not frames:
            continue
        if frames[-1][0] in ("epoll.poll", "select.select", "poll.poll", "kqueue.control"):
            idle += seconds
            continue
        busy += seconds
        areas[_area(frames)] += seconds
        function, path = frames[-1]
        leaves[f"{function} ({_short_path(path)})"] += seconds
        for frame in set(frames):
            inclusive[frame] += seconds

    RESULTS_DIR.mkdir(exist_ok=True)
    text_path = RESULTS_DIR / "products_query_profile.txt"
    text_path.write_text(profiler.output_text(unicode=True, color=False))
    (RESULTS_DIR / "products_query_profile.html").write_text(profiler.output_html())

    def share(seconds: float) -> float:
        return seconds / busy if busy else 0.0

    entry_points = []
    for function, fragment, description in _ENTRY_POINTS:
        seconds = sum(t for (f, p), t in inclusive.items() if f == function and fragment in p)
        if seconds:
            entry_points.append((f"{description}: `{function}` in {fragment}", share(seconds)))
    ours = sorted(
        ((f"{f} ({_short_path(p)})", share(t)) for (f, p), t in inclusive.items()
         if "/graphql_api/" in p and f not in ("endpoint", "_handle")),
        key=lambda item: -item[1],
    )[:12]
    return Profile(
        runs=cfg.profile_runs,
        ms_per_request=elapsed / cfg.profile_runs * 1000,
        idle_share=idle / (idle + busy) if idle + busy else 0.0,
        by_area=[(k, share(v)) for k, v in areas.most_common()],
        entry_points=entry_points,
        ours=ours,
        top_self=[(k, share(v)) for k, v in leaves.most_common(15)],
        text_path=text_path,
    )


# --- 4. servers and wrk ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    command: list[str]
    env: dict[str, str]
    is_baseline: bool = False


@dataclass
class WrkResult:
    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    requests: int
    problems: list[str]
    command: list[str]


@dataclass
class Measurement:
    variant: Variant
    wrk: WrkResult
    byte_identical: bool
    busy_before: float  # machine CPU use (%) just before this variant's server started
    rounds: list[float] = field(default_factory=list)  # req/s of every round


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cmd: list[str], cpu: str | None) -> list[str]:
    return ["taskset", "-c", cpu, *cmd] if cpu is not None else cmd


@contextlib.contextmanager
def running_server(variant: Variant, cfg: Config, workdir: Path) -> Iterator[str]:
    RESULTS_DIR.mkdir(exist_ok=True)
    log_path = RESULTS_DIR / f"server_{variant.key}.log"
    port = free_port()
    cmd = pinned([*variant.command, "--port", str(port)], cfg.server_cpu)
    log(f"starting {variant.label}: {shlex.join(cmd)}")
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(cmd, env=variant.env, cwd=workdir, stdout=log_file,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_healthy(proc, base, log_path)
            yield base
        finally:
            stop(proc)


def wait_until_healthy(proc: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; log:\n{tail(log_path)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server did not become healthy in 60s; log:\n{tail(log_path)}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # uvicorn shuts down gracefully on SIGTERM
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def fetch(base: str) -> bytes:
    response = httpx.post(f"{base}/graphql", json=PAYLOAD, timeout=30)
    response.raise_for_status()
    return response.content


def check_same_response(reference: bytes, ours: bytes, what: str) -> bool:
    """Assert JSON equality with the baseline's response; return whether the bytes match too."""
    expected, actual = json.loads(reference), json.loads(ours)
    if expected != actual:
        raise AssertionError(f"{what}: the response differs from the baseline's: "
                             f"{describe_difference(expected, actual)}")
    return reference == ours


def describe_difference(expected: Any, actual: Any) -> str:
    if "errors" in actual:
        return f"our server answered errors: {actual['errors']}"
    try:
        ours = actual["data"]["products"]["edges"]
        theirs = expected["data"]["products"]["edges"]
    except (KeyError, TypeError):
        return f"the shape differs: {json.dumps(actual)[:300]}"
    if len(ours) != len(theirs):
        return f"{len(ours)} edges instead of {len(theirs)}"
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if a != b:
            return f"edge {i}: ours {a} vs the baseline's {b}"
    return "(no difference found in the edges)"


def cpu_busy(seconds: float = 1.0) -> float:
    """The whole machine's CPU use over `seconds`, in percent (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values[:8]), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return float("nan")
    return 100.0 * (1 - (idle1 - idle0) / max(1, total1 - total0))


def wait_for_quiet(cfg: Config) -> float:
    """Wait (at most cfg.quiet_wait s) until other processes leave the CPUs mostly idle."""
    deadline = time.monotonic() + cfg.quiet_wait
    busy = cpu_busy()
    while busy > cfg.quiet_below and time.monotonic() < deadline:
        log(f"machine is {busy:.0f}% busy; waiting for it to calm down")
        time.sleep(4)
        busy = cpu_busy()
    return busy


_LATENCY_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unparsed wrk latency {text!r}")
    return float(match[1]) * _LATENCY_UNITS[match[2]]


def parse_wrk(output: str) -> tuple[float, float, float, int, list[str]]:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise RuntimeError(f"cannot parse the wrk output:\n{output}")
    problems = [line.strip() for line in output.splitlines()
                if line.strip().startswith(("Non-2xx", "Socket errors"))]
    return float(rps[1]), _latency_ms(p50[1]), _latency_ms(p99[1]), int(total[1]), problems


def run_wrk(cfg: Config, url: str, seconds: int) -> WrkResult:
    # --timeout 10s: a slow response counts in the latencies instead of as a socket timeout.
    cmd = pinned(["wrk", "-t1", f"-c{cfg.connections}", f"-d{seconds}s", "--timeout", "10s",
                  "--latency", "-s", str(BENCH_DIR / "post.lua"), url], cfg.wrk_cpu)
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 60)
    rps, p50, p99, total, problems = parse_wrk(done.stdout)
    return WrkResult(rps, p50, p99, total, problems, cmd)


def flush_bench_cache(redis_url: str) -> None:
    """Drop our cache keys (aiocache namespace `gql`) from the bench Redis database only."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match="gql*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def variants(cfg: Config) -> list[Variant]:
    serve = [sys.executable, "-m", "graphql_api", "serve", "--workers", "1"]
    return [
        Variant("baseline", "baseline (Starlette + asyncpg, 1 SQL query)",
                [sys.executable, "-m", "uvicorn", "baseline_app:app", "--app-dir", str(BENCH_DIR),
                 "--host", "127.0.0.1", "--workers", "1", "--log-level", "warning"],
                {**clean_environ(), "BENCH_DATABASE_URL": cfg.bench_dsn}, is_baseline=True),
        Variant("nocache", "ours, cache disabled (`CACHE_ENABLED=false`)", serve,
                cfg.server_env(CACHE_ENABLED="false")),
        Variant("memory", "ours, in-memory cache (no `REDIS_URL`)", serve, cfg.server_env()),
        Variant("redis", "ours, Redis cache (db 1)", serve,
                cfg.server_env(REDIS_URL=cfg.redis_url)),
    ]


def measure_one(cfg: Config, variant: Variant, workdir: Path, reference: bytes | None
                ) -> tuple[Measurement, bytes]:
    if variant.key == "redis":
        flush_bench_cache(cfg.redis_url)
    busy = wait_for_quiet(cfg)  # before our server starts: what other processes use
    with running_server(variant, cfg, workdir) as base:
        body = fetch(base)
        reference = reference or body
        identical = check_same_response(reference, body, variant.label)
        log(f"response {'byte-identical to' if identical else 'JSON-equal to'} the baseline's "
            f"({len(body)} bytes); warming up for {cfg.warmup}s")
        if cfg.warmup:
            run_wrk(cfg, f"{base}/graphql", cfg.warmup)
        wrk = run_wrk(cfg, f"{base}/graphql", cfg.duration)
        check_same_response(reference, fetch(base), variant.label + " after the run")
    log(f"{variant.label}: {wrk.requests_per_sec:.0f} req/s, p50 {wrk.p50_ms:.2f} ms, "
        f"p99 {wrk.p99_ms:.2f} ms (machine {busy:.0f}% busy before) {' '.join(wrk.problems)}")
    return Measurement(variant, wrk, identical, busy), reference


def measure(cfg: Config, workdir: Path) -> list[Measurement]:
    """Every variant, `rounds` times interleaved (the baseline first); the best round of each."""
    best: dict[str, Measurement] = {}
    rounds: dict[str, list[float]] = {}
    reference: bytes | None = None
    for n in range(cfg.rounds):
        if cfg.rounds > 1:
            log(f"round {n + 1} of {cfg.rounds}")
        for variant in variants(cfg):
            result, reference = measure_one(cfg, variant, workdir, reference)
            rounds.setdefault(variant.key, []).append(result.wrk.requests_per_sec)
            kept = best.get(variant.key)
            if kept is None or result.wrk.requests_per_sec > kept.wrk.requests_per_sec:
                best[variant.key] = result
    for key, result in best.items():
        result.rounds = rounds[key]
    return list(best.values())


# --- 5. report ------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return {"nproc": nproc or str(os.cpu_count()), "cpu": model, "memory": memory,
            "python": platform.python_version(), "kernel": platform.release()}


def versions() -> str:
    names = ["strawberry-graphql", "graphql-core", "starlette", "uvicorn", "uvloop", "httptools",
             "sqlalchemy", "asyncpg", "aiocache"]
    found = []
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return ", ".join(found)


def results_table(results: list[Measurement]) -> str:
    baseline = next(m for m in results if m.variant.is_baseline).wrk.requests_per_sec
    several = any(len(m.rounds) > 1 for m in results)
    head = "| variant | req/s | p50 | p99 | ratio to baseline | CPU busy before |"
    rule = "|---|---:|---:|---:|---:|---:|"
    if several:
        head += " req/s of every round |"
        rule += "---|"
    lines = [head, rule]
    for m in results:
        w = m.wrk
        problems = f" ({'; '.join(w.problems)})" if w.problems else ""
        line = (f"| {m.variant.label}{problems} | {w.requests_per_sec:,.0f} | {w.p50_ms:.2f} ms "
                f"| {w.p99_ms:.2f} ms | {w.requests_per_sec / baseline:.2f} | "
                f"{m.busy_before:.0f}% |")
        if several:
            line += " " + ", ".join(f"{r:,.0f}" for r in m.rounds) + " |"
        lines.append(line)
    return "\n".join(lines)


def counts_table(counts: list[RequestCount]) -> str:
    lines = ["| request | SQL statements | PostgreSQL round trips | the round trips |",
             "|---|---:|---:|---|"]
    for c in counts:
        lines.append(f"| {c.label} | {len(c.statements)} | {len(c.round_trips)} | "
                     f"{c.breakdown()} |")
    return "\n".join(lines)


def plans_table(plans: list[Plan]) -> str:
    lines = ["| statement | plan | execution |", "|---|---|---:|"]
    lines += [f"| {p.label} | {p.nodes} | {p.execution_ms:.2f} ms |" for p in plans]
    return "\n".join(lines)


def profile_section(profile: Profile | None) -> str:
    if profile is None:
        return "_No profile: pyinstrument is not installed (`pip install pyinstrument`)._"

    def table(title: str, rows: list[tuple[str, float]]) -> list[str]:
        return [f"| {title} | share of on-CPU time |", "|---|---:|",
                *(f"| {name} | {share:.1%} |" for name, share in rows), ""]

    rel = profile.text_path.relative_to(REPO_ROOT)
    return "\n".join([
        f"pyinstrument 0.5 ms sampling of {profile.runs} sequential in-process requests through "
        f"the ASGI app (httpx ASGITransport on the stdlib asyncio loop), `CACHE_ENABLED=false`: "
        f"{profile.ms_per_request:.2f} ms per request, {profile.idle_share:.0%} of it waiting "
        f"for PostgreSQL (the event loop in `epoll`); the shares below are of the rest, the "
        f"on-CPU time. Full tree: `{rel}` (and `.html`; not committed).",
        "",
        *table("area (innermost frame with Python source; C code counts for its caller)",
               profile.by_area),
        *table("entry point (inclusive)", profile.entry_points),
        *table("graphql_api function (inclusive)", profile.ours),
        *table("innermost function (self time)", profile.top_self),
    ]).rstrip()


def render_block(cfg: Config, catalog: Catalog, results: list[Measurement],
                 counts: list[RequestCount], plans: list[Plan], profile: Profile | None,
                 command: str) -> str:
    info = machine()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    pinning = (f"the servers pinned to CPU {cfg.server_cpu} and wrk to CPU {cfg.wrk_cpu} with "
               "`taskset`; PostgreSQL and Redis not pinned (they share both cores)"
               if cfg.server_cpu is not None else "no CPU pinning")
    wrk_cmd = shlex.join(next(m for m in results if m.variant.is_baseline).wrk.command)
    equal = all(m.byte_identical for m in results)
    index = (f"plus the bench-only `{PARTIAL_INDEX}` on `product (created_at, id) WHERE "
             "deleted_at IS NULL`" if cfg.partial_index else "exactly as migrated")
    servers = "\n".join(
        f"  - {m.variant.label}: `{shlex.join(m.variant.command).replace(str(REPO_ROOT) + '/', '')}"
        f" --port P`" for m in results)
    rounds = (f"best of {cfg.rounds} interleaved rounds per variant" if cfg.rounds > 1
              else "one round per variant")
    begin, end = markers(cfg)
    return f"""{begin}
### Results: {cfg.mode}

- **Run**: {now}, `{command}`
- **Machine**: {info['nproc']} cores (`nproc` = {info['nproc']}), {info['cpu']}, \
{info['memory']} RAM, Linux {info['kernel']}, Python {info['python']}; PostgreSQL \
{catalog.postgres_version} and Redis on the same machine; asyncpg connects to PostgreSQL \
{"over TLS (its default `ssl=prefer`; the server offers TLS)" if catalog.ssl else "without TLS"}, \
the baseline as well as ours. Other work may run on this shared machine: the table gives the \
CPU use measured just before each variant's server started.
- **Versions**: {versions()}.
- **Data**: `{BENCH_DB}`, {catalog.live_products:,} live products ({catalog.products:,} in \
all) in {catalog.categories} categories from `graphql-api seed --products {cfg.products}`, \
then `VACUUM ANALYZE`; schema {index}.
- **Servers**: uvicorn, 1 worker (uvloop, httptools), 127.0.0.1; ours with \
`APP_ENV=production`, `LOG_LEVEL=WARNING`, a random 48-character `JWT_SECRET`:
{servers}
- **Load**: `{wrk_cmd.replace(str(REPO_ROOT) + '/', '')}` after a {cfg.warmup}s warm-up of the \
same; {pinning}; {rounds}.
- **Responses**: checked before and after each measurement: every variant's body is \
{"byte-identical" if equal else "JSON-equal (not byte-identical)"} to the baseline's.

{results_table(results)}

#### SQL per request

Counted in-process on one request after warm-up requests (SQLAlchemy `before_cursor_execute`
for statements; every asyncpg protocol call that waits for the server for round trips):

{counts_table(counts)}

{plans_table(plans)}

#### Profile of the cache-disabled path

{profile_section(profile)}
{end}"""


def markers(cfg: Config) -> tuple[str, str]:
    key = "products_query" + (":partial-index" if cfg.partial_index else "")
    return (f"<!-- bench:{key}:begin (generated by bench/products_query.py; edits are lost) -->",
            f"<!-- bench:{key}:end -->")


INTRO = f"""{SECTION_TITLE}

`bench/products_query.py` serves the query below from our server and from a hand-written
Starlette + asyncpg app (`bench/baseline_app.py`: one SQL query joining product and category,
the same JSON bytes) and measures both with wrk. The fair comparison is our server with
`CACHE_ENABLED=false`: the baseline has no cache, each of its requests runs its SQL. The
in-memory and Redis figures show what the catalog cache buys for a repeated query.

Query: `{QUERY}`
"""

ANALYSIS_PLACEHOLDER = f"""{ANALYSIS_HEADING}

_To be written after a run: what dominates the profile, and what to optimise._
"""


def write_benchmarks_md(cfg: Config, block: str) -> None:
    begin, end = markers(cfg)
    if BENCHMARKS_MD.exists():
        text = BENCHMARKS_MD.read_text()
    else:
        text = "# Benchmarks\n\nScripts live in `bench/`; each rewrites its own part of this file.\n"
    start = text.find(begin.split(" (", 1)[0])
    stop_at = text.find(end)
    if start != -1 and stop_at != -1:
        text = text[:start] + block + text[stop_at + len(end):]
    elif (title := text.find(SECTION_TITLE)) != -1:
        analysis = text.find(ANALYSIS_HEADING, title)
        at = analysis if analysis != -1 else len(text)
        text = f"{text[:at].rstrip()}\n\n{block}\n\n{text[at:].lstrip()}"
    else:
        text = f"{text.rstrip()}\n\n{INTRO}\n{block}\n\n{ANALYSIS_PLACEHOLDER}"
    BENCHMARKS_MD.write_text(text.rstrip() + "\n")
    log(f"updated {BENCHMARKS_MD.relative_to(REPO_ROOT)}")


def main() -> int:
    cfg = parse_args()
    if shutil.which("wrk") is None:
        print("error: wrk is not installed", file=sys.stderr)
        return 2
    command = shlex.join(["python", "bench/products_query.py", *sys.argv[1:]])
    # Servers and CLI runs start in an empty folder: no stray .env or .data from the work tree.
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        catalog = prepare_database(cfg, workdir)
        counts = asyncio.run(count_requests(cfg))
        plans = asyncio.run(explain(cfg, counts))
        print(f"\n{counts_table(counts)}\n\n{plans_table(plans)}\n", flush=True)
        profile = asyncio.run(profile_db_path(cfg)) if cfg.profile_runs > 0 else None
        print(profile_section(profile) + "\n", flush=True)
        results = measure(cfg, workdir)
    print(f"\n### {cfg.mode}\n\n{results_table(results)}\n", flush=True)
    if cfg.write_md:
        write_benchmarks_md(cfg, render_block(cfg, catalog, results, counts, plans, profile,
                                              command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
