"""The cron schedule: in-process for the embedded server, arq cron on workers, where several
workers run each tick once."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from graphql_api.core.jobs import InProcessJobs
from graphql_api.core.resources import Resources
from graphql_api.core.schedule import InProcessScheduler, Schedule, schedules
from graphql_api.core.settings import Settings
from tests.servers import ROOT, serving
from tests.test_cli import embedded_env
from workers.settings import cron_fields, schedule_for


async def sync_catalog(ctx: dict[str, Any], prune: bool = False) -> None:
    """Stands for the sync domain's job (a separate branch)."""


async def warm_cache(ctx: dict[str, Any]) -> None: ...


def test_the_schedule_follows_the_settings(tmp_path: Path) -> None:
    names = {"sync_catalog", "warm_cache"}
    plain = Settings(data_dir=tmp_path)
    assert schedules(plain, names) == [Schedule("warm_cache", 300)]  # sync off without a source
    synced = Settings(data_dir=tmp_path, sync_source_url="http://upstream.test",
                      sync_interval_minutes=15, cache_warm_interval_minutes=0)
    assert schedules(synced, names) == [Schedule("sync_catalog", 900)]
    assert schedules(synced, {"warm_cache"}) == []  # no sync job in this build: nothing to run
    assert Settings(data_dir=tmp_path).sync_interval_minutes == 30


def test_arq_cron_jobs_come_from_the_same_schedule(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, sync_source_url="http://upstream.test")
    jobs = {j.name: j for j in schedule_for(settings, [sync_catalog, warm_cache])}
    assert set(jobs) == {"cron:sync_catalog", "cron:warm_cache"}
    assert jobs["cron:sync_catalog"].minute == {0, 30} and jobs["cron:sync_catalog"].unique
    assert jobs["cron:warm_cache"].minute == set(range(0, 60, 5))
    assert jobs["cron:sync_catalog"].coroutine is sync_catalog
    assert cron_fields(3) == {"second": set(range(0, 60, 3))}
    assert cron_fields(6 * 3600) == {"hour": {0, 6, 12, 18}, "minute": 0, "second": 0}


