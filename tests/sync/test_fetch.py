"""The fetcher against a real misbehaving upstream: retries, Retry-After, timeouts, resets, 304."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from graphql_api.sync.fetch import Fetcher, FetchError, FetchPolicy, retry_after_seconds
from tests.sync.conftest import FAST
from tests.sync.upstream import Upstream

Start = Callable[[int], Awaitable[Upstream]]


def page_url(upstream: Upstream, skip: int = 0, limit: int = 10) -> str:
    return f"{upstream.url}/products?limit={limit}&skip={skip}"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


async def test_429_waits_as_long_as_retry_after_says(upstream: Start) -> None:
    server = await upstream(20)
    server.rate_limit_next, server.retry_after = 1, "1"
    async with Fetcher(FAST) as fetcher:
        began = time.monotonic()
        fetched = await fetcher.fetch(page_url(server))
        waited = time.monotonic() - began
    assert len(fetched.body["products"]) == 10
    assert server.requests["429"] == 1 and server.requests["200"] == 1
    assert waited >= 0.95  # the header's second, not the policy's 10 ms backoff


async def test_429_with_an_http_date(upstream: Start) -> None:
    server = await upstream(20)
    server.rate_limit_next = 1
    server.retry_after = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    async with Fetcher(FAST) as fetcher:
        began = time.monotonic()
        await fetcher.fetch(page_url(server))
        # HTTP dates have whole seconds: between 1 and 2 s from now.
        assert time.monotonic() - began >= 0.9


async def test_a_retry_after_beyond_the_policy_fails_the_page_at_once(upstream: Start) -> None:
    server = await upstream(20)
    server.rate_limit_next, server.retry_after = 1, "3600"
    async with Fetcher(FAST) as fetcher:
        with pytest.raises(FetchError, match="3600"):
            await fetcher.fetch(page_url(server))


async def test_5xx_bursts_timeouts_and_resets_are_retried(upstream: Start) -> None:
    server = await upstream(20)
    server.fail_next, server.slow_next, server.slow_seconds, server.reset_next = 1, 1, 1.0, 1
    async with Fetcher(FAST) as fetcher:
        fetched = await fetcher.fetch(page_url(server))
    assert fetched.body["total"] == 20
    # reset, then slow (timed out at 0.5 s), then 503, then the page
    assert server.requests == {"reset": 1, "slow": 1, "503": 1, "200": 1}


async def test_retries_are_bounded(upstream: Start) -> None:
    server = await upstream(20)
    server.fail_next = 10
    async with Fetcher(FAST) as fetcher:
        with pytest.raises(FetchError, match=r"HTTP 503 \(after 4 attempts\)"):
            await fetcher.fetch(page_url(server))
    assert server.requests["503"] == 4


async def test_client_errors_are_not_retried(upstream: Start) -> None:
    server = await upstream(20)
    async with Fetcher(FAST) as fetcher:
        with pytest.raises(FetchError, match="HTTP 404"):
            await fetcher.fetch(f"{server.url}/nothing")
    assert server.requests["404"] == 1


async def test_an_unchanged_page_costs_a_304(upstream: Start) -> None:
    server = await upstream(20)
    async with Fetcher(FAST) as fetcher:
        first = await fetcher.fetch(page_url(server))
        assert first.etag
        again = await fetcher.fetch(page_url(server), first.etag)
        assert again.not_modified and again.body is None
        server.item(3)["price"] = 1.5
        changed = await fetcher.fetch(page_url(server), first.etag)
    assert not changed.not_modified and changed.etag != first.etag


async def test_concurrency_is_bounded(upstream: Start) -> None:
    server = await upstream(200)
    server.delay_seconds = 0.2
    policy = FetchPolicy(timeout=5, concurrency=2, attempts=1)
    import asyncio

    async with Fetcher(policy) as fetcher:
        began = time.monotonic()
        await asyncio.gather(*(fetcher.fetch(page_url(server, skip)) for skip in range(0, 80, 10)))
        elapsed = time.monotonic() - began
    assert elapsed >= 0.75  # 8 requests, 2 at a time, 0.2 s each
