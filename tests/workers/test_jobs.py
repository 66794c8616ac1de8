"""Job ids (never the same job queued twice) and retries with backoff, in-process and on arq."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from typing import Any

import pytest
from arq import func
from arq.worker import Worker

from graphql_api.core.jobs import MAX_TRIES, ArqJobs, InProcessJobs
from graphql_api.core.resources import Resources
from workers.retry import backoff, retried


class Flaky:
    """Fails with a connection error `failures` times, then succeeds; records each try."""

    def __init__(self, failures: int, error: type[Exception] = ConnectionError) -> None:
        self.failures = failures
        self.error = error
        self.tries: list[tuple[int, float]] = []

        @retried(base=0.2)
        async def flaky_job(ctx: dict[str, Any]) -> str:
            self.tries.append((ctx["job_try"], time.monotonic()))
            if len(self.tries) <= self.failures:
                raise self.error("upstream went away")
            return "done"

        self.job = flaky_job

    def gaps(self) -> list[float]:
        times = [t for _, t in self.tries]
        return [b - a for a, b in itertools.pairwise(times)]


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    for attempt in range(1, 8):
        delay = backoff(attempt, base=1)
        assert 0.5 * min(120, 2 ** (attempt - 1)) <= delay <= min(120, 2 ** (attempt - 1))
    assert backoff(30, base=1) <= 120


async def test_in_process_a_transient_failure_is_retried_with_backoff() -> None:
    flaky = Flaky(failures=2)
    jobs = InProcessJobs([flaky.job], {})
    assert await jobs.enqueue("flaky_job", job_id="flaky")
    assert not await jobs.enqueue("flaky_job", job_id="flaky")  # the id is held while retrying
    await jobs.drain()
    assert [t for t, _ in flaky.tries] == [1, 2, 3]
    first, second = flaky.gaps()
    # Up to 0.2 s, then up to 0.4 s (jittered down to half); the upper bounds allow for a busy
    # machine.
    assert 0.1 <= first <= 0.6 and 0.2 <= second <= 1.0


async def test_in_process_retries_stop_after_max_tries_and_bugs_fail_at_once() -> None:
    always = Flaky(failures=100)
    bug = Flaky(failures=100, error=ValueError)
    jobs = InProcessJobs([always.job], {})
    # Waits of up to 0.2+0.4+0.8+1.6 s between the tries.
    await jobs.enqueue("flaky_job")
    await jobs.drain()
    assert len(always.tries) == MAX_TRIES
    jobs = InProcessJobs([bug.job], {})
    await jobs.enqueue("flaky_job")
    await jobs.drain()
    assert len(bug.tries) == 1


async def test_in_process_job_ids_dedupe_until_the_job_ends() -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(ctx: dict[str, Any]) -> None:
        started.set()
        await release.wait()

    jobs = InProcessJobs([slow], {})
    assert await jobs.enqueue("slow", job_id="one")
    await started.wait()
    assert not await jobs.enqueue("slow", job_id="one")
    assert await jobs.enqueue("slow", job_id="another")
    release.set()
    await jobs.drain()
    assert await jobs.enqueue("slow", job_id="one")
    await jobs.drain()


def _arq(resources: Resources) -> ArqJobs:
    if not isinstance(resources.jobs, ArqJobs):
        pytest.skip("needs REDIS_URL (arq)")
    return resources.jobs


async def test_arq_job_ids_dedupe_while_queued(resources: Resources) -> None:
    jobs = _arq(resources)
    from workers.settings import WorkerSettings

    job_id = f"warm-{uuid.uuid4().hex}"
    assert await jobs.enqueue("warm_cache", job_id=job_id)
    assert not await jobs.enqueue("warm_cache", job_id=job_id)
    worker = Worker(functions=WorkerSettings.functions, redis_pool=await jobs.pool(), burst=True,
                    poll_delay=0.05, on_startup=WorkerSettings.on_startup,
                    on_shutdown=WorkerSettings.on_shutdown, handle_signals=False)
    await worker.async_run()
    assert worker.jobs_complete >= 1 and worker.jobs_failed == 0
    await worker.close()
    # warm_cache keeps no result: once it ran, the same id queues again at once.
    assert await jobs.enqueue("warm_cache", job_id=job_id)
    worker = Worker(functions=WorkerSettings.functions, redis_pool=await jobs.pool(), burst=True,
                    poll_delay=0.05, on_startup=WorkerSettings.on_startup,
                    on_shutdown=WorkerSettings.on_shutdown, handle_signals=False)
    await worker.async_run()
    await worker.close()


async def test_arq_retries_a_transient_failure_with_backoff(resources: Resources) -> None:
    jobs = _arq(resources)
    flaky = Flaky(failures=2)
    queue = f"test:retries:{uuid.uuid4().hex}"
    pool = await jobs.pool()
    job = await pool.enqueue_job("flaky_job", _queue_name=queue, _job_id=f"flaky-{queue}")
    assert job is not None
    worker = Worker(functions=[func(flaky.job, name="flaky_job")], redis_pool=pool, burst=True,
                    queue_name=queue, poll_delay=0.02, max_tries=MAX_TRIES,
                    handle_signals=False)
    await worker.async_run()
    await worker.close()
    assert [t for t, _ in flaky.tries] == [1, 2, 3]
    assert (worker.jobs_retried, worker.jobs_complete, worker.jobs_failed) == (2, 1, 0)
    first, second = flaky.gaps()
    assert first >= 0.1 and second >= 0.2  # deferred 0.1-0.2 s, then 0.2-0.4 s (plus polling)
    assert await job.result(timeout=1) == "done"


async def test_statements_of_background_jobs_are_not_counted_as_the_request_s(
        resources: Resources, count_statements: Any) -> None:
    """The count_statements fixture measures requests; the shared app's jobs run on their own."""
    from sqlalchemy import text

    async def query(ctx: dict[str, Any]) -> None:
        async with resources.db.read() as conn:
            await conn.execute(text("SELECT 1"))

    jobs = InProcessJobs([query], {})
    with count_statements() as counter:
        await jobs.enqueue("query")
        await jobs.drain()
        assert counter.count == 0
        await query({})
        assert counter.count >= 1
