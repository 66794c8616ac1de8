"""`graphql-api sync` as a user runs it: from a dump file offline, and killed mid-run (a real
crash: the next run takes the dead run over and completes the catalog)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select

from graphql_api.catalog.models import Product
from graphql_api.core.resources import Resources
from graphql_api.core.settings import Settings
from graphql_api.sync import runs
from graphql_api.sync.models import RunStatus
from tests.servers import ROOT
from tests.sync.upstream import Upstream, product

Start = Callable[[int], Awaitable[Upstream]]


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The test session's database (the SQLite file or DATABASE_URL), as the CLI process sees it."""
    env = dict(os.environ, DATA_DIR=str(settings.data_dir), LOG_LEVEL="WARNING",
               JWT_SECRET=settings.jwt_secret or "", **extra)
    env.pop("SYNC_SOURCE_URL", None)
    return {**env, **extra}


async def cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "graphql_api", "sync", *args, env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def skus(resources: Resources, prefix: str) -> set[str]:
    async with resources.db.read() as conn:
        return set((await conn.execute(select(Product.sku).where(
            Product.sku.like(f"{prefix}-%"), Product.deleted_at.is_(None)))).scalars())  # type: ignore[attr-defined,union-attr]


async def test_from_file_imports_a_dump_offline(resources: Resources, tmp_path: Path) -> None:
    items = [product(i, "DUMP") for i in range(1, 46)]
    items[3]["stock"] = -1
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({"products": items, "total": 45, "skip": 0, "limit": 45}))
    env = cli_env(resources.settings, SYNC_PAGE_SIZE="20")
    code, out, err = await cli(env, "--from-file", str(dump))
    assert code == 0, err
    assert "SUCCEEDED: fetched 45, created 44, updated 0, unchanged 0, skipped 1" in out
    assert "4: stock: out of range (-1)" in out
    assert len(await skus(resources, "DUMP")) == 44
    # Again, with one gone and pruned.
    dump.write_text(json.dumps(items[:-1]))  # a bare list is a dump too
    code, out, err = await cli(env, "--from-file", str(dump), "--prune")
    assert code == 0, err
    assert "created 0, updated 0, unchanged 43, skipped 1, missing upstream 1, pruned 1" in out
    assert len(await skus(resources, "DUMP")) == 43


async def test_sync_without_a_source_explains(resources: Resources) -> None:
    code, _, err = await cli(cli_env(resources.settings))
    assert code == 2 and "SYNC_SOURCE_URL" in err


async def test_a_killed_sync_is_resumed_by_the_next(resources: Resources, upstream: Start) -> None:
    server = await upstream(200)
    server.delay_seconds = 0.3  # pages of 20, two at a time: about 3 s for the whole run
    env = cli_env(resources.settings, SYNC_SOURCE_URL=server.url, SYNC_PAGE_SIZE="20",
                  SYNC_CONCURRENCY="2")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "graphql_api", "sync", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    for _ in range(600):
        running = await runs.running_run(resources.db)
        if running is not None and running.pages_done >= 3:
            break
        await asyncio.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    dead = await runs.running_run(resources.db)
    assert dead is not None and dead.owner is not None
    landed = await skus(resources, server.prefix)
    assert 60 <= len(landed) < 200  # whole pages only: a consistent catalog
    assert len(landed) % 20 == 0

    # Staleness is judged by the process that wants to run: within its SYNC_STALE_SECONDS the
    # dead run still counts as running; past them, it is failed and a new run takes over.
    server.delay_seconds = 0
    code, _, err = await cli({**env, "SYNC_STALE_SECONDS": "600"})
    assert code == 1 and "already running" in err
    await asyncio.sleep(1.1)
    code, out, err = await cli({**env, "SYNC_STALE_SECONDS": "1"})
    assert code == 0, err
    assert f"created {200 - len(landed)}, updated 0, unchanged {len(landed)}" in out
    assert len(await skus(resources, server.prefix)) == 200
    old = await runs.get_run(resources.db, dead.id)  # type: ignore[arg-type]
    assert old is not None and old.status == RunStatus.FAILED
