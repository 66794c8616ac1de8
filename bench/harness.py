"""What bench/checkout.py and bench/subscriptions.py share: the database, server processes,
the machine description, percentiles and the BENCHMARKS.md section writer.

Both benchmarks use the PostgreSQL database `graphql_api_bench_checkout` and Redis db 3; other
databases and Redis dbs belong to other people's test runs and are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import os
import platform
import resource
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg
import httpx

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
BENCHMARKS_MD = REPO_ROOT / "BENCHMARKS.md"
MIGRATIONS_DIR = REPO_ROOT / "migrations"

BENCH_DB = "graphql_api_bench_checkout"
ADMIN_DSN = "postgresql://graphql:graphql@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/3"
# Never these: other engineers' test runs use them.
FORBIDDEN_DBS = frozenset({"graphql_api_test", "graphql_api_test_a", "graphql_api_test_b",
                           "graphql_api_test_me"})
FORBIDDEN_REDIS_DBS = frozenset({0, 1, 2, 4})
# Access tokens outlive a whole run (the default 15 minutes could end a subscription mid-run).
TOKEN_TTL_SECONDS = 3600


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def check_targets(dsn: str, redis_url: str) -> None:
    """Refuse databases and Redis dbs that belong to other test runs."""
    name = dsn.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    if name in FORBIDDEN_DBS:
        raise SystemExit(f"refusing to use database {name}: other test runs use it")
    db = redis_url.rstrip("/").rsplit("/", 1)[-1]
    if not db.isdigit() or int(db) in FORBIDDEN_REDIS_DBS:
        raise SystemExit(f"refusing Redis {redis_url}: name a db other than 0, 1, 2 and 4")


# --- which code is measured ---------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    path: Path | None  # a snapshot to import graphql_api from; None: the work tree
    description: str


def use_source(rev: str, workdir: Path) -> Source:
    """Measure `rev` (a commit, `git archive`d into `workdir`) or, for "worktree", the work tree.

    A snapshot makes a run reproducible and immune to half-made edits in a shared checkout. It
    must happen before anything imports graphql_api: this process then imports the snapshot
    (first on sys.path; the editable install's finder comes after the path), and so do the
    servers, through PYTHONPATH (see `source_env`).
    """
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, check=True, capture_output=True,
                              text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD")
    if rev == "worktree":
        dirty = git("status", "--porcelain", "--", "graphql_api", "workers", "migrations")
        state = "with uncommitted changes" if dirty else "clean"
        return Source(None, f"the work tree (HEAD `{head}`, graphql_api/workers/migrations {state})")
    global _source
    if "graphql_api" in sys.modules:
        raise RuntimeError("graphql_api was imported before the snapshot was taken")
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    target = workdir / "src"
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", sha, "graphql_api", "workers",
                              "migrations"], cwd=REPO_ROOT, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    sys.path.insert(0, str(target))
    subject = git("log", "-1", "--format=%s", sha)
    global _source
    _source = Source(target, f"commit `{sha[:7]}` ({subject}), extracted with `git archive`")
    return _source


_source = Source(None, "the work tree")  # what this run measures, set by use_source


def measured() -> str:
    """The code this run measures, for the report."""
    return _source.description


def source_env(env: dict[str, str], source: Source | None = None) -> dict[str, str]:
    """`env` with PYTHONPATH leading to the measured code."""
    source = source or _source
    if source.path is None:
        return env
    return {**env, "PYTHONPATH": os.pathsep.join(
        p for p in (str(source.path), env.get("PYTHONPATH", "")) if p)}


# --- the database --------------------------------------------------------------------------------


def migrations_fingerprint(source: Source) -> str:
    """A hash of the migration scripts: the bench database is rebuilt when they change (an
    edited revision would not be re-applied to a database already past it)."""
    folder = MIGRATIONS_DIR if source.path is None else source.path / "migrations"
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class BenchDatabase:
    dsn: str  # libpq DSN, for asyncpg
    how: str  # how it was made, for the report

    @property
    def sqlalchemy_url(self) -> str:
        return self.dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


async def _ensure_database(admin_dsn: str, fingerprint: str) -> BenchDatabase:
    admin = await asyncpg.connect(admin_dsn)
    try:
        try:
            comment = await admin.fetchrow(
                "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database "
                "WHERE datname = $1", BENCH_DB)
            if comment is not None and comment["comment"] != f"migrations {fingerprint}":
                log(f"the migrations changed since {BENCH_DB} was built: rebuilding it")
                await admin.execute(f'DROP DATABASE "{BENCH_DB}" WITH (FORCE)')
                comment = None
            if comment is None:
                log(f"creating database {BENCH_DB}")
                await admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
            dsn = admin_dsn.rsplit("/", 1)[0] + "/" + BENCH_DB
            return BenchDatabase(dsn, f"`{BENCH_DB}`, made with `CREATE DATABASE`")
        except asyncpg.InsufficientPrivilegeError:
            # No CREATEDB: use the admin database itself, its public schema rebuilt.
            log("no CREATEDB privilege: using the admin database, public schema recreated")
            await admin.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            return BenchDatabase(admin_dsn, "the admin database, its public schema recreated")
    finally:
        await admin.close()


def prepare_database(admin_dsn: str, server_env: dict[str, str], workdir: Path) -> BenchDatabase:
    """Create (or rebuild) the bench database and migrate it with our CLI."""
    fingerprint = migrations_fingerprint(_source)
    db = asyncio.run(_ensure_database(admin_dsn, fingerprint))
    env = source_env({**server_env, "DATABASE_URL": db.sqlalchemy_url})
    log("$ graphql-api migrate")
    subprocess.run([sys.executable, "-m", "graphql_api", "migrate"], env=env, cwd=workdir,
                   check=True, stdout=subprocess.DEVNULL)

    async def mark() -> None:
        conn = await asyncpg.connect(db.dsn)
        try:
            if db.dsn.endswith("/" + BENCH_DB):
                await conn.execute(
                    f"COMMENT ON DATABASE \"{BENCH_DB}\" IS 'migrations {fingerprint}'")
        finally:
            await conn.close()

    asyncio.run(mark())
    return db


def clean_environ() -> dict[str, str]:
    """os.environ without any variable graphql_api's Settings would read (REDIS_URL, ...)."""
    from graphql_api.core.settings import Settings

    names = {name.upper() for name in Settings.model_fields}
    return {k: v for k, v in os.environ.items() if k.upper() not in names}


def server_env(database_url: str, redis_url: str, jwt_secret: str, **extra: str) -> dict[str, str]:
    """Our server's environment (production settings), importing the measured code."""
    env = clean_environ()
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, APP_ENV="production",
               JWT_SECRET=jwt_secret, LOG_LEVEL="WARNING",
               ACCESS_TOKEN_TTL_SECONDS=str(TOKEN_TTL_SECONDS), **extra)
    return source_env(env)


