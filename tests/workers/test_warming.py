"""Warming fills exactly the keys storefront requests read: the first visitor after a write
costs no SQL statement at all."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from graphql_api.catalog.reads import CatalogReads, invalidate_catalog
from graphql_api.catalog.warming import (
    VIEWS_RANKING,
    product_views,
    queue_cache_warming,
    warm_catalog,
)
from graphql_api.core.ids import decode_pk
from graphql_api.core.jobs import InProcessJobs
from graphql_api.core.resources import Resources

LISTING = """
fragment Card on Product { id name slug price { amount currency } salePrice { amount }
                           thumbnail inStock rating category { slug name } }
query Storefront($slug: String!) {
  categories { slug name productCount }
  category(slug: $slug) {
    name
    products { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ...Card } } }
  }
  filtered: products(filter: {categorySlug: $slug}) {
    totalCount edges { node { ...Card } }
  }
  products { totalCount edges { node { ...Card } } }
}
"""
DETAIL = """query($slug: String, $sku: String, $id: ID) {
  bySlug: product(slug: $slug) { id name description price { amount } category { name } }
  bySku: product(sku: $sku) { id name stock }
  byId: product(id: $id) { id name images }
}"""


async def _post(client: Any, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    return response


async def _retire_catalog(resources: Resources) -> None:
    """As a write does: a new generation, everything cold (and no queued warm-up left over)."""
    if isinstance(resources.jobs, InProcessJobs):
        await resources.jobs.drain()
    await invalidate_catalog(resources)


async def _categories(gql: Any) -> list[dict[str, Any]]:
    return (await gql.data("{ categories { slug } }"))["categories"]  # type: ignore[no-any-return]


async def test_warmed_listing_pages_cost_the_first_visitor_no_sql(
    client: Any, gql: Any, resources: Resources, count_statements: Any
) -> None:
    categories = await _categories(gql)
    # Cold, the first visitor's request reads the database.
    await _retire_catalog(resources)
    with count_statements() as cold:
        await _post(client, LISTING, {"slug": categories[0]["slug"]})
    assert cold.count > 0

    await _retire_catalog(resources)
    filled = await warm_catalog(resources)
    assert filled["categories"] == 2  # the list and the product counts
    assert filled["category_pages"] == 2 * len(categories)  # a page and its count each
    assert filled["listing_pages"] == 2 * (len(categories) + 1)
    for category in (categories[0], categories[-1]):
        with count_statements() as warm:
            response = await _post(client, LISTING, {"slug": category["slug"]})
        assert "x-cache" not in response.headers  # executed, not served whole
        assert warm.count == 0, warm.statements


async def test_the_most_viewed_products_are_warmed_by_the_lookup_visitors_use(
    client: Any, gql: Any, resources: Resources, count_statements: Any
) -> None:
    page = await gql.data("{ products(first: 3, sortBy: {field: NAME, direction: ASC}) "
                          "{ edges { node { id sku slug } } } }")
    a, b, c = (e["node"] for e in page["products"]["edges"])
    variables = {"slug": a["slug"], "sku": b["sku"], "id": c["id"]}
    for _ in range(30):  # the same anonymous request: served from the response cache after one
        await _post(client, DETAIL, variables)
    top = await product_views(resources).top(5)
    pk = decode_pk(c["id"], "Product")
    assert {("slug", a["slug"]), ("sku", b["sku"]), ("id", str(pk))} <= set(top)

    await _retire_catalog(resources)
    filled = await warm_catalog(resources)
    assert filled["products"] >= 3
    with count_statements() as warm:
        await _post(client, DETAIL, variables)
    assert warm.count == 0, warm.statements


async def test_views_served_from_the_response_cache_count(client: Any, gql: Any,
                                                          resources: Resources) -> None:
    sku = (await gql.data("{ products(first: 1, sortBy: {field: PRICE, direction: DESC}) "
                          "{ edges { node { sku } } } }"))["products"]["edges"][0]["node"]["sku"]
    query = "query($sku: String) { product(sku: $sku) { name } }"
    # The ranking lives in the cache, shared with earlier tests' server processes on Redis
    # (the two-process test views one product ~50 times): start from an empty one. Keeping
    # no member is how a ranking is emptied.
    views = product_views(resources)
    await views.flush()
    await resources.cache.rank_add(VIEWS_RANKING, {"-": 1}, keep=0)
    assert await views.top(1) == []
    for _ in range(60):
        await _post(client, query, {"sku": sku})
    assert (await product_views(resources).top(1)) == [("sku", sku)]


async def test_unknown_products_are_not_ranked(client: Any, resources: Resources) -> None:
    slug = f"nothing-{uuid.uuid4().hex}"
    for _ in range(3):
        await client.post("/graphql", json={
            "query": "query($s: String) { product(slug: $s) { id } }", "variables": {"s": slug}})
    assert ("slug", slug) not in await product_views(resources).top(1000)


async def test_a_warm_up_logs_what_it_filled_and_is_not_counted_as_hits(
    resources: Resources, caplog: pytest.LogCaptureFixture
) -> None:
    await _retire_catalog(resources)
    before = await resources.cache.stats()
    with caplog.at_level(logging.INFO, logger="graphql_api.catalog.warming"):
        first = await warm_catalog(resources)
        again = await warm_catalog(resources)
    after = await resources.cache.stats()
    assert (after.hits, after.misses) == (before.hits, before.misses)
    assert first["category_pages"] > 0 and again["category_pages"] == 0
    # Every entry filled is warm now, except the detail of a ranked product deleted since it
    # was viewed (earlier tests delete some): "not found" is not cached, so it loads each time.
    vanished = await _vanished(resources)
    assert {k: again[k] for k in ("categories", "category_pages", "listing_pages")} == dict.fromkeys(
        ("categories", "category_pages", "listing_pages"), 0)
    assert again["products"] == vanished
    assert again["already_warm"] + vanished == sum(first.values())
    messages = [r.getMessage() for r in caplog.records if "cache warm-up filled" in r.getMessage()]
    assert len(messages) == 2 and f"{first['category_pages']} category pages" in messages[0]


async def test_warming_is_queued_once_for_a_burst(resources: Resources,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if not isinstance(resources.jobs, InProcessJobs):
        # On Redis, arq's side of the job id rule is tested in test_jobs.py; the in-process
        # runner is what an embedded server uses, tested here over this run's database too.
        from workers.functions import JOB_FUNCTIONS

        monkeypatch.setattr(resources, "jobs", InProcessJobs(JOB_FUNCTIONS, {"resources": resources}))
    assert isinstance(resources.jobs, InProcessJobs)
    await resources.jobs.drain()
    assert await queue_cache_warming(resources)
    assert not await queue_cache_warming(resources)  # still queued or running
    await resources.jobs.drain()
    assert await queue_cache_warming(resources)
    await resources.jobs.drain()


async def _run_queued_jobs(resources: Resources) -> None:
    if isinstance(resources.jobs, InProcessJobs):
        await resources.jobs.drain()
        return
    from arq.worker import Worker

    from workers.settings import WorkerSettings

    worker = Worker(functions=WorkerSettings.functions, redis_pool=await resources.jobs.pool(),  # type: ignore[attr-defined]
                    burst=True, poll_delay=0.05, on_startup=WorkerSettings.on_startup,
                    on_shutdown=WorkerSettings.on_shutdown, handle_signals=False)
    await worker.async_run()
    assert worker.jobs_failed == 0
    await worker.close()


async def test_after_a_burst_of_writes_one_warm_up_serves_the_first_visitor(
    client: Any, gql: Any, resources: Resources, admin_token: str, count_statements: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.catalog.test_product_admin import UPDATE

    settings = resources.settings
    page = await gql.data("{ products(first: 3) { edges { node { id stock } } } }")
    slug = (await _categories(gql))[1]["slug"]
    await _run_queued_jobs(resources)
    # The delay is what makes the writes one burst: long enough for three writes on a busy
    # CI machine (0.3 s was not, once).
    settings.cache_warm_after_writes, settings.cache_warm_delay_seconds = True, 1.5
    try:
        with caplog.at_level(logging.INFO, logger="graphql_api.catalog.warming"):
            for edge in page["products"]["edges"]:  # three writes within the delay
                node = edge["node"]
                await gql.data(UPDATE, {"id": node["id"], "input": {"stock": node["stock"] + 1}},
                               admin_token)
            await _run_queued_jobs(resources)
    finally:
        settings.cache_warm_after_writes, settings.cache_warm_delay_seconds = False, 2
    assert sum("cache warm-up filled" in r.getMessage() for r in caplog.records
               if r.name == "graphql_api.catalog.warming") == 1
    with count_statements() as warm:
        await _post(client, LISTING, {"slug": slug})
    assert warm.count == 0, warm.statements


async def _vanished(resources: Resources) -> int:
    """How many of the products a warm-up reads (the most viewed) no longer exist."""
    reads = CatalogReads(resources)
    top = await product_views(resources).top(resources.settings.cache_warm_products)
    ids = [int(v) for by, v in top if by == "id"]
    found = await reads.products_by_ids(ids)
    missing = sum(1 for i in ids if i not in found)
    for by, value in top:
        if by in ("sku", "slug") and await reads.product_by(**{by: value}) is None:
            missing += 1
    return missing
