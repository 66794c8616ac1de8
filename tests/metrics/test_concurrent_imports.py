"""Two imports of overlapping files at once: each line counts once, the rollups still equal the
facts, and neither waits on the other for ever (PostgreSQL would report a deadlock)."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from sqlalchemy import func, select

from graphql_api.core.resources import Resources
from graphql_api.metrics import ledger
from graphql_api.metrics.imports import import_file
from tests.metrics.conftest import clear_sales
from tests.metrics.retail_data import read_reference, write_file
from tests.metrics.test_rollups_property import _direct, _stored

IMPORTS = 4


async def test_overlapping_imports_at_once(resources: Resources, tmp_path: Path) -> None:
    await clear_sales(resources)
    whole = tmp_path / "whole.csv"
    write_file(whole, invoices=300, seed=23)
    expected, _ = read_reference(whole, "utf-8")
    header, *rows = whole.read_text().splitlines()
    # Each file holds a random two thirds of the lines, in its own order: an invoice's lines
    # arrive through several imports, so they place the same invoices (and products) at once.
    rng = random.Random(5)
    paths = []
    for n in range(IMPORTS):
        part = rng.sample(rows, 2 * len(rows) // 3)
        path = tmp_path / f"part-{n}.csv"
        path.write_text("\n".join([header, *part]) + "\n")
        paths.append(path)
    # Any line left out of every part is imported last, alone.
    reports = await asyncio.wait_for(
        asyncio.gather(*(import_file(resources.db, p, batch_lines=25) for p in paths)), 120)
    rest = tmp_path / "whole-again.csv"
    rest.write_text(whole.read_text())
    reports.append(await import_file(resources.db, rest))

    assert sum(r.imported for r in reports) == len(expected)
    async with resources.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(ledger.lines_table))
                ).scalar_one() == len(expected)
    facts, stored = await _stored(resources)
    assert stored == _direct(facts)