def baseline_env(**extra: str) -> dict[str, str]:
    """A baseline server's environment: no graphql_api settings; the measured code's helpers."""
    return source_env({**clean_environ(), **extra})


def signer(jwt_secret: str) -> Any:
    """The server's TokenSigner, so tokens can be issued without signing in."""
    from graphql_api.accounts.security import TokenSigner
    from graphql_api.core.settings import Settings

    settings = Settings(_env_file=None, app_env="production", jwt_secret=jwt_secret,
                        access_token_ttl_seconds=TOKEN_TTL_SECONDS)
    return TokenSigner(settings)


def flush_redis(redis_url: str) -> None:
    """Empty the bench Redis db (left-over cache entries, queued warm-up jobs)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


# --- server processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cmd: list[str], cpu: str | None) -> list[str]:
    return ["taskset", "-c", cpu, *cmd] if cpu is not None else cmd


def raise_open_files() -> int:
    """Soft open-files limit up to the hard one: 2,000 sockets exceed the usual 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 65536 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


@dataclass
class Server:
    label: str
    base: str  # http://127.0.0.1:PORT
    proc: subprocess.Popen[bytes]
    command: list[str]  # as started (without taskset and port)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/graphql"


@contextlib.contextmanager
def running_server(label: str, key: str, command: list[str], env: dict[str, str], cpu: str | None,
                   workdir: Path) -> Iterator[Server]:
    """A server started with `--port P`, healthy before it is yielded, stopped after."""
    RESULTS_DIR.mkdir(exist_ok=True)
    log_path = RESULTS_DIR / f"server_{key}.log"
    port = free_port()
    # taskset execs the command, so the pid is the server's own (its RSS is what we read).
    cmd = pinned([*command, "--port", str(port)], cpu)
    log(f"starting {label}: {shlex.join(cmd)}")
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(cmd, env=env, cwd=workdir, stdout=log_file,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=raise_open_files)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_healthy(proc, base, log_path)
            yield Server(label, base, proc, command)
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
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def rss_kib(pid: int) -> int:
    """VmRSS of a process, in KiB (from /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, quiet: float = 0.05, window: float = 1.0, limit: float = 60.0
                    ) -> float:
    """Wait until the process used less than `quiet` of a CPU over `window`; seconds waited."""
    started = time.monotonic()
    last = cpu_seconds(pid)
    while time.monotonic() - started < limit:
        time.sleep(window)
        now = cpu_seconds(pid)
        if now - last < quiet * window:
            break
        last = now
    return time.monotonic() - started


def cpu_busy(seconds: float = 1.0) -> float:
    """The whole machine's CPU use over `seconds`, in percent (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(values[:8]), values[3] + values[4]  # total, idle + iowait

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 100.0 * (1 - (idle1 - idle0) / max(1, total1 - total0))


