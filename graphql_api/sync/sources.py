"""Where pages come from: the upstream over HTTP (page 0 first for the total, then the rest at
once, bounded by the fetcher), or a dump file in the same format, offline."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from graphql_api.sync.fetch import Fetcher, FetchError, FetchPolicy
from graphql_api.sync.models import SyncPage
from graphql_api.sync.provider import Provider


@dataclass(frozen=True)
class RawPage:
    """One page: raw `items`, or None when the upstream answered 304, or an `error`."""

    url: str
    items: list[Any] | None = None
    total: int = 0
    etag: str | None = None
    error: str | None = None


class PageSource(Protocol):
    provider: Provider
    description: str
    pages_expected: int | None  # known once the first page told the total

    def pages(self, stored: dict[str, SyncPage]) -> AsyncIterator[RawPage]:
        """Every page, in any order; `stored` holds the ETags of the pages as last applied."""


def page_count(total: int, limit: int) -> int:
    return max(1, math.ceil(total / limit))


class HttpSource:
    def __init__(self, provider: Provider, base_url: str, page_size: int, policy: FetchPolicy
                 ) -> None:
        self.provider = provider
        self.base_url = base_url
        self.page_size = page_size
        self.policy = policy
        self.description = base_url
        self.pages_expected: int | None = None

    async def _page(self, fetcher: Fetcher, skip: int, stored: dict[str, SyncPage]) -> RawPage:
        url = self.provider.page_url(self.base_url, skip, self.page_size)
        known = stored.get(url)
        try:
            fetched = await fetcher.fetch(url, known.etag if known else None)
        except FetchError as exc:
            return RawPage(url, error=str(exc))
        if fetched.not_modified:
            assert known is not None
            return RawPage(url, None, known.total, fetched.etag)
        try:
            parsed = self.provider.parse_page(fetched.body)
        except ValueError as exc:
            return RawPage(url, error=str(exc))
        return RawPage(url, parsed.items, parsed.total, fetched.etag)

    async def pages(self, stored: dict[str, SyncPage]) -> AsyncIterator[RawPage]:
        async with Fetcher(self.policy) as fetcher:
            first = await self._page(fetcher, 0, stored)
            yield first
            if first.error is not None:
                return  # without the total there is nothing more to ask for
            self.pages_expected = page_count(first.total, self.page_size)
            tasks = [asyncio.ensure_future(self._page(fetcher, skip, stored))
                     for skip in range(self.page_size, first.total, self.page_size)]
            try:
                for done in asyncio.as_completed(tasks):
                    yield await done
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)


class FileSource:
    """A dump: one page of the provider's format holding every product (or a bare list)."""

    def __init__(self, provider: Provider, path: Path, page_size: int) -> None:
        self.provider = provider
        self.path = path
        self.page_size = page_size
        self.description = str(path)
        self.pages_expected: int | None = None

    async def pages(self, stored: dict[str, SyncPage]) -> AsyncIterator[RawPage]:
        try:
            body = json.loads(await asyncio.to_thread(self.path.read_bytes))
            items = body if isinstance(body, list) else self.provider.parse_page(body).items
        except (OSError, ValueError) as exc:
            yield RawPage(f"file:{self.path}", error=f"cannot read the dump: {exc}")
            return
        self.pages_expected = page_count(len(items), self.page_size)
        for skip in range(0, max(len(items), 1), self.page_size):
            yield RawPage(f"file:{self.path}#skip={skip}", items[skip:skip + self.page_size],
                          len(items))
