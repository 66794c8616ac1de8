"""`import-transactions`: a retail CSV into the sales facts, in batches of one transaction each.

Memory stays flat (rows stream through one batch at a time); a bad row is counted and noted,
never fatal; importing the same file again inserts nothing (the facts' natural key).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from graphql_api.core.database import Database
from graphql_api.metrics import ledger
from graphql_api.metrics.retail_csv import BadRow, RetailFile

BATCH_LINES = 20_000  # a fifth faster than 5,000 at 300,000 lines; ~25 MB of lines a batch
WRITERS = 2  # batch transactions at once on PostgreSQL: 14.4 -> 10.3 s at 300,000 lines
KEPT_BAD_ROWS = 1_000  # the report names this many; the count covers them all


@dataclass
class ImportReport:
    encoding: str
    rows: int = 0  # data rows read
    imported: int = 0  # new sales lines
    already_present: int = 0  # rows whose line was there before (a re-import, a listed-twice line)
    bad: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)


Progress = Callable[[int, int], None]  # (bytes read, file size)


async def import_file(db: Database, path: Path, *, batch_lines: int = BATCH_LINES,
                      progress: Progress | None = None, writers: int | None = None
                      ) -> ImportReport:
    source = RetailFile(path)
    report = ImportReport(encoding=source.encoding)
    size = source.size  # progress is by bytes: counting lines would take another pass
    await write_batches(db, _batches(source, batch_lines, report), report,
                        None if progress is None else lambda: progress(source.bytes_read, size),
                        writers)
    if progress is not None:
        progress(size, size)
    return report


def _batches(source: RetailFile, batch_lines: int, report: ImportReport
             ) -> Iterator[list[ledger.NewLine]]:
    """The file's sales lines in batches; rows and refusals are counted into `report`."""
    batch: list[ledger.NewLine] = []
    for item in source:
        report.rows += 1
        if isinstance(item, BadRow):
            report.bad += 1
            if len(report.bad_rows) < KEPT_BAD_ROWS:
                report.bad_rows.append(item)
            continue
        batch.append(item)
        if len(batch) >= batch_lines:
            yield batch
            batch = []
    if batch:
        yield batch


class Counts(Protocol):
    imported: int  # new sales lines
    already_present: int


async def write_batches(db: Database, batches: Iterator[list[ledger.NewLine]], counts: Counts,
                        after_batch: Callable[[], None] | None = None,
                        writers: int | None = None) -> None:
    """Each batch through the ledger in a transaction of its own (a failed batch rolls back
    alone; the first failure stops the import and is raised). Batches are made in a thread
    while others are written, and on PostgreSQL `WRITERS` transactions run at once: one
    batch's fact-table insert overlaps another's roll-ups, on two server processes (the ledger
    is safe for concurrent writers, see `ledger.record`). SQLite has one writer: one at a time,
    whatever `writers` says."""
    if db.engine.dialect.name != "postgresql":
        writers = 1  # a second writer would fail on the database lock, not wait
    elif writers is None:
        writers = WRITERS
    ready: asyncio.Queue[list[ledger.NewLine] | None] = asyncio.Queue(maxsize=1)
    parsing: asyncio.Future[list[ledger.NewLine] | None] | None = None

    async def produce() -> None:
        nonlocal parsing
        while True:
            parsing = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
            if (batch := await asyncio.shield(parsing)) is None:
                break
            await ready.put(batch)
        for _ in range(writers):
            await ready.put(None)

    async def write() -> None:
        while (batch := await ready.get()) is not None:
            async with db.engine.begin() as conn:
                new = await ledger.record(conn, batch)
            counts.imported += new
            counts.already_present += len(batch) - new
            if after_batch is not None:
                after_batch()

    tasks = [asyncio.ensure_future(produce()),
             *(asyncio.ensure_future(write()) for _ in range(writers))]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        # Every other transaction rolled back, and the parsing thread done, before returning.
        await asyncio.gather(*tasks, return_exceptions=True)
        if parsing is not None:
            with contextlib.suppress(BaseException):
                await parsing
