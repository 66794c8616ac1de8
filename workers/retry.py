"""Retries with backoff for transient failures: a job wrapped here asks its runner (arq, or the
in-process one) to run it again later with `Retry(defer=...)` instead of failing."""

from __future__ import annotations

import functools
import logging
import random
from typing import Any

import httpx
from arq import Retry
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from graphql_api.core.jobs import MAX_TRIES, JobFunction

log = logging.getLogger(__name__)

BASE_SECONDS = 2.0
MAX_SECONDS = 120.0

# What a later attempt may well not meet: the network, a database restarting, a pool exhausted.
# Bugs and bad data are not here: they fail at once.
TRANSIENT: tuple[type[BaseException], ...] = (
    ConnectionError, TimeoutError, OSError, RedisConnectionError, RedisTimeoutError,
    OperationalError, PoolTimeoutError, httpx.TransportError,
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT)


def backoff(job_try: int, base: float = BASE_SECONDS) -> float:
    """Exponential, capped, with full jitter (retries of many jobs do not come back in step)."""
    return random.uniform(0.5, 1.0) * min(MAX_SECONDS, base * 2 ** (job_try - 1))  # noqa: S311


def retried(fn: JobFunction | None = None, *, base: float = BASE_SECONDS) -> Any:
    """`@retried` (or `retried(base=0.1)(fn)`): transient failures retry, up to MAX_TRIES tries."""

    def wrap(job: JobFunction) -> JobFunction:
        @functools.wraps(job)
        async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            try:
                return await job(ctx, *args, **kwargs)
            except Exception as exc:
                job_try = int(ctx.get("job_try") or 1)
                if not is_transient(exc) or job_try >= MAX_TRIES:
                    raise
                delay = backoff(job_try, base)
                log.warning("job %s, try %d: %r; retrying in %.1fs", job.__name__, job_try, exc,
                            delay)
                raise Retry(defer=delay) from exc

        return run

    return wrap(fn) if fn is not None else wrap
