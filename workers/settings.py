"""arq WorkerSettings: the job functions, the cron schedule, and the resources each worker opens.

Cron is arq's: every worker schedules every tick, and arq's `unique` job id (the cron job's name
and the tick's time) lets exactly one of them queue it; the tick's result is kept for a minute,
so a worker whose clock lags cannot queue it again after it ran.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from arq import cron, func
from arq.connections import RedisSettings
from arq.cron import CronJob

from graphql_api.core.jobs import MAX_TRIES, JobFunction
from graphql_api.core.resources import Resources
from graphql_api.core.schedule import Schedule, schedules
from graphql_api.core.settings import Settings, get_settings
from workers.functions import JOB_FUNCTIONS

# Jobs queued with a fixed id ("one at a time") keep no result, so the id frees as soon as the
# job ends: a write just after a warm-up can queue the next one, and a trigger just after a sync
# queues its run (a kept result would hold the id for 60 s and leave the run unadopted).
NO_RESULT = frozenset({"index_search", "warm_cache", "warm_catalog_cache", "sync_catalog"})
# A cron tick's id stays taken this long after its run (arq's cron default keeps nothing).
CRON_RESULT_SECONDS = 60


async def startup(ctx: dict[str, Any]) -> None:
    from graphql_api.app import open_resources  # the app wires event subscribers too

    ctx["resources"] = await open_resources(get_settings())


async def shutdown(ctx: dict[str, Any]) -> None:
    resources: Resources | None = ctx.get("resources")
    if resources is not None:
        await resources.close()


def redis_settings() -> RedisSettings:
    url = get_settings().redis_url
    if not url:
        raise RuntimeError("REDIS_URL must be set to run arq workers")
    return RedisSettings.from_dsn(url)


def cron_fields(seconds: float) -> dict[str, Any]:
    """arq cron takes sets of seconds, minutes and hours: an interval's ticks as those sets
    (aligned as the in-process scheduler aligns them when the interval divides the minute,
    hour or day; otherwise the last tick of each is shorter)."""
    seconds = max(1, round(seconds))
    if seconds < 60:
        return {"second": set(range(0, 60, seconds))}
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return {"minute": set(range(0, 60, minutes)), "second": 0}
    hours = min(24, max(1, round(minutes / 60)))
    return {"hour": set(range(0, 24, hours)), "minute": 0, "second": 0}


def cron_jobs(plan: list[Schedule], functions: list[JobFunction]) -> list[CronJob]:
    by_name = {f.__name__: f for f in functions}
    return [cron(by_name[s.job], name=f"cron:{s.job}", unique=True, microsecond=0,  # type: ignore[arg-type]
                 keep_result=CRON_RESULT_SECONDS, max_tries=MAX_TRIES, **cron_fields(s.seconds))
            for s in plan if math.isfinite(s.seconds)]


def worker_functions(functions: list[JobFunction]) -> list[Any]:
    return [func(f, keep_result=0) if f.__name__ in NO_RESULT else f  # type: ignore[arg-type]
            for f in functions]


def schedule_for(settings: Settings, functions: list[JobFunction]) -> list[CronJob]:
    return cron_jobs(schedules(settings, {f.__name__ for f in functions}), functions)


class WorkerSettings:
    # arq reads this class's own __dict__: a subclass inherits none of it (copy it instead).
    functions: ClassVar[list[Any]] = worker_functions(JOB_FUNCTIONS)
    cron_jobs: ClassVar[list[CronJob]] = schedule_for(get_settings(), JOB_FUNCTIONS)
    on_startup = startup
    on_shutdown = shutdown
    max_jobs = 10
    max_tries = MAX_TRIES
    job_timeout = 600
    keep_result = 60
    # Evaluated when arq imports this class; `graphql-api worker` checks REDIS_URL first.
    redis_settings = redis_settings() if get_settings().redis_url else None
