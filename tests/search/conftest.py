"""The search adapters under test: the database one always, Elasticsearch when configured."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from graphql_api.core.resources import Resources
from graphql_api.search.port import SearchBackend
from tests.servers import ROOT

ADAPTERS = ["database", *(["elasticsearch"] if os.environ.get("ELASTICSEARCH_URL") else [])]


@pytest.fixture(scope="module", params=ADAPTERS)
async def backend(request: Any, resources: Resources) -> AsyncIterator[SearchBackend]:
    """An adapter over the suite's catalog; Elasticsearch's on an index of its own, built now."""
    if request.param == "database":
        from graphql_api.search.database import DatabaseSearch

        yield DatabaseSearch(resources.db)
        return
    from graphql_api.search.elastic import ElasticsearchSearch

    settings = resources.settings.model_copy(
        update={"elasticsearch_index": f"test-shared-{uuid.uuid4().hex[:8]}"})
    elastic = ElasticsearchSearch(settings, resources.db)
    await elastic.reindex()
    try:
        yield elastic
    finally:
        await elastic.drop()
        await elastic.close()


@pytest.fixture(scope="module")
async def search_ready(resources: Any) -> None:
    """Elasticsearch builds its first index in the background at start-up: wait for it."""
    deadline = time.monotonic() + 90
    while await resources.search.state() != "ok":
        assert time.monotonic() < deadline, "the search index was not built in 90 s"
        await asyncio.sleep(0.5)


@pytest.fixture(scope="module")
def worker(prepared: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """With Redis, jobs (indexing among them) run in arq workers: one, as deployed."""
    if not os.environ.get("REDIS_URL"):
        yield  # the in-process runner runs them
        return
    log = Path(tmp_path_factory.mktemp("worker")) / "worker.log"
    env = dict(os.environ, DATA_DIR=str(prepared.data_dir), LOG_LEVEL="INFO")
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "graphql_api", "worker"], env=env,
                                   cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=15)
