"""A sync run: claim it, walk the source's pages (each applied and committed on its own), report
what went missing upstream, prune when asked, record the outcome. No GraphQL here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from graphql_api.catalog.models import Product
from graphql_api.core.database import to_completion
from graphql_api.core.events import PRODUCT_CHANGED
from graphql_api.core.models import utcnow
from graphql_api.core.resources import Resources
from graphql_api.core.settings import Settings
from graphql_api.search import outbox as search_outbox
from graphql_api.sync import runs
from graphql_api.sync.fetch import FetchPolicy
from graphql_api.sync.models import ProductSource, RunStatus, SyncPage, SyncRun
from graphql_api.sync.provider import Provider, get_provider
from graphql_api.sync.records import InvalidItem, ItemError, ProductData
from graphql_api.sync.sources import FileSource, HttpSource, PageSource, RawPage
from graphql_api.sync.upsert import CategoryIds, apply_page

log = logging.getLogger(__name__)

_products: sa.Table = Product.__table__  # type: ignore[attr-defined]
_sources: sa.Table = ProductSource.__table__  # type: ignore[attr-defined]
_pages: sa.Table = SyncPage.__table__  # type: ignore[attr-defined]
PROGRESS_SECONDS = 1.0  # how often a run with nothing to write records its progress
PRUNE_BATCH = 500


class SyncNotConfigured(Exception):
    pass


class RunLost(Exception):
    """Another process took this run for dead and failed it: stop writing."""


@dataclass
class Tally:
    pages: int = 0
    pages_done: int = 0
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    missing: int = 0
    pruned: int = 0
    failed_pages: int = 0
    errors: list[ItemError] = field(default_factory=list)

    def values(self) -> dict[str, object]:
        return {
            "pages": self.pages, "pages_done": self.pages_done, "fetched": self.fetched,
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "skipped": self.skipped, "missing": self.missing, "pruned": self.pruned,
            "errors": [e.to_json() for e in self.errors[:runs.MAX_ERRORS]],
        }


Progress = Callable[[Tally], None]


def configured_provider(settings: Settings) -> Provider:
    return get_provider(settings.sync_provider)


def http_source(settings: Settings, policy: FetchPolicy | None = None) -> HttpSource:
    """The upstream the settings name; SyncNotConfigured while SYNC_SOURCE_URL is unset."""
    if not settings.sync_source_url:
        raise SyncNotConfigured("catalog sync is off: set SYNC_SOURCE_URL")
    return HttpSource(configured_provider(settings), settings.sync_source_url,
                      settings.sync_page_size, policy or FetchPolicy.from_settings(settings))


def file_source(settings: Settings, path: Path) -> FileSource:
    return FileSource(configured_provider(settings), path, settings.sync_page_size)


async def trigger(resources: Resources, prune: bool) -> runs.Claim:
    """Queue a run (the `sync_catalog` job runs it), or return the one in progress."""
    settings = resources.settings
    provider = http_source(settings).provider  # refuses an unconfigured or unknown source
    claim = await runs.claim(resources.db, provider.name, prune, None, settings.sync_stale_seconds)
    if claim.started:
        try:
            # False: a sync job is running and adopts this run when it ends (see sync_catalog).
            await resources.jobs.enqueue("sync_catalog", prune, job_id="sync_catalog")
        except Exception:
            log.exception("could not queue the sync job")
            await runs.fail_stale(resources.db, claim.run, "the sync job could not be queued")
            raise
    return claim


async def sync_catalog(resources: Resources, prune: bool = False, source: PageSource | None = None,
                       on_progress: Progress | None = None) -> SyncRun | None:
    """The job and the CLI: run a sync now in this process, adopting a queued one; None when
    another process is running one. Runs queued while this one ran are run next."""
    settings = resources.settings
    source = source or http_source(settings)
    provider = source.provider
    result: SyncRun | None = None
    for _ in range(3):
        owner = runs.new_owner()
        claim = await runs.claim(resources.db, provider.name, prune, owner,
                                 settings.sync_stale_seconds)
        if not claim.started or claim.run.owner != owner:
            return result
        result = await execute(resources, claim.run, owner, provider, source, on_progress)
        if await runs.queued_run(resources.db) is None:
            break
    return result


async def _stored_pages(resources: Resources, provider: str) -> dict[str, SyncPage]:
    async with resources.db.session() as session:
        rows = await session.scalars(sa.select(SyncPage).where(col(SyncPage.provider) == provider))
        return {p.url: p for p in rows}


def _normalise(provider: Provider, items: list[object], tally: Tally, seen: set[str]
               ) -> list[ProductData]:
    records: list[ProductData] = []
    for item in items:
        external_id = provider.external_id(item)
        if external_id is not None:
            seen.add(external_id)  # present upstream, even if invalid: never pruned for that
        try:
            records.append(provider.normalise(item))
        except InvalidItem as exc:
            tally.errors.append(ItemError(exc.external_id, exc.reason))
            tally.skipped += 1
    return records


async def execute(resources: Resources, run: SyncRun, owner: str, provider: Provider,
                  source: PageSource, on_progress: Progress | None = None) -> SyncRun:
    assert run.id is not None
    db, tally, seen = resources.db, Tally(), set[str]()
    categories = CategoryIds()
    lost = asyncio.Event()
    beat = asyncio.create_task(_beat(resources, run.id, owner, lost))
    last_progress = time.monotonic()
    status = RunStatus.FAILED
    log.info("sync run %s: %s from %s (prune: %s)", run.id, provider.name, source.description,
             run.prune)
    try:
        stored = await _stored_pages(resources, provider.name)
        async for page in source.pages(stored):
            if lost.is_set():
                raise RunLost
            tally.pages = source.pages_expected or tally.pages + 1
            if page.error is not None:
                tally.failed_pages += 1
                tally.errors.append(ItemError(None, f"page {page.url}: {page.error}"))
                continue
            if page.items is None:  # 304: the page holds what it held when last applied
                ids = stored[page.url].external_ids
                seen.update(ids)
                tally.fetched += len(ids)
                tally.unchanged += len(ids)
                tally.pages_done += 1
            else:
                # A page is written whole even when the run is cancelled meanwhile: a
                # transaction cut off mid-statement is left holding its locks (the run's row
                # among them, which the cancellation's own record then waits for).
                await to_completion(_apply(resources, run.id, owner, provider, page,
                                           stored.get(page.url), tally, seen, categories))
            if on_progress is not None:
                on_progress(tally)
            if time.monotonic() - last_progress > PROGRESS_SECONDS:
                last_progress = time.monotonic()
                await _record(resources, run.id, owner, tally.values())
        await _missing_and_prune(resources, run, provider, tally, seen)
        if tally.failed_pages == 0:
            status = RunStatus.SUCCEEDED
        elif tally.pages_done > 0:
            status = RunStatus.PARTIAL
    except RunLost:
        log.warning("sync run %s was failed by another process; stopping", run.id)
    except asyncio.CancelledError:
        # A job timeout or a shutdown: say so now rather than leave the run to go stale.
        tally.errors.append(ItemError(None, "the run was cancelled"))
        values = {**tally.values(), "status": RunStatus.FAILED.value, "finished_at": utcnow()}
        try:
            await asyncio.shield(_record(resources, run.id, owner, values))
        except Exception:
            log.warning("sync run %s was cancelled and could not be marked failed", run.id,
                        exc_info=True)
        raise
    except Exception as exc:
        log.exception("sync run %s crashed", run.id)
        tally.errors.append(ItemError(None, f"the run stopped: {type(exc).__name__}: {exc}"))
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
    values = {**tally.values(), "status": status.value, "finished_at": utcnow()}
    await _record(resources, run.id, owner, values)
    if on_progress is not None:
        on_progress(tally)
    log.info("sync run %s %s: fetched %d, created %d, updated %d, unchanged %d, skipped %d, "
             "missing %d, pruned %d", run.id, status.value, tally.fetched, tally.created,
             tally.updated, tally.unchanged, tally.skipped, tally.missing, tally.pruned)
    return await runs.get_run(db, run.id) or run


async def _record(resources: Resources, run_id: int, owner: str, values: dict[str, object]) -> None:
    async with resources.db.transaction() as session:
        await session.execute(runs.progress_statement(run_id, owner, values))


async def _beat(resources: Resources, run_id: int, owner: str, lost: asyncio.Event) -> None:
    every = min(10.0, resources.settings.sync_stale_seconds / 4)
    while True:
        await asyncio.sleep(every)
        try:
            if not await runs.heartbeat(resources.db, run_id, owner):
                lost.set()
                return
        except Exception:
            log.warning("sync run %s: heartbeat failed", run_id, exc_info=True)


async def _apply(resources: Resources, run_id: int, owner: str, provider: Provider, page: RawPage,
                 stored: SyncPage | None, tally: Tally, seen: set[str], categories: CategoryIds
                 ) -> None:
    assert page.items is not None
    skipped_before = tally.skipped
    records = _normalise(provider, page.items, tally, seen)
    ids = sorted({i for i in map(provider.external_id, page.items) if i is not None})
    # An ETag is kept only for a page applied whole: one with invalid items is fetched (and its
    # items reported) again next time.
    etag = page.etag if tally.skipped == skipped_before else None
    try:
        async with resources.db.transaction() as session:
            outcome = await apply_page(session, provider.name, records, categories)
            etag = etag if not outcome.errors else None
            wrote_page = await _keep_page(session, provider.name, page, etag, ids, stored)
            if outcome.changed_ids or wrote_page:
                # Progress rides along in the page's own transaction (and proves it is still ours).
                preview = _after(tally, outcome.created, outcome.updated, outcome.unchanged,
                                 len(page.items), outcome.errors)
                result = await session.execute(
                    runs.progress_statement(run_id, owner, preview.values()))
                if not result.rowcount:  # type: ignore[attr-defined]
                    raise RunLost
    except RunLost:
        raise
    except Exception as exc:
        categories.forget()
        log.warning("sync: page %s could not be applied", page.url, exc_info=True)
        tally.failed_pages += 1
        tally.errors.append(ItemError(None, f"page {page.url}: not applied: {type(exc).__name__}"))
        return
    merged = _after(tally, outcome.created, outcome.updated, outcome.unchanged, len(page.items),
                    outcome.errors)
    tally.__dict__.update(merged.__dict__)
    if outcome.changed_ids:
        # One event for the page: one cache generation bump, one indexing job, one warm-up.
        await resources.events.emit(PRODUCT_CHANGED, {"ids": outcome.changed_ids, "op": "sync"})


def _after(tally: Tally, created: list[int], updated: list[int], unchanged: int, fetched: int,
           errors: list[ItemError]) -> Tally:
    """The tally once this page's outcome counts (a copy: it holds only if the page commits)."""
    return Tally(
        pages=tally.pages, pages_done=tally.pages_done + 1, fetched=tally.fetched + fetched,
        created=tally.created + len(created), updated=tally.updated + len(updated),
        unchanged=tally.unchanged + unchanged, skipped=tally.skipped + len(errors),
        missing=tally.missing, pruned=tally.pruned, failed_pages=tally.failed_pages,
        errors=[*tally.errors, *errors])


