"""The job port: the same job functions run in-process or on arq workers.

A job function is `async def job(ctx: dict, *args) -> Any`, the arq signature; `ctx["resources"]`
holds the worker's Resources in both runners.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from arq import Retry, create_pool
from arq.connections import ArqRedis, RedisSettings

log = logging.getLogger(__name__)

JobFunction = Callable[..., Awaitable[Any]]
BREAKER_SECONDS = 5.0
MAX_TRIES = 5  # a job's attempts when it asks for retries with `Retry` (arq's default too)
TIMEOUT_SECONDS = 2.0  # queueing a job never holds up the request that asked for it


class JobQueue(Protocol):
    kind: str

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None,
                      defer: float = 0) -> bool:
        """Queue a job (to start `defer` seconds from now); False when a job with the same id
        is already queued or running."""

    async def close(self) -> None: ...


class InProcessJobs:
    """Runs jobs as asyncio tasks of this process; one queued or running job per job id.

    A job that raises arq's `Retry(defer=...)` runs again after the delay, up to MAX_TRIES
    attempts, keeping its id meanwhile, as on arq; `ctx` carries `job_id` and `job_try` as there.
    """

    kind = "memory"

    def __init__(self, functions: Sequence[JobFunction], ctx: dict[str, Any]) -> None:
        self._functions = {fn.__name__: fn for fn in functions}
        self._ctx = ctx
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running_ids: set[str] = set()

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None,
                      defer: float = 0) -> bool:
        fn = self._functions.get(name)
        if fn is None:
            raise LookupError(f"unknown job {name!r}")
        if job_id is not None:
            if job_id in self._running_ids:
                return False
            self._running_ids.add(job_id)
        task = asyncio.create_task(self._run(fn, args, job_id, defer), name=f"job:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _run(self, fn: JobFunction, args: tuple[Any, ...], job_id: str | None,
                   defer: float = 0) -> Any:
        try:
            if defer > 0:
                await asyncio.sleep(defer)
            for job_try in range(1, MAX_TRIES + 1):
                ctx = {**self._ctx, "job_id": job_id, "job_try": job_try}
                try:
                    return await fn(ctx, *args)
                except Retry as retry:
                    if job_try == MAX_TRIES:
                        log.error("job %s failed after %d tries", fn.__name__, job_try)
                        return None
                    await asyncio.sleep((retry.defer_score or 0) / 1000)
                except Exception:
                    log.exception("job %s failed", fn.__name__)
                    return None
            return None
        finally:
            if job_id is not None:
                self._running_ids.discard(job_id)

    async def drain(self) -> None:
        """Wait for every queued job (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.drain()


class ArqJobs:
    """Connects on first use, so the API starts (and serves) while Redis is down."""

    kind = "arq"

    def __init__(self, redis_url: str) -> None:
        self._settings = RedisSettings.from_dsn(redis_url)
        self._settings.conn_timeout = 2
        self._settings.conn_retries = 0
        self._pool: ArqRedis | None = None
        self._connecting = asyncio.Lock()
        self._open_until = 0.0  # circuit breaker: after a failure, refuse at once for a while

    async def pool(self) -> ArqRedis:
        async with self._connecting:
            if self._pool is None:
                self._pool = await asyncio.wait_for(create_pool(self._settings), TIMEOUT_SECONDS)
            return self._pool

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None,
                      defer: float = 0) -> bool:
        """Queue a job; raises if Redis fails. A write queues several jobs after its commit:
        once Redis has failed, the rest fail at once for BREAKER_SECONDS instead of each
        waiting out its timeout (what they would have done is caught up later: the search
        outbox is replayed, cache warming is best effort)."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._open_until:
            raise ConnectionError("Redis failed moments ago: not queueing jobs for now")
        try:
            pool = await self.pool()
            job = await asyncio.wait_for(pool.enqueue_job(
                name, *args, _job_id=job_id, _defer_by=defer or None), TIMEOUT_SECONDS)
        except Exception:
            self._open_until = loop.time() + BREAKER_SECONDS
            raise
        return job is not None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
