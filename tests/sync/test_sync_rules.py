"""Every sync rule against the real upstream server, on whichever database the run uses."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text, update

from graphql_api.catalog.models import Category, Product
from graphql_api.core.models import utcnow
from graphql_api.core.resources import Resources
from graphql_api.sync import runs
from graphql_api.sync.fetch import FetchPolicy
from graphql_api.sync.models import ProductSource, RunStatus, SyncRun
from tests.sync.conftest import catalog_writes, generation, run_sync, settle, source
from tests.sync.upstream import Upstream

Start = Callable[[int], Awaitable[Upstream]]


async def synced_products(resources: Resources, upstream: Upstream) -> dict[str, Any]:
    """{sku: product row} of this upstream's products, deleted ones included."""
    async with resources.db.read() as conn:
        rows = await conn.execute(select(Product).where(
            Product.sku.like(f"{upstream.prefix}-%")))  # type: ignore[attr-defined]
        return {r.sku: r for r in rows}


async def test_first_run_creates_and_second_run_writes_nothing(
        resources: Resources, upstream: Start, count_statements: Any) -> None:
    server = await upstream(230)  # 5 pages of 50, the last one short
    first = await run_sync(resources, server)
    assert (first.status, first.fetched, first.created, first.updated, first.unchanged,
            first.skipped) == (RunStatus.SUCCEEDED, 230, 230, 0, 0, 0)
    assert first.pages == first.pages_done == 5 and first.finished_at is not None
    products = await synced_products(resources, server)
    assert len(products) == 230
    item = server.item(7)
    row = products[item["sku"]]
    assert (row.name, str(row.price), row.stock, row.brand, row.discount_percent) == (
        item["title"], f"{item['price']:.2f}", item["stock"], item.get("brand"),
        round(item["discountPercentage"]))
    assert row.tags == item["tags"] and row.images == item["images"]
    async with resources.db.read() as conn:
        slugs = set((await conn.execute(select(Category.slug))).scalars())
    assert {"smartphones", "laptops", "home-decoration", "groceries"} <= slugs
    assert all(p.category_id is not None for p in products.values())

    before = await generation(resources)
    with count_statements() as counter:
        second = await run_sync(resources, server)
    assert (second.status, second.fetched, second.created, second.updated, second.unchanged) == (
        RunStatus.SUCCEEDED, 230, 0, 0, 230)
    assert server.requests["304"] == 5  # every page answered "not modified"
    assert catalog_writes(counter.statements) == []
    assert await generation(resources) == before


async def test_without_etags_an_unchanged_upstream_still_writes_nothing(
        resources: Resources, upstream: Start, count_statements: Any) -> None:
    server = await upstream(120)
    server.etags = False
    await run_sync(resources, server)
    before = await generation(resources)
    with count_statements() as counter:
        again = await run_sync(resources, server)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 120)
    assert server.requests["304"] == 0
    assert catalog_writes(counter.statements) == []
    assert await generation(resources) == before


async def test_changed_items_are_updated_and_only_they(resources: Resources, upstream: Start,
                                                      count_statements: Any) -> None:
    server = await upstream(150)
    await run_sync(resources, server)
    server.item(3)["price"] = 999.99
    server.item(120)["price"] = 1.25
    server.item(120)["title"] = "Renamed upstream"
    before = await generation(resources)
    with count_statements() as counter:
        run = await run_sync(resources, server)
    assert (run.created, run.updated, run.unchanged) == (0, 2, 148)
    products = await synced_products(resources, server)
    assert str(products[server.item(3)["sku"]].price) == "999.99"
    renamed = products[server.item(120)["sku"]]
    assert renamed.name == "Renamed upstream" and renamed.slug.startswith("renamed-upstream")
    # Two changed pages: two cache generations, no more; each page noted for the search index
    # in its own transaction.
    after = await generation(resources)
    if before is not None:
        assert after == before + 2
    outbox = [s for s in catalog_writes(counter.statements) if "search_outbox" in s.split("(")[0]]
    assert sum(s.lstrip().upper().startswith("INSERT") for s in outbox) == 2


async def test_synced_products_are_searchable(resources: Resources, upstream: Start,
                                              gql: Any) -> None:
    server = await upstream(20)
    await run_sync(resources, server)
    from workers.functions import index_search

    await index_search({"resources": resources})  # what the queued job does (arq or in-process)
    query = 'query($q: String!) { search(query: $q, first: 50) { totalCount backend } }'
    found = (await gql.data(query, {"q": f"{server.prefix} item"}))["search"]
    assert found["totalCount"] == 20, found