async def _keep_page(session: AsyncSession, provider: str, page: RawPage,
                     etag: str | None, ids: list[str], stored: SyncPage | None) -> bool:
    """Remember the page's ETag and items for the next run's conditional request; no write
    when nothing about it changed."""
    key = (_pages.c.provider == provider) & (_pages.c.url == page.url)
    if etag is None:
        if stored is None:
            return False
        await session.execute(_pages.delete().where(key))
        return True
    if stored is not None and (stored.etag, stored.total, stored.external_ids) == (etag, page.total, ids):
        return False
    values = {"etag": etag, "total": page.total, "external_ids": ids, "fetched_at": utcnow()}
    if stored is None:
        await session.execute(_pages.insert().values(provider=provider, url=page.url, **values))
    else:
        await session.execute(_pages.update().where(key).values(**values))
    return True


async def _missing_and_prune(resources: Resources, run: SyncRun, provider: Provider, tally: Tally,
                             seen: set[str]) -> None:
    async with resources.db.read() as conn:
        rows = (await conn.execute(
            sa.select(_sources.c.id, _sources.c.external_id, _sources.c.product_id)
            .join(_products, _products.c.id == _sources.c.product_id)
            .where(_sources.c.provider == provider.name, _products.c.deleted_at.is_(None)))).all()
    gone = [r for r in rows if r.external_id not in seen]
    tally.missing = len(gone)
    if not gone or not run.prune:
        return
    if tally.failed_pages:
        tally.errors.append(ItemError(None, f"prune skipped: {tally.failed_pages} page(s) could "
                                            "not be fetched, so what is gone is not known"))
        return
    if not seen:
        tally.errors.append(ItemError(None, "prune skipped: the upstream listed no products"))
        return
    for start in range(0, len(gone), PRUNE_BATCH):
        batch = gone[start:start + PRUNE_BATCH]
        product_ids = [r.product_id for r in batch]
        now = utcnow()
        async with resources.db.transaction() as session:
            await session.execute(sa.update(_products).where(_products.c.id.in_(product_ids))
                                  .values(deleted_at=now, updated_at=now))
            await session.execute(sa.update(_sources).where(_sources.c.id.in_([r.id for r in batch]))
                                  .values(pruned_at=now))
            await search_outbox.enqueue(session, product_ids)
        tally.pruned += len(batch)
        await resources.events.emit(PRODUCT_CHANGED, {"ids": product_ids, "op": "delete"})
