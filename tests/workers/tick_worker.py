"""A test-only arq worker: our WorkerSettings (start-up, resources), with one cron job that ticks
every second and records which tick ran where. `python -m arq tests.workers.tick_worker.Tick`."""

from __future__ import annotations

import os
from typing import Any

from graphql_api.core.schedule import Schedule
from workers.settings import WorkerSettings, cron_jobs, redis_settings

QUEUE = os.environ.get("TICK_QUEUE", "test:ticks")


async def tick(ctx: dict[str, Any]) -> None:
    assert "resources" in ctx  # opened by our start-up
    await ctx["redis"].rpush(f"{QUEUE}:runs", f"{ctx['job_id']} {os.getpid()}")


# arq reads a settings class's own __dict__ only (not inherited attributes): a dict of ours.
Tick: dict[str, Any] = {
    **{k: v for k, v in vars(WorkerSettings).items() if not k.startswith("__")},
    "functions": [],
    "cron_jobs": cron_jobs([Schedule("tick", 1)], [tick]),
    "queue_name": QUEUE,
    "health_check_key": f"{QUEUE}:health",
    "redis_settings": redis_settings(),
}