async def test_in_process_cron_queues_each_tick_once() -> None:
    runs: list[float] = []

    async def tick(ctx: dict[str, Any]) -> None:
        runs.append(time.time())

    jobs = InProcessJobs([tick], {})
    cron = InProcessScheduler(jobs, [Schedule("tick", 0.5)])
    cron.start()
    await asyncio.sleep(2.6)
    await cron.close()
    await jobs.drain()
    assert 3 <= len(runs) <= 6  # five ticks (fewer only if the machine stalls the loop)
    ticks = [int(t // 0.5) for t in runs]
    assert len(set(ticks)) == len(ticks)  # never twice in one tick
    offsets = sorted(t % 0.5 for t in runs)
    assert offsets[len(offsets) // 2] < 0.1  # on the wall-clock tick, not drifting


async def test_in_process_cron_skips_a_tick_while_the_last_run_runs() -> None:
    runs = 0

    async def slow(ctx: dict[str, Any]) -> None:
        nonlocal runs
        runs += 1
        await asyncio.sleep(1.2)

    jobs = InProcessJobs([slow], {})
    cron = InProcessScheduler(jobs, [Schedule("slow", 0.5)])
    cron.start()
    await asyncio.sleep(2.8)
    await cron.close()
    await jobs.drain()
    assert 1 <= runs <= 3  # not the 5 ticks' worth stacked up


def _wait_for(path: Path, pattern: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace")
        if re.search(pattern, text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not in {path.name}:\n{path.read_text()[-3000:]}")


def test_embedded_serve_runs_the_cron_itself(tmp_path: Path, prepared: Settings) -> None:
    """One `graphql-api serve`, nothing configured: the warm-up runs on its schedule (the
    server's environment has no service URLs, in either run of the suite)."""
    env = embedded_env(tmp_path) | {"LOG_LEVEL": "INFO", "CACHE_WARM_INTERVAL_MINUTES": "0.02"}
    log = tmp_path / "server.log"
    with serving(env, log):
        text = _wait_for(log, r"cache warm-up filled \d+ categories entries", 30)
        assert "in-process cron: warm_cache every 1.2s" in text


def test_api_processes_on_redis_only_queue_and_never_run_cron(tmp_path: Path,
                                                              prepared: Settings) -> None:
    if not prepared.redis_url:
        pytest.skip("needs REDIS_URL")
    env = dict(os.environ, LOG_LEVEL="INFO", CACHE_WARM_INTERVAL_MINUTES="0.02",
               SEED_DEMO="false", JWT_SECRET="cron-test-secret-" + "c" * 32)
    log = tmp_path / "server.log"
    with serving(env, log):
        time.sleep(4)  # three ticks' worth
    text = log.read_text()
    assert "in-process cron" not in text and "cache warm-up filled" not in text


def _worker(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", *args], env=env, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)


def _stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_two_arq_workers_run_each_cron_tick_once(tmp_path: Path, prepared: Settings,
                                                       resources: Resources) -> None:
    if not prepared.redis_url:
        pytest.skip("needs REDIS_URL")
    queue = f"test:ticks:{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, LOG_LEVEL="INFO", TICK_QUEUE=queue,
               JWT_SECRET="cron-test-secret-" + "c" * 32)
    workers = [_worker(["arq", "tests.workers.tick_worker.Tick"], env, tmp_path / f"{n}.log")
               for n in ("a", "b")]
    redis = resources.cache.backend.client
    try:
        # Six ticks, however long the two start-ups take on a busy machine.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and await redis.llen(f"{queue}:runs") < 6:
            await asyncio.sleep(0.2)
    finally:
        await asyncio.to_thread(_stop, *workers)
    runs = [r.decode() for r in await redis.lrange(f"{queue}:runs", 0, -1)]
    job_ids = [r.split()[0] for r in runs]
    assert len(job_ids) >= 6, runs
    assert len(set(job_ids)) == len(job_ids), runs  # each tick ran once, on one worker
    ticks = sorted(int(j.rsplit(":", 1)[1]) for j in job_ids)
    assert all(b - a == 1000 for a, b in itertools.pairwise(ticks)), ticks  # none lost
    await redis.delete(f"{queue}:runs")


async def test_graphql_api_workers_run_the_warm_up_cron_once_per_tick(
        tmp_path: Path, prepared: Settings, resources: Resources) -> None:
    """`graphql-api worker` twice, as compose would scale it: each warm-up tick runs once."""
    if not prepared.redis_url:
        pytest.skip("needs REDIS_URL")
    env = dict(os.environ, LOG_LEVEL="INFO", CACHE_WARM_INTERVAL_MINUTES="0.05",
               JWT_SECRET="cron-test-secret-" + "c" * 32)
    redis = resources.cache.backend.client
    pattern = "arq:result:cron:warm_cache:*"
    before = {k async for k in redis.scan_iter(match=pattern)}
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [_worker(["graphql_api", "worker"], env, log) for log in logs]
    try:
        deadline = time.monotonic() + 90  # start-up and ticks every 3 s, on a busy machine
        while time.monotonic() < deadline:
            if len({k async for k in redis.scan_iter(match=pattern)} - before) >= 3:
                break
            await asyncio.sleep(0.5)
    finally:
        await asyncio.to_thread(_stop, *workers)
        # Ticks queued ahead (arq queues the next one early) are left on the shared queue: the
        # session's own workers know no cron functions.
        for job_id in await redis.zrange("arq:queue", 0, -1):
            if job_id.startswith(b"cron:"):
                await redis.zrem("arq:queue", job_id)
                await redis.delete(b"arq:job:" + job_id)
    results = {k async for k in redis.scan_iter(match=pattern)} - before
    # A tick run twice would log two completions under one result key (its id is the tick's).
    completed = sum(log.read_text().count("← cron:warm_cache") for log in logs)
    assert len(results) >= 3, [log.read_text()[-2000:] for log in logs]
    assert completed == len(results), [log.read_text()[-2000:] for log in logs]
    assert sum(log.read_text().count("cache warm-up filled") for log in logs) >= completed