async def test_gone_products_are_reported_and_pruned_only_when_asked(
        resources: Resources, upstream: Start) -> None:
    server = await upstream(100)
    await run_sync(resources, server)
    gone = [server.item(i)["sku"] for i in (5, 60)]
    server.remove(5, 60)
    reported = await run_sync(resources, server)
    assert (reported.missing, reported.pruned, reported.fetched) == (2, 0, 98)
    products = await synced_products(resources, server)
    assert all(products[sku].deleted_at is None for sku in gone)

    pruned = await run_sync(resources, server, prune=True)
    assert (pruned.status, pruned.missing, pruned.pruned, pruned.created, pruned.updated) == (
        RunStatus.SUCCEEDED, 2, 2, 0, 0)
    products = await synced_products(resources, server)
    assert all(products[sku].deleted_at is not None for sku in gone)
    assert sum(p.deleted_at is None for p in products.values()) == 98

    # Back upstream: the pruned product is live again.
    from tests.sync.upstream import product

    server.products.append(product(5, server.prefix))
    back = await run_sync(resources, server, prune=True)
    assert (back.updated, back.missing, back.pruned) == (1, 0, 0)  # 60 is gone already
    products = await synced_products(resources, server)
    assert products[gone[0]].deleted_at is None


async def test_invalid_items_are_skipped_and_recorded(resources: Resources, upstream: Start) -> None:
    server = await upstream(60)
    del server.item(2)["price"]
    server.item(3)["stock"] = -4
    server.item(4)["price"] = "twelve"
    server.item(5)["title"] = None
    server.item(6)["images"] = "not a list"
    server.products.append({"title": "no id", "price": 3})
    run = await run_sync(resources, server)
    assert run.status == RunStatus.SUCCEEDED
    assert (run.fetched, run.created, run.skipped) == (61, 55, 6)
    reasons = {e["external_id"]: e["reason"] for e in run.errors}
    assert reasons["2"] == "price: missing"
    assert reasons["3"].startswith("stock: out of range")
    assert reasons["4"].startswith("price: not a number")
    assert reasons["5"] == "title: missing"
    assert reasons["6"].startswith("images:")
    assert reasons[None] == "no usable `id`"
    # The broken pages keep no ETag: they are read (and reported) again, not skipped as a 304.
    again = await run_sync(resources, server)
    assert (again.created, again.skipped, again.unchanged) == (0, 6, 55)
    # Fixed upstream: created.
    server.item(2)["price"] = 10
    fixed = await run_sync(resources, server)
    assert (fixed.created, fixed.skipped) == (1, 5)


async def test_categories_are_created_once_by_slug(resources: Resources, upstream: Start) -> None:
    server = await upstream(4)
    for i, name in enumerate(["Garden Tools", "garden-tools", "GARDEN  tools", None], start=1):
        server.item(i)["category"] = name
    run = await run_sync(resources, server)
    assert run.created == 4
    products = sorted((await synced_products(resources, server)).values(), key=lambda p: p.sku)
    async with resources.db.read() as conn:
        garden = await conn.scalar(select(Category.id).where(Category.slug == "garden-tools"))
    assert [p.category_id for p in products] == [garden, garden, garden, None]


async def test_a_sku_held_by_another_product_is_refused(resources: Resources, upstream: Start) -> None:
    server = await upstream(10)
    async with resources.db.read() as conn:
        demo_sku = await conn.scalar(select(Product.sku).where(
            Product.deleted_at.is_(None)).limit(1))  # type: ignore[union-attr]
    server.item(1)["sku"] = demo_sku
    run = await run_sync(resources, server)
    assert (run.created, run.skipped) == (9, 1)
    assert run.errors == [{"external_id": "1", "reason": f"sku {demo_sku!r} belongs to another product"}]


async def test_rate_limits_and_5xx_bursts_mid_run_still_succeed(resources: Resources, upstream: Start
                                                              ) -> None:
    server = await upstream(200)
    server.rate_limit_next, server.retry_after = 2, "0"
    server.fail_next, server.reset_next = 3, 2
    # Seven failures in a row could all land on one page: allow it that many retries.
    patient = FetchPolicy(timeout=0.5, concurrency=4, attempts=8, backoff=0.01, max_backoff=0.05)
    run = await run_sync(resources, server, policy=patient)
    assert (run.status, run.created) == (RunStatus.SUCCEEDED, 200)
    assert server.requests["429"] == 2 and server.requests["503"] == 3


async def test_crash_and_resume(resources: Resources, upstream: Start) -> None:
    """The upstream resets every connection from page 3 on: pages before are committed, the run
    is PARTIAL and prunes nothing; the next run completes the catalog."""
    server = await upstream(250)
    await run_sync(resources, server)
    server.remove(1)
    server.reset_from_skip = 150
    broken = await run_sync(resources, server, prune=True)
    assert broken.status == RunStatus.PARTIAL
    assert broken.pages_done == 3 and broken.fetched == 150
    assert broken.pruned == 0
    assert any(e["reason"].startswith("prune skipped") for e in broken.errors)
    assert sum(e["reason"].startswith("page ") for e in broken.errors) == 2


