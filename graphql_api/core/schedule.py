"""The cron schedule: which jobs run on their own, how often, and the in-process scheduler.

One list of `Schedule`s serves both runners: arq workers turn it into arq cron jobs
(workers/settings.py); the embedded server runs it with `InProcessScheduler`. Ticks are aligned
to the wall clock (a 30-minute job fires at :00 and :30), so every process agrees on which tick
is due and a tick's job id names it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass

from graphql_api.core.jobs import JobQueue
from graphql_api.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    job: str  # a job function's name
    seconds: float  # the interval

    def tick(self, now: float) -> int:
        return int(now // self.seconds)


def schedules(settings: Settings, jobs: Collection[str]) -> list[Schedule]:
    """What runs on a schedule with these settings, among the job functions named `jobs`."""
    found: list[Schedule] = []
    # Sync is off until there is a source; the job itself lives in the sync domain.
    if settings.sync_source_url and "sync_catalog" in jobs:
        found.append(Schedule("sync_catalog", settings.sync_interval_minutes * 60.0))
    if settings.cache_warm_interval_minutes > 0 and "warm_cache" in jobs:
        found.append(Schedule("warm_cache", settings.cache_warm_interval_minutes * 60.0))
    return found


class InProcessScheduler:
    """Queues each scheduled job on this process's job queue at every tick (embedded mode).

    The job id is the schedule's own, not the tick's: a tick that comes while the previous run
    still runs is skipped, not stacked behind it.
    """

    def __init__(self, jobs: JobQueue, plan: list[Schedule]) -> None:
        self.jobs = jobs
        self.plan = plan
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for schedule in self.plan:
            self._tasks.append(asyncio.create_task(self._run(schedule),
                                                   name=f"cron:{schedule.job}"))
        if self.plan:
            log.info("in-process cron: %s", ", ".join(
                f"{s.job} every {s.seconds:g}s" for s in self.plan))

    async def _run(self, schedule: Schedule) -> None:
        tick = schedule.tick(time.time()) + 1  # the next tick due
        while True:
            if (delay := tick * schedule.seconds - time.time()) > 0:
                await asyncio.sleep(delay)
                continue  # a sleep may end a hair early: look at the clock again
            # Ticks missed while the process was busy or suspended run once, not each.
            tick = max(tick, schedule.tick(time.time())) + 1
            try:
                queued = await self.jobs.enqueue(schedule.job, job_id=f"cron:{schedule.job}")
            except Exception:
                log.exception("could not queue the scheduled job %s", schedule.job)
                continue
            if not queued:
                log.info("%s is still running: skipping this tick", schedule.job)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
