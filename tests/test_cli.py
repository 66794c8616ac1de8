"""The command line, as a user runs it: migrate, seed (idempotent), create-admin, serve."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from tests.servers import cli, serving


def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "ELASTICSEARCH_URL")}
    env.update(DATA_DIR=str(tmp_path), LOG_LEVEL="WARNING")
    return env


def test_migrate_seed_and_create_admin(tmp_path: Path) -> None:
    env = embedded_env(tmp_path)
    assert cli("migrate", env=env).returncode == 0
    first = cli("seed", "--products", "120", env=env)
    assert first.returncode == 0, first.stderr
    assert "products created: 120" in first.stdout
    again = cli("seed", "--products", "120", env=env)
    assert "categories created: 0, products created: 0" in again.stdout
    weak = cli("create-admin", "--email", "boss@example.com", "--password", "short", env=env)
    assert weak.returncode == 1 and "Password must have" in weak.stderr
    ok = cli("create-admin", "--email", "boss@example.com", "--password",
                 "a-Long-enough-9", "--role", "super_admin", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "boss@example.com is now SUPER_ADMIN" in ok.stdout


def test_first_serve_on_a_bare_folder_has_the_demo_catalog(tmp_path: Path) -> None:
    """README's first command: nothing configured, an empty data folder, a working shop."""
    env = embedded_env(tmp_path)
    with serving(env, tmp_path / "server.log") as host:
        body = httpx.post(f"http://{host}/graphql", json={
            "query": "{ products(first: 1) { totalCount } categories { slug } }"}).json()
        assert body["data"]["products"]["totalCount"] >= 1000
        assert len(body["data"]["categories"]) >= 20
        assert (tmp_path / "jwt_secret").exists()


async def test_worker_command_runs_queued_jobs(resources: Any, prepared: Any, tmp_path: Path
                                               ) -> None:
    """`graphql-api worker` runs the queue on Redis; embedded, it explains that jobs run in-process."""
    import asyncio

    from graphql_api.catalog.reads import GENERATION_KEY
    from graphql_api.core.jobs import ArqJobs

    env = dict(os.environ, LOG_LEVEL="WARNING")
    if not prepared.redis_url:
        refused = cli("worker", "--burst", env=embedded_env(tmp_path))
        assert refused.returncode == 2 and "REDIS_URL" in refused.stderr
        return
    assert isinstance(resources.jobs, ArqJobs)
    await resources.cache.clear()
    before = await resources.cache.increment(GENERATION_KEY)
    assert await resources.jobs.enqueue("warm_catalog_cache", job_id=f"cli-{tmp_path.name}")
    done = await asyncio.to_thread(cli, "worker", "--burst", env=env)
    assert done.returncode == 0, done.stderr
    # Queued search indexing may run first and bump the generation (search/indexing.py).
    after = await resources.cache.get(GENERATION_KEY)
    assert await resources.cache.get(f"catalog:{before}:categories") or await resources.cache.get(
        f"catalog:{after}:categories")