async def test_resume_completes_what_a_broken_run_left(resources: Resources, upstream: Start) -> None:
    fresh = await upstream(250)
    fresh.reset_from_skip = 150
    partial = await run_sync(resources, fresh)
    assert (partial.status, partial.created) == (RunStatus.PARTIAL, 150)
    assert len(await synced_products(resources, fresh)) == 150
    fresh.reset_from_skip = None
    resumed = await run_sync(resources, fresh)
    assert (resumed.status, resumed.created, resumed.unchanged) == (RunStatus.SUCCEEDED, 100, 150)
    assert len(await synced_products(resources, fresh)) == 250


async def test_the_first_page_failing_fails_the_run(resources: Resources, upstream: Start) -> None:
    server = await upstream(50)
    server.reset_from_skip = 0
    run = await run_sync(resources, server)
    assert (run.status, run.fetched, run.pages_done) == (RunStatus.FAILED, 0, 0)
    assert "connection error" in run.errors[0]["reason"]


async def test_one_run_at_a_time(resources: Resources, upstream: Start) -> None:
    server = await upstream(200)
    server.delay_seconds = 0.1
    results = await asyncio.gather(*(
        runs.claim(resources.db, "dummyjson", False, runs.new_owner(), 120) for _ in range(5)))
    started = [c for c in results if c.started]
    assert len(started) == 1
    assert {c.run.id for c in results} == {started[0].run.id}
    # A second sync while one is running returns nothing to do.
    from graphql_api.sync import service

    assert await service.sync_catalog(resources, False, source(server)) is None
    await runs.fail_stale(resources.db, started[0].run, "test over")


async def test_a_run_whose_process_died_is_taken_over(resources: Resources, upstream: Start) -> None:
    server = await upstream(40)
    dead = SyncRun(provider="dummyjson", status="RUNNING", owner="gone:1:x",
                   started_at=utcnow() - timedelta(hours=1),
                   heartbeat_at=utcnow() - timedelta(minutes=10))
    async with resources.db.transaction() as session:
        session.add(dead)
    run = await run_sync(resources, server)
    assert (run.status, run.created) == (RunStatus.SUCCEEDED, 40)
    stale = await runs.get_run(resources.db, dead.id)  # type: ignore[arg-type]
    assert stale is not None and stale.status == RunStatus.FAILED
    assert "no heartbeat" in stale.errors[-1]["reason"]


async def wait_for_a_page(resources: Resources) -> SyncRun:
    """The running run, once it has committed a page (a busy machine may take a while)."""
    for _ in range(1000):
        running = await runs.running_run(resources.db)
        if running is not None and running.pages_done >= 1:
            return running
        await asyncio.sleep(0.02)
    raise AssertionError("no page was committed within 20 s")


async def test_a_run_failed_by_another_process_stops_writing(resources: Resources, upstream: Start
                                                             ) -> None:
    server = await upstream(300)
    server.delay_seconds = 0.05
    from graphql_api.sync import service

    task = asyncio.create_task(service.sync_catalog(resources, False, source(server)))
    running = await wait_for_a_page(resources)
    async with resources.db.transaction() as session:
        await session.execute(update(SyncRun).where(SyncRun.id == running.id)  # type: ignore[arg-type]
                              .values(status="FAILED"))
    run = await task
    assert run is not None and run.status == RunStatus.FAILED
    assert run.pages_done < 6
    await settle(resources)


async def test_the_sources_table_maps_each_item_once(resources: Resources, upstream: Start) -> None:
    server = await upstream(30)
    await run_sync(resources, server)
    await run_sync(resources, server)
    async with resources.db.read() as conn:
        count = await conn.scalar(select(func.count()).select_from(ProductSource))
        dupes = await conn.scalar(text(
            "SELECT count(*) FROM (SELECT external_id FROM product_source "
            "GROUP BY provider, external_id HAVING count(*) > 1) d"))
    assert count == 30 and dupes == 0


async def test_a_cancelled_run_is_recorded_as_failed(resources: Resources, upstream: Start) -> None:
    """A job timeout cancels the job: the run says so at once instead of going stale."""
    server = await upstream(300)
    server.hold_from_skip = 90  # the run cannot finish before it is cancelled
    from graphql_api.sync import service

    task = asyncio.create_task(service.sync_catalog(resources, False, source(server)))
    try:
        running = await wait_for_a_page(resources)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        server.release.set()
    run = await runs.get_run(resources.db, running.id)  # type: ignore[arg-type]
    assert run is not None and run.status == RunStatus.FAILED, run
    assert run.errors[-1]["reason"] == "the run was cancelled"
    assert await runs.running_run(resources.db) is None
