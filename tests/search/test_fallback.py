"""Elasticsearch stopped for real (the process, SIGSTOP) and started again (SIGCONT): searches
fall back to the database, changes wait in the outbox, and are replayed once it answers."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from graphql_api.search.outbox import SearchOutbox
from tests.catalog.test_product_admin import CREATE, UPDATE, new_sku

pytestmark = pytest.mark.skipif(not os.environ.get("ELASTICSEARCH_URL"),
                                reason="the fallback is from Elasticsearch to the database")

SEARCH = "query($q: String!) { search(query: $q) { backend totalCount edges { node { id } } } }"


def _elasticsearch_pid() -> int:
    """The local Elasticsearch's process: .ci/services.sh's pid file, else the JVM running it."""
    for pid_file in glob.glob("/opt/ci-elasticsearch-*/es.pid"):
        return int(Path(pid_file).read_text())
    for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if b"org.elasticsearch.server" in Path(cmdline).read_bytes():
                return int(cmdline.split("/")[2])
    raise AssertionError("no local Elasticsearch process to stop")


@contextlib.contextmanager
def elasticsearch_stopped() -> Iterator[None]:
    pid = _elasticsearch_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


async def _outbox_size(resources: Any) -> int:
    async with resources.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(SearchOutbox))).scalar_one())


async def _eventually(check: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "did not happen in time"
        await asyncio.sleep(0.2)


async def test_elasticsearch_down_then_back(gql: Any, client: Any, admin_token: str,
                                            resources: Any, search_ready: None,
                                            worker: None) -> None:
    async def search(q: str) -> dict[str, Any]:
        return (await gql.data(SEARCH, {"q": q}))["search"]  # type: ignore[no-any-return]

    created = await gql.data(CREATE, {"input": {"sku": new_sku(), "name": "Obsidian Narwhal Mug",
                                                "price": "12", "stock": 2}}, admin_token)
    product_id = created["productCreate"]["product"]["id"]

    async def indexed(name: str) -> bool:
        result = await search(name)
        return result["backend"] == "ELASTICSEARCH" and [
            e["node"]["id"] for e in result["edges"]] == [product_id]

    await _eventually(lambda: indexed("obsidian narwhal"), 30)  # the worker may be starting
    with elasticsearch_stopped():
        down = await search("obsidian narwhal mug")  # not cached: the earlier answers may be
        assert down["backend"] == "DATABASE"
        assert [e["node"]["id"] for e in down["edges"]] == [product_id]
        ready = await client.get("/ready")
        assert ready.status_code == 200
        assert ready.json()["checks"]["search:elasticsearch"] == "degraded"
        for name in ("Basalt Narwhal Mug", "Granite Narwhal Mug"):  # twice while it is away
            await gql.data(UPDATE, {"id": product_id, "input": {"name": name}}, admin_token)
        assert await _outbox_size(resources) >= 2
        assert [e["node"]["id"] for e in (await search("granite narwhal"))["edges"]] == [
            product_id]
    # Back: the outbox is replayed in order and the product ends in its latest state.
    await _eventually(lambda: indexed("granite narwhal"), 30)
    assert (await search("basalt narwhal"))["totalCount"] == 0
    assert (await search("obsidian narwhal"))["totalCount"] == 0
    await _eventually(lambda: _zero(resources), 10)
    assert (await client.get("/ready")).json()["checks"]["search:elasticsearch"] == "ok"


async def _zero(resources: Any) -> bool:
    return await _outbox_size(resources) == 0
