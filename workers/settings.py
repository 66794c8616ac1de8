"""arq WorkerSettings: the job functions, and the resources each worker process opens."""

from __future__ import annotations

from typing import Any, ClassVar

from arq import func
from arq.connections import RedisSettings

from graphql_api.core.resources import Resources
from graphql_api.core.settings import get_settings
from workers.functions import JOB_FUNCTIONS


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


class WorkerSettings:
    # index_search keeps no result, so its job id (one queued drain at a time) frees at once.
    functions: ClassVar[list[Any]] = [
        func(f, keep_result=0) if f.__name__ == "index_search" else f  # type: ignore[arg-type]
        for f in JOB_FUNCTIONS]
    on_startup = startup
    on_shutdown = shutdown
    max_jobs = 10
    job_timeout = 600
    keep_result = 60
    # Evaluated when arq imports this class; `graphql-api worker` checks REDIS_URL first.
    redis_settings = redis_settings() if get_settings().redis_url else None
