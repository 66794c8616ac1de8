"""Fetching upstream pages: timeouts, bounded concurrency, retries with backoff and jitter,
429 Retry-After, and conditional requests (an unchanged page costs a 304)."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from graphql_api.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchPolicy:
    timeout: float = 10.0
    concurrency: int = 4
    attempts: int = 5
    backoff: float = 0.5  # the first retry's delay; doubled per attempt, plus up to 100% jitter
    max_backoff: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After fails the page instead of stalling

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        return cls(timeout=settings.sync_timeout_seconds, concurrency=settings.sync_concurrency,
                   attempts=settings.sync_attempts)


@dataclass(frozen=True)
class Fetched:
    """A page's answer: `body` is None for a 304 (the page is as it was when `etag` was sent)."""

    url: str
    body: Any | None
    etag: str | None

    @property
    def not_modified(self) -> bool:
        return self.body is None


class FetchError(Exception):
    """A page that could not be fetched, after every attempt the policy allows."""


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: a delay (`120`) or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


class _Retry(Exception):
    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class Fetcher:
    """One HTTP client per run; `fetch` may be called from many tasks at once."""

    def __init__(self, policy: FetchPolicy, client: httpx.AsyncClient | None = None) -> None:
        self.policy = policy
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(policy.timeout),
            limits=httpx.Limits(max_connections=policy.concurrency,
                                max_keepalive_connections=policy.concurrency),
            headers={"Accept": "application/json", "User-Agent": "graphql-api-catalog-sync"},
            follow_redirects=True,
        )
        self._slots = asyncio.Semaphore(policy.concurrency)
        self.requests = 0
        self.not_modified = 0

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._client.aclose()

    def _backoff(self, attempt: int) -> float:
        delay = min(self.policy.max_backoff, self.policy.backoff * 2 ** (attempt - 1))
        return delay + random.uniform(0, delay)  # noqa: S311 (jitter, not a secret)

    async def fetch(self, url: str, etag: str | None = None) -> Fetched:
        last = "no attempt"
        for attempt in range(1, self.policy.attempts + 1):
            try:
                async with self._slots:
                    return await self._once(url, etag)
            except _Retry as retry:
                last = str(retry)
                if attempt == self.policy.attempts:
                    break
                delay = retry.delay if retry.delay is not None else self._backoff(attempt)
                if delay > self.policy.max_retry_after:
                    raise FetchError(f"{last}; asked to wait {delay:.0f} s") from None
                log.info("sync: %s: %s; retrying in %.2f s", url, last, delay)
                await asyncio.sleep(delay)
        raise FetchError(f"{last} (after {self.policy.attempts} attempts)")

    async def _once(self, url: str, etag: str | None) -> Fetched:
        headers = {"If-None-Match": etag} if etag else {}
        self.requests += 1
        try:
            response = await self._client.get(url, headers=headers)
        except httpx.TimeoutException:
            raise _Retry("timed out") from None
        except httpx.TransportError as exc:  # refused, reset, closed mid-response
            raise _Retry(f"connection error: {type(exc).__name__}") from None
        status = response.status_code
        if status == 304 and etag:
            self.not_modified += 1
            return Fetched(url, None, etag)
        if status == 429:
            raise _Retry("429 Too Many Requests", retry_after_seconds(response.headers.get("Retry-After")))
        if status >= 500:
            # 503 may say when to come back, too.
            raise _Retry(f"HTTP {status}", retry_after_seconds(response.headers.get("Retry-After")))
        if status != 200:
            raise FetchError(f"HTTP {status}")
        try:
            body = json.loads(response.content)
        except ValueError:
            raise FetchError("the response is not JSON") from None
        return Fetched(url, body, response.headers.get("ETag"))
