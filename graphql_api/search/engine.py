"""The search a process uses: its primary backend, the database as the fallback, the cache.

Elasticsearch answers when it is configured and ready; when it is not (down, or still building
its first index), the database adapter answers instead, a warning is logged and /ready says
`degraded`. Answers go through the catalog cache under the catalog generation, so a product
write retires them with everything else; fallback answers are not cached, so searching returns
to Elasticsearch as soon as it is back.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import asdict
from decimal import Decimal
from typing import Any, Protocol

from graphql_api.search.port import (
    FacetBucket,
    Facets,
    Highlight,
    PriceBucket,
    SearchBackend,
    SearchHit,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
    Suggestion,
    SuggestionKind,
)

log = logging.getLogger(__name__)


class Cached(Protocol):
    """What the engine needs of the request's catalog reads (catalog/reads.py)."""

    async def cached(self, suffix: str, load: Any) -> Any: ...


class SearchEngine:
    def __init__(self, primary: SearchBackend, fallback: SearchBackend | None = None) -> None:
        self.primary, self.fallback = primary, fallback
        self.kind = primary.kind.lower()
        # The database adapter's index is the database itself; Elasticsearch's lags the write.
        self.indexes_apart = fallback is not None
        self._building: asyncio.Task[Any] | None = None

    def start(self) -> None:
        """A fresh deployment is searchable without a manual step: a missing Elasticsearch
        index is built in the background (the database answers meanwhile)."""
        ensure = getattr(self.primary, "ensure_index", None)
        if ensure is not None:
            self._building = asyncio.create_task(self._ensure(ensure), name="search:ensure-index")

    @staticmethod
    async def _ensure(ensure: Any) -> None:
        try:
            if await ensure():
                log.info("built the search index")
        except Exception as exc:
            log.warning("could not build the search index yet: %r", exc)

    async def _backend(self) -> SearchBackend:
        if self.fallback is None:
            return self.primary
        try:
            ready = await self.primary.ready()
        except Exception:
            ready = False
        if not ready:
            log.warning("%s is not ready: the database answers searches", self.primary.kind)
            return self.fallback
        return self.primary

    async def _answer(self, reads: Cached | None, key: str, ask: Any, encode: Any,
                      decode: Any) -> Any:
        backend = await self._backend()
        if backend is self.primary:
            try:
                if reads is None:
                    return await ask(backend)
                return decode(await reads.cached(key, lambda: _encoded(ask(backend), encode)))
            except SearchUnavailable as exc:
                if self.fallback is None:
                    raise
                log.warning("%s failed (%s): the database answers", backend.kind, exc)
            backend = self.fallback
        return await ask(backend)

    async def search(self, request: SearchRequest, reads: Cached | None = None) -> SearchResult:
        key = "search:" + _digest(repr(request))
        return await self._answer(
            reads, key, lambda b: b.search(request), result_to_json, result_from_json)

    async def suggest(self, prefix: str, limit: int, reads: Cached | None = None
                      ) -> list[Suggestion]:
        key = "suggest:" + _digest(repr((prefix, limit)))
        return await self._answer(
            reads, key, lambda b: b.suggest(prefix, limit),
            lambda items: [{"text": s.text, "kind": s.kind.value, "product_id": s.product_id}
                           for s in items],
            lambda items: [Suggestion(i["text"], SuggestionKind(i["kind"]), i["product_id"])
                           for i in items])

    async def index(self, product_ids: list[int]) -> None:
        """Bring the primary index up to date (raises SearchUnavailable while it is away)."""
        await self.primary.index(product_ids)

    async def state(self) -> str:
        if self.fallback is None:
            return "ok"
        try:
            return "ok" if await self.primary.ready() else "degraded"
        except Exception:
            return "degraded"

    async def close(self) -> None:
        if self._building is not None:
            self._building.cancel()
        await self.primary.close()
        if self.fallback is not None:
            await self.fallback.close()


async def _encoded(answer: Any, encode: Any) -> Any:
    return encode(await answer)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def result_to_json(result: SearchResult) -> dict[str, Any]:
    return {
        "hits": [{"product_id": h.product_id, "score": h.score,
                  "highlights": [[x.field, list(x.snippets)] for x in h.highlights]}
                 for h in result.hits],
        "total": result.total,
        "facets": None if result.facets is None else {
            "categories": [asdict(b) for b in result.facets.categories],
            "brands": [asdict(b) for b in result.facets.brands],
            "price_ranges": [[_money(b.min), _money(b.max), b.count]
                             for b in result.facets.price_ranges],
        },
        "did_you_mean": result.did_you_mean,
        "backend": result.backend,
    }


def result_from_json(data: dict[str, Any]) -> SearchResult:
    facets = data["facets"]
    return SearchResult(
        hits=tuple(SearchHit(h["product_id"], h["score"],
                             tuple(Highlight(f, tuple(s)) for f, s in h["highlights"]))
                   for h in data["hits"]),
        total=data["total"],
        facets=None if facets is None else Facets(
            categories=tuple(FacetBucket(**b) for b in facets["categories"]),
            brands=tuple(FacetBucket(**b) for b in facets["brands"]),
            price_ranges=tuple(PriceBucket(None if lo is None else Decimal(lo),
                                           None if hi is None else Decimal(hi), n)
                               for lo, hi, n in facets["price_ranges"])),
        did_you_mean=data["did_you_mean"],
        backend=data["backend"],
    )