class MachineSampler:
    """Whole-machine CPU use since it was made, from /proc/stat: busy and steal shares."""

    def __init__(self) -> None:
        self._start = self._sample()

    @staticmethod
    def _sample() -> tuple[int, int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(values[:8]), values[3] + values[4], values[7]  # total, idle+iowait, steal

    def shares(self) -> tuple[float, float]:
        """(busy %, steal %): steal is time the hypervisor ran other guests on our cores."""
        total, idle, steal = self._sample()
        span = max(1, total - self._start[0])
        return 100.0 * (1 - (idle - self._start[1]) / span), 100.0 * (steal - self._start[2]) / span


def wait_for_quiet(below: float, limit: float) -> float:
    """This is a shared machine: wait (at most `limit` s) until other work mostly leaves it."""
    deadline = time.monotonic() + limit
    busy = cpu_busy()
    while busy > below and time.monotonic() < deadline:
        log(f"machine is {busy:.0f}% busy; waiting for it to calm down")
        time.sleep(3)
        busy = cpu_busy()
    return busy


def pin_self(cpu: str | None) -> None:
    """The load generator runs on the other core than the servers."""
    if cpu is not None:
        os.sched_setaffinity(0, {int(c) for c in cpu.split(",")})


def cpus_for(no_pin: bool) -> tuple[str | None, str | None]:
    """(server CPU, client CPU): 1 and 0 on a machine with 2 cores or more."""
    if no_pin or (os.cpu_count() or 1) < 2:
        return None, None
    return "1", "0"


# --- figures -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values; nan for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f} ms"


# --- the report ----------------------------------------------------------------------------------


def machine(dsn: str, redis_url: str) -> str:
    """One line: cores, CPU model, memory, kernel, Python, PostgreSQL and Redis versions."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 1024 / 1024:.0f} GiB"

    async def server_versions() -> tuple[str, str, str]:
        conn = await asyncpg.connect(dsn)
        try:
            version = await conn.fetchval("SHOW server_version")
            commit = await conn.fetchval("SHOW synchronous_commit")
            ssl = conn._transport.get_extra_info("sslcontext") is not None
        finally:
            await conn.close()
        return version, commit, "over TLS (asyncpg's default `ssl=prefer`)" if ssl else "no TLS"

    pg, sync_commit, tls = asyncio.run(server_versions())
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        info: dict[str, Any] = client.info("server")  # type: ignore[assignment]
        redis_version = info["redis_version"]
    finally:
        client.close()
    return (f"{os.cpu_count()} cores, {model}, {memory} RAM, Linux {platform.release()}, "
            f"Python {platform.python_version()}; PostgreSQL {pg} (`synchronous_commit={sync_commit}`, "
            f"asyncpg {tls}) and Redis {redis_version} on the same machine")


def versions(names: Sequence[str]) -> str:
    found = []
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return ", ".join(found)


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def display(cmd: Sequence[str]) -> str:
    """A command as the report shows it: `python`, repo-relative paths."""
    text = shlex.join(["python" if part == sys.executable else part for part in cmd])
    return text.replace(str(REPO_ROOT) + "/", "")


def write_section(title: str, intro: str, begin: str, end: str, block: str) -> None:
    """Replace the text between `begin` and `end` in BENCHMARKS.md (or append the section with
    its title and intro); the rest of the file is left alone."""
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    generated = f"{begin}\n{block.strip()}\n{end}"
    start, stop_at = text.find(begin), text.find(end)
    if start != -1 and stop_at != -1:
        text = text[:start] + generated + text[stop_at + len(end):]
    else:
        text = f"{text.rstrip()}\n\n{title}\n\n{intro.strip()}\n\n{generated}\n"
    BENCHMARKS_MD.write_text(text.rstrip() + "\n")
    log(f"updated {BENCHMARKS_MD.relative_to(REPO_ROOT)}")


# --- cProfile summaries --------------------------------------------------------------------------


@dataclass
class Profile:
    units: int  # what was profiled: events or requests
    total: float  # profiled seconds (sum of self times)
    top_self: list[tuple[str, float, int]]  # (function, self seconds, calls)
    ours: list[tuple[str, float, int]]  # graphql_api functions: (function, self s, calls)
    areas: list[tuple[str, float]]  # (library, share of self time)
    notes: list[str] = field(default_factory=list)


_AREAS = [("/strawberry/", "Strawberry"), ("/graphql/", "graphql-core"),
          ("/sqlalchemy/", "SQLAlchemy"), ("/asyncpg/", "asyncpg"), ("/websockets/", "websockets"),
          ("/uvicorn/", "uvicorn"), ("/starlette/", "Starlette"), ("/redis/", "redis-py"),
          ("/arq/", "arq"), ("/aiocache/", "aiocache"), ("/graphql_api/", "graphql_api"),
          ("/jwt/", "pyjwt"), ("/httpx/", "httpx (in-process client)"),
          ("/httpcore/", "httpx (in-process client)"), ("/asyncio/", "asyncio"),
          ("/json/", "json"), ("/ssl.py", "TLS (ssl)")]


def _area(path: str) -> str:
    for marker, name in _AREAS:
        if marker in path:
            return name
    return "C functions (builtins, extension methods)" if path == "~" else "other Python"


def read_profile(stats: Any, units: int) -> Profile:
    """Summarise a pstats.Stats: self time by library, the top functions, ours by cumulative."""
    raw: dict[Any, Any] = stats.stats
    total = sum(v[2] for v in raw.values())
    areas: dict[str, float] = {}
    rows = []
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in raw.items():
        areas[_area(filename)] = areas.get(_area(filename), 0.0) + tottime
        short = filename.split("site-packages/")[-1].replace(str(REPO_ROOT) + "/", "")
        if _source.path is not None:
            short = short.replace(str(_source.path) + "/", "")
        rows.append((f"{name} ({short}:{line})", tottime, calls, cumtime, filename))
    top_self = [(n, t, c) for n, t, c, _, _ in sorted(rows, key=lambda r: -r[1])[:15]]
    # By self time: cProfile's cumulative times of interleaved coroutines overlap and mean nothing.
    ours = [(n, t, c) for n, t, c, _, f in sorted(rows, key=lambda r: -r[1])
            if "/graphql_api/" in f][:12]
    shares = sorted(((k, v / total) for k, v in areas.items() if total), key=lambda kv: -kv[1])
    return Profile(units, total, top_self, ours, shares)


def profile_tables(profile: Profile, unit: str) -> str:
    lines = [*(f"- {note}" for note in profile.notes), *([""] if profile.notes else []),
             "| area (self time) | share |", "|---|---:|"]
    lines += [f"| {name} | {share:.1%} |" for name, share in profile.areas]
    lines += ["", f"| function (self time; a coroutine's calls count its resumptions) | seconds "
              f"| calls per {unit} |", "|---|---:|---:|"]
    lines += [f"| `{n}` | {t:.2f} | {c / profile.units:,.1f} |" for n, t, c in profile.top_self]
    lines += ["", f"| graphql_api function (self time) | seconds | calls per {unit} |",
              "|---|---:|---:|"]
    lines += [f"| `{n}` | {t:.2f} | {c / profile.units:,.1f} |" for n, t, c in profile.ours]
    return "\n".join(lines)
