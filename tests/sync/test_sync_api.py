"""The sync through GraphQL: catalogSyncTrigger runs a job (in-process, or an arq worker on
Redis), syncStatus shows it; both are for admins only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from graphql_api.core.jobs import ArqJobs, InProcessJobs
from graphql_api.core.resources import Resources
from tests.conftest import GraphQLClient
from tests.sync.conftest import run_sync
from tests.sync.upstream import Upstream

Start = Callable[[int], Awaitable[Upstream]]

TRIGGER = """mutation($prune: Boolean!) { catalogSyncTrigger(input: {prune: $prune}) {
  started run { id status prune } userErrors { code message } } }"""
RUN_FIELDS = """id status startedAt finishedAt fetched created updated unchanged skipped missing
  pruned errors { externalId reason }"""
STATUS = f"""query($first: Int, $after: String) {{ syncStatus {{ configured provider
  lastRun {{ {RUN_FIELDS} }} running {{ id status }}
  history(first: $first, after: $after) {{ totalCount pageInfo {{ hasNextPage endCursor }}
    edges {{ node {{ id status created }} }} }} }} }}"""


@pytest.fixture
def configured(resources: Resources, monkeypatch: pytest.MonkeyPatch) -> Callable[[str | None], None]:
    def point(url: str | None) -> None:
        monkeypatch.setattr(resources.settings, "sync_source_url", url)

    return point


async def run_queued_jobs(resources: Resources) -> None:
    """What a worker does: in-process jobs are awaited; on Redis, an arq worker runs the queue."""
    if isinstance(resources.jobs, InProcessJobs):
        await resources.jobs.drain()
        return
    assert isinstance(resources.jobs, ArqJobs)
    from arq.worker import Worker

    from workers.functions import JOB_FUNCTIONS

    worker = Worker(functions=JOB_FUNCTIONS, redis_pool=await resources.jobs.pool(), burst=True,
                    poll_delay=0.05, keep_result=0, ctx={"resources": resources},
                    handle_signals=False)
    await worker.async_run()
    assert worker.jobs_failed == 0
    await worker.close()


async def test_only_admins_see_and_trigger_the_sync(gql: GraphQLClient, customer_token: str) -> None:
    for token, code in ((None, "UNAUTHENTICATED"), (customer_token, "FORBIDDEN")):
        for query, variables in ((STATUS, None), (TRIGGER, {"prune": False})):
            body = await gql(query, variables, token=token)
            assert body["errors"][0]["extensions"]["code"] == code, body


async def test_an_unconfigured_sync_is_a_user_error(gql: GraphQLClient, admin_token: str,
                                                    configured: Callable[[str | None], None]) -> None:
    configured(None)
    data = await gql.data(TRIGGER, {"prune": False}, token=admin_token)
    payload = data["catalogSyncTrigger"]
    assert payload["run"] is None and payload["started"] is False
    assert payload["userErrors"][0]["code"] == "INVALID"
    assert "SYNC_SOURCE_URL" in payload["userErrors"][0]["message"]
    status = (await gql.data(STATUS, token=admin_token))["syncStatus"]
    assert status["configured"] is False and status["lastRun"] is None and status["running"] is None


async def test_trigger_runs_the_sync_and_status_shows_it(
        gql: GraphQLClient, admin_token: str, resources: Resources, upstream: Start,
        configured: Callable[[str | None], None]) -> None:
    server = await upstream(120)
    configured(server.url)
    # Two admins press the button at once: one run.
    first, second = await asyncio.gather(*(gql.data(TRIGGER, {"prune": False}, token=admin_token)
                                           for _ in range(2)))
    payloads = [first["catalogSyncTrigger"], second["catalogSyncTrigger"]]
    assert sorted(p["started"] for p in payloads) == [False, True]
    assert payloads[0]["run"]["id"] == payloads[1]["run"]["id"]
    assert payloads[0]["run"]["status"] == "RUNNING"
    if isinstance(resources.jobs, ArqJobs):  # queued, no worker yet: it shows as running
        running = (await gql.data(STATUS, token=admin_token))["syncStatus"]["running"]
        assert running["id"] == payloads[0]["run"]["id"]
    await run_queued_jobs(resources)

    status = (await gql.data(STATUS, token=admin_token))["syncStatus"]
    assert status["running"] is None and status["configured"] and status["provider"] == "dummyjson"
    last = status["lastRun"]
    assert last["id"] == payloads[0]["run"]["id"]
    assert (last["status"], last["fetched"], last["created"], last["errors"]) == (
        "SUCCEEDED", 120, 120, [])
    # The products are browsable, by SKU and in listings of their category.
    sku = server.item(8)["sku"]
    product = (await gql.data('query($sku: String!) { product(sku: $sku) { name category { slug } } }',
                              {"sku": sku}))["product"]
    assert product == {"name": server.item(8)["title"], "category": {"slug": server.item(8)["category"]}}
    node = (await gql.data('query($id: ID!) { node(id: $id) { ... on SyncRun { created } } }',
                           {"id": last["id"]}, token=admin_token))["node"]
    assert node == {"created": 120}


async def test_a_pruning_trigger_prunes(
        gql: GraphQLClient, admin_token: str, resources: Resources, upstream: Start,
        configured: Callable[[str | None], None]) -> None:
    server = await upstream(30)
    configured(server.url)
    await run_sync(resources, server)
    server.remove(4, 5)
    payload = (await gql.data(TRIGGER, {"prune": True}, token=admin_token))["catalogSyncTrigger"]
    assert payload["started"] and payload["run"]["prune"] is True
    await run_queued_jobs(resources)
    last = (await gql.data(STATUS, token=admin_token))["syncStatus"]["lastRun"]
    assert (last["status"], last["missing"], last["pruned"], last["fetched"]) == ("SUCCEEDED", 2, 2, 28)
    gone = await gql.data('query($sku: String!) { product(sku: $sku) { id } }',
                          {"sku": f"{server.prefix}-000004"})
    assert gone["product"] is None


async def test_history_is_a_connection_newest_first(
        gql: GraphQLClient, admin_token: str, resources: Resources, upstream: Start) -> None:
    server = await upstream(10)
    ids = [(await run_sync(resources, server)).id for _ in range(3)]
    page = (await gql.data(STATUS, {"first": 2}, token=admin_token))["syncStatus"]["history"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    from graphql_api.core.ids import to_global_id

    newest = [to_global_id("SyncRun", i) for i in reversed(ids)]
    assert [e["node"]["id"] for e in page["edges"]] == newest[:2]
    assert [e["node"]["created"] for e in page["edges"]] == [0, 0]
    rest = (await gql.data(STATUS, {"first": 2, "after": page["pageInfo"]["endCursor"]},
                           token=admin_token))["syncStatus"]["history"]
    assert [e["node"]["id"] for e in rest["edges"]] == newest[2:]
    assert not rest["pageInfo"]["hasNextPage"]


async def test_synced_changes_reach_product_subscribers(
        gql: GraphQLClient, resources: Resources, upstream: Start) -> None:
    """A page's one batched event still names each product for `productChanged`."""
    server = await upstream(10)
    await run_sync(resources, server)
    from graphql_api.core.events import PRODUCT_CHANGED, channel

    seen: list[dict[str, Any]] = []
    ready = asyncio.Event()

    async def listen() -> None:
        async with resources.pubsub.subscribe(channel(PRODUCT_CHANGED)) as messages:
            ready.set()
            async for message in messages:
                seen.append(message)
                if message.get("op") == "sync":
                    return

    task = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), 5)
    await asyncio.sleep(0.1)
    server.item(2)["price"] = 77
    await run_sync(resources, server)
    await asyncio.wait_for(task, 5)
    assert seen[-1]["op"] == "sync" and len(seen[-1]["ids"]) == 1
