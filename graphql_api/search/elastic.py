"""The Elasticsearch adapter of the search port.

Searches go to an alias (`settings.elasticsearch_index`) over a versioned index
`<alias>-<UTC timestamp>`. `reindex` builds a whole new index from the database in keyset
batches and swaps the alias in one atomic `update_aliases`, so a search never sees a half-built
index; `index` keeps the current one in step with product writes.

Highlight snippets are cut from the folded text that is indexed (lower case, no accents, no
punctuation: the core server cannot fold), with the matched words in `<em>...</em>`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from elastic_transport import TransportError
from elasticsearch import ApiError, AsyncElasticsearch, BadRequestError, NotFoundError
from sqlalchemy import func, select
from sqlmodel import col

from graphql_api.catalog.models import Product
from graphql_api.catalog.records import ProductRecord, product_record, select_products
from graphql_api.catalog.service import products_by_ids
from graphql_api.core.database import Database
from graphql_api.core.settings import Settings
from graphql_api.search import elastic_query as q
from graphql_api.search.elastic_mapping import (
    MAPPING,
    LabelSpellings,
    bulk_payload,
    index_operations,
    index_settings,
    label_id,
    label_operations,
    product_labels,
    served_settings,
)
from graphql_api.search.port import (
    SearchRequest,
    SearchResult,
    SearchUnavailable,
    Suggestion,
)
from graphql_api.search.text import fold

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
REQUEST_TIMEOUT = 2.0  # seconds: a search never waits longer on a sick cluster
_WRITE_TIMEOUT = 10.0  # one bulk request of `index`
_BUILD_TIMEOUT = 120.0  # the requests of a build (a bulk of a batch, the final refresh)
_BULKS_IN_FLIGHT = 2
# Only what `check_bulk` reads: the answer to a bulk of 1,000 is otherwise ~100 KB of JSON.
_BULK_ERRORS = "errors,items.*.error,items.*.status"
_READY_TTL = 1.0
_DOWN_TTL_MAX = 8.0  # seconds: how long an outage answer may be kept before probing again
_READY_TIMEOUT = 1.0  # the engine asks before each search: it must not wait long
_MAX_SUGGESTIONS = 50
# Writes racing a build go to the old index; the build re-indexes what changed since it began.
_CATCH_UP_MARGIN = timedelta(seconds=5)
_CATCH_UP_ATTEMPTS = 5

_live = col(Product.deleted_at).is_(None)
_product_id = col(Product.id)


class ElasticsearchSearch:
    kind = "ELASTICSEARCH"

    def __init__(self, settings: Settings, db: Database, *, batch_size: int = BATCH_SIZE) -> None:
        if not settings.elasticsearch_url:
            raise ValueError("ELASTICSEARCH_URL is not set")
        self.alias = settings.elasticsearch_index
        self.db = db
        self.batch_size = batch_size
        self.client = AsyncElasticsearch(
            settings.elasticsearch_url, request_timeout=REQUEST_TIMEOUT, max_retries=0,
            retry_on_timeout=False)
        # What ready() last found, until when it holds, and for how many probes in a row it
        # has found Elasticsearch down.
        self._ready_value, self._ready_until, self._down_streak = False, 0.0, 0
        self._answered = False  # some probe (or call) has found it up or down
        # Made once: each `options()` is a new client, a tree of reference cycles to collect.
        self._probe_client = self.client.options(request_timeout=_READY_TIMEOUT)
        self._probe: asyncio.Future[bool] | None = None

    # --- reading --------------------------------------------------------------------------------

    async def search(self, request: SearchRequest) -> SearchResult:
        words = fold(request.query).split()
        async with self._calling("search", deadline=True):
            near: q.Near = {}
            corrected = None
            # The vocabulary only feeds typo tolerance and did_you_mean: words too short for an
            # edit (search as you type: "wi", "wir") need no round trip for it.
            if any(q.allowed_edits(word) for word in words):
                vocabulary = await self.client.search(index=self.alias,
                                                      body=q.vocabulary_body(words))
                near = q.near_terms(vocabulary.body, words)
                corrected = q.corrections(vocabulary.body, words, near)
            searches: list[dict[str, Any]] = [{}, q.search_body(request, near)]
            if corrected is not None:
                searches += [{}, q.exists_body(corrected, request.filter)]
            answers = (await self.client.msearch(index=self.alias, searches=searches)).body
        responses = [q.msearch_answer(a) for a in answers["responses"]]
        response = responses[0]
        found_by_correction = corrected is not None and responses[1]["hits"]["total"]["value"] > 0
        return SearchResult(
            hits=q.hits(response),
            total=response["hits"]["total"]["value"],
            facets=q.facets(response) if request.facets else None,
            did_you_mean=" ".join(corrected) if corrected and found_by_correction else None,
            backend=self.kind,
        )

    async def suggest(self, prefix: str, limit: int) -> list[Suggestion]:
        folded = fold(prefix)
        limit = min(limit, _MAX_SUGGESTIONS)
        if not folded or limit <= 0:
            return []
        async with self._calling("suggest", deadline=True):
            response = await self.client.search(index=self.alias, filter_path=q.SUGGEST_FILTER,
                                                body=q.suggest_body(folded, limit))
        return q.suggestions(response.body, folded, limit)

    async def ready(self) -> bool:
        """The alias exists and the cluster answers. A healthy answer is kept for a second; an
        outage for longer each time it persists (up to _DOWN_TTL_MAX), so while Elasticsearch
        is down, searches fall back at once instead of each waiting on a probe. Only the first
        caller waits for a probe: once there is an answer, an expired one is still given while
        the next probe runs in the background (a search that then finds the cluster gone falls
        back and marks it down itself, see `_calling`), so no search waits a probe's round trip
        once a second. Concurrent callers share one probe."""
        if time.monotonic() < self._ready_until:
            return self._ready_value
        if self._probe is None:
            self._probe = asyncio.ensure_future(self._probe_ready())
            self._probe.add_done_callback(self._probed)
        if self._answered:
            return self._ready_value
        return await asyncio.shield(self._probe)

    async def _probe_ready(self) -> bool:
        try:
            ready = bool(await self._probe_client.indices.exists_alias(name=self.alias))
        except (TransportError, ApiError) as exc:
            log.debug("elasticsearch not ready: %r", exc)
            ready = False
        self._remember(ready)
        return ready

    def _probed(self, probe: asyncio.Future[bool]) -> None:
        self._probe = None
        if not probe.cancelled() and probe.exception() is not None:
            self._remember(False)

    def _remember(self, ready: bool) -> None:
        self._ready_value, self._answered = ready, True
        self._down_streak = 0 if ready else self._down_streak + 1
        ttl = _READY_TTL if ready else min(_READY_TTL * 2 ** (self._down_streak - 1), _DOWN_TTL_MAX)
        self._ready_until = time.monotonic() + ttl

    def _forget_readiness(self) -> None:
        """After a build or a drop: the next caller waits for a fresh probe."""
        self._ready_until, self._answered = 0.0, False

    # --- writing --------------------------------------------------------------------------------

    async def index(self, product_ids: Sequence[int]) -> None:
        """Upsert these products as the database now has them; delete the deleted or missing
        ones; keep the brand and category labels in step. Searchable on return
        (`refresh=wait_for`)."""
        ids = sorted(set(product_ids))
        for start in range(0, len(ids), self.batch_size):
            chunk = ids[start : start + self.batch_size]
            async with self.db.read() as conn:
                live = await products_by_ids(conn, chunk)
            async with self._calling("index"):
                # The labels these products held, to retire the ones no product holds now.
                before = await self.client.mget(index=self.alias, ids=[str(i) for i in chunk],
                                                source=["brand_key", "category_slug"])
            held = set().union(*(product_labels(d["_source"]) for d in before.body["docs"]
                                 if d.get("found")))
            # A big chunk (an outbox replay) is encoded off the event loop.
            operations, needed = (index_operations(chunk, live) if len(chunk) <= 50
                                  else await asyncio.to_thread(index_operations, chunk, live))
            async with self._calling("index"):
                # `require_alias`: with the alias missing, fail rather than create an index
                # with dynamic mappings under its name.
                response = await self.client.options(request_timeout=_WRITE_TIMEOUT).bulk(
                    index=self.alias, operations=operations, require_alias=True,
                    refresh="wait_for", filter_path=_BULK_ERRORS)
            q.check_bulk(response.body)
            if held - needed:
                await self._retire_labels(held - needed)

    async def _retire_labels(self, candidates: set[str]) -> None:
        """Delete the label documents of brands and categories no indexed product has now."""
        keys = {kind: [c.split(":", 1)[1] for c in candidates if c.startswith(f"{kind}:")]
                for kind in ("brand", "category")}
        fields = {"brand": "brand_key", "category": "category_slug"}
        body = {"size": 0, "query": {"bool": {"should": [
                    {"terms": {fields[k]: v}} for k, v in keys.items() if v]}},
                "aggs": {k: {"terms": {"field": fields[k], "include": v, "size": len(v)}}
                         for k, v in keys.items() if v}}
        async with self._calling("index"):
            counts = (await self.client.search(index=self.alias, body=body)).body["aggregations"]
            used = {label_id(k, b["key"]) for k in counts for b in counts[k]["buckets"]}
            unused = sorted(candidates - used)
            if unused:
                response = await self.client.bulk(
                    index=self.alias, operations=[{"delete": {"_id": i}} for i in unused],
                    require_alias=True, refresh="wait_for", filter_path=_BULK_ERRORS)
        if unused:
            q.check_bulk(response.body)

    async def ensure_index(self) -> bool:
        """Build the index if the alias is missing (a fresh deployment); whether it built."""
        async with self._calling("ensure_index"):
            exists = await self.client.indices.exists_alias(name=self.alias)
        if exists:
            return False
        await self.reindex()
        return True

    async def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Build a new index from the database, then swap the alias to it and drop the old one;
        the number of products indexed. Memory holds a few batches: the one being read, the one
        being encoded and the bulk requests in flight (two, so the server indexes one while this
        process encodes the next)."""
        started = datetime.now(UTC)
        name = f"{self.alias}-{started.strftime('%Y%m%d%H%M%S%f')}"
        build = self.client.options(request_timeout=_BUILD_TIMEOUT)
        async with self._calling("reindex"):
            await build.indices.create(index=name, settings=index_settings(building=True),
                                       mappings=MAPPING)
        in_flight: list[asyncio.Task[int]] = []
        done = 0
        seen_labels: LabelSpellings = {}
        try:
            total = await self._count_live()

            async def send(payload: bytes, count: int) -> int:
                async with self._calling("reindex"):
                    response = await build.bulk(index=name, operations=cast(Any, payload),
                                                filter_path=_BULK_ERRORS)
                q.check_bulk(response.body)
                return count

            async for batch in self._live_batches():
                # Encoding is CPU work: in a thread, so the event loop keeps serving meanwhile.
                payload = await asyncio.to_thread(bulk_payload, batch, seen_labels)
                in_flight.append(asyncio.ensure_future(send(payload, len(batch))))
                while len(in_flight) >= _BULKS_IN_FLIGHT or (in_flight and in_flight[0].done()):
                    done += await in_flight.pop(0)
                    if progress is not None:
                        progress(done, max(total, done))
            while in_flight:
                done += await in_flight.pop(0)
                if progress is not None:
                    progress(done, max(total, done))
            async with self._calling("reindex"):
                if seen_labels:
                    response = await build.bulk(index=name, filter_path=_BULK_ERRORS,
                                                operations=label_operations(seen_labels))
                    q.check_bulk(response.body)
                await build.indices.put_settings(index=name, settings=served_settings())
                await build.indices.refresh(index=name)
                previous = await self._swap(name)
        except BaseException:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            await self._drop(name)
            raise
        self._forget_readiness()
        for old in previous:
            await self._drop(old)
        if name not in previous:  # a build that lost the race leaves catching up to the winner
            await self._catch_up(started - _CATCH_UP_MARGIN)
        log.info("search index %s built with %d products", name, done)
        return done

    async def drop(self) -> None:
        """Delete the alias and every index built for it (tests and teardown)."""
        async with self._calling("drop"):
            found = await self.client.options(ignore_status=404).indices.get(
                index=f"{self.alias}-*", expand_wildcards="all", allow_no_indices=True)
        # `<alias>-*` also matches another alias's indexes ("products-eu-..."): only ours.
        ours = re.compile(rf"{re.escape(self.alias)}-\d{{20}}")
        for name in found.body if found.meta.status == 200 else ():
            if ours.fullmatch(name):
                await self._drop(name)
        self._forget_readiness()

    async def close(self) -> None:
        await self.client.close()

    # --- helpers --------------------------------------------------------------------------------

    async def _swap(self, name: str) -> list[str]:
        """Point the alias at `name` alone, atomically; the indexes to delete now (those it
        pointed at before; `name` itself if a newer build won a race)."""
        for attempt in range(3):
            current = await self._aliased()
            actions: list[dict[str, Any]] = [
                {"remove": {"index": old, "alias": self.alias}} for old in current if old != name]
            if not current and await self.client.indices.exists(index=self.alias):
                # A concrete index holds the alias's name (written to before any alias
                # existed): the alias replaces it in the same atomic step.
                actions.append({"remove_index": {"index": self.alias}})
            actions.append({"add": {"index": name, "alias": self.alias}})
            try:
                await self._update_aliases(actions)
                break
            except (BadRequestError, NotFoundError):
                # Another build changed the alias between the read and the swap (its add made
                # `exists` true, or it removed the index first); the request changed nothing,
                # so read again.
                if attempt == 2:
                    raise
        stale = [old for old in current if old != name]
        # Two builds swapping at once (two processes starting on a fresh cluster) can both
        # add: then the newest index keeps the alias and the others go.
        now = await self._aliased()
        newest = max(now, default=name)  # the names' UTC timestamps sort as their builds began
        if len(now) > 1:
            await self._update_aliases([{"remove": {"index": old, "alias": self.alias}}
                                        for old in now if old != newest])
        # Indexes that held the alias are whole (the add comes after the build): safe to drop.
        stale += [old for old in now if old != newest]
        if newest != name:  # lost the race (the other build may have settled it already)
            stale.append(name)
        return sorted(set(stale))

    async def _aliased(self) -> list[str]:
        try:
            return list((await self.client.indices.get_alias(name=self.alias)).body)
        except NotFoundError:
            return []

    async def _update_aliases(self, actions: list[dict[str, Any]]) -> None:
        answer = (await self.client.indices.update_aliases(actions=actions)).body
        # One action failing does not fail the request (another build's swap may have removed
        # an alias first); a removal that found nothing is fine, a failed add is not.
        for result in answer.get("action_results", ()):
            if result["action"]["type"] != "remove" and result["status"] >= 300:
                raise SearchUnavailable(f"elasticsearch alias swap: {result}")

    async def _drop(self, name: str) -> None:
        try:
            await self.client.options(ignore_status=404).indices.delete(index=name)
        except (TransportError, ApiError) as exc:
            log.warning("could not delete search index %s: %r", name, exc)

    async def _count_live(self) -> int:
        async with self.db.read() as conn:
            return int(await conn.scalar(select(func.count()).select_from(Product).where(_live))
                       or 0)

    async def _live_batches(self) -> AsyncIterator[list[ProductRecord]]:
        """Live products with their categories in id order, one keyset batch at a time; the next
        batch is read while the caller sends the current one."""

        async def read(after: int) -> list[ProductRecord]:
            stmt = (select_products().where(_live, _product_id > after)
                    .order_by(_product_id).limit(self.batch_size))
            async with self.db.read() as conn:
                return [product_record(r) for r in await conn.execute(stmt)]

        batch = await read(0)
        while batch:
            following = asyncio.ensure_future(read(batch[-1].id))
            try:
                yield batch
            except BaseException:
                following.cancel()
                raise
            batch = await following

    async def _catch_up(self, since: datetime) -> None:
        """Re-index the products written since the build began: their writes went to the old
        index. (Soft deletes set updated_at, so they are caught too.)"""
        after = 0
        while True:
            stmt = (select(_product_id).where(col(Product.updated_at) >= since, _product_id > after)
                    .order_by(_product_id).limit(self.batch_size))
            async with self.db.read() as conn:
                ids = [pid for pid in (await conn.scalars(stmt)).all() if pid is not None]
            if not ids:
                return
            for attempt in range(_CATCH_UP_ATTEMPTS):
                try:
                    await self.index(ids)
                    break
                except SearchUnavailable:
                    # Another build's swap may hold the alias on two indexes for a moment.
                    if attempt == _CATCH_UP_ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(0.2 * (attempt + 1))
            after = ids[-1]

    @asynccontextmanager
    async def _calling(self, what: str, deadline: bool = False) -> AsyncIterator[None]:
        """Elasticsearch unreachable, timing out, overloaded or failing (or the alias gone)
        is SearchUnavailable, for the engine to fall back on; a bad request is a bug and raised.
        With `deadline`, the whole call (a search may take two requests) has REQUEST_TIMEOUT.
        A failed call counts as a failed probe: the next searches fall back without waiting."""
        try:
            try:
                if deadline:
                    async with asyncio.timeout(REQUEST_TIMEOUT):
                        yield
                else:
                    yield
            except TimeoutError as exc:
                raise SearchUnavailable(
                    f"elasticsearch {what}: no answer in {REQUEST_TIMEOUT} s") from exc
            except TransportError as exc:
                raise SearchUnavailable(f"elasticsearch {what}: {exc}") from exc
            except ApiError as exc:
                if exc.meta.status >= 500 or exc.meta.status in (404, 408, 429):
                    raise SearchUnavailable(
                        f"elasticsearch {what}: {exc.meta.status} {exc}") from exc
                raise
        except SearchUnavailable:
            self._remember(False)
            raise
