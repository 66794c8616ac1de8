"""What a cancellation-safe checkout costs: `Database.read()` against a plain `engine.connect()`.

    python bench/db_checkout.py [--reads 3000] [--concurrency 16]
    DATABASE_URL=postgresql+asyncpg://... python bench/db_checkout.py

`Database.read()` runs the pool checkout in a shielded task of its own, so that a cancellation
landing mid-checkout cannot leak the connection (see core/database.py). The baseline is the same
read engine used the plain way (`async with engine.connect()`), in the same run, on the same pool.
Each read is one `SELECT 1`; reads run `--concurrency` at a time. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import text

from graphql_api.core.database import Database
from graphql_api.core.settings import Settings

SELECT_1 = text("SELECT 1")


async def ours(db: Database) -> None:
    async with db.read() as conn:
        await conn.execute(SELECT_1)


async def baseline(db: Database) -> None:
    async with db.read_engine.connect() as conn:
        await conn.execute(SELECT_1)


async def timed(read: Callable[[Database], Awaitable[None]], db: Database, reads: int,
                concurrency: int) -> float:
    """Microseconds per read, wall clock, `concurrency` reads in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await read(db)

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(reads)))
    return (time.perf_counter() - start) / reads * 1e6


async def main(reads: int, concurrency: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(data_dir=Path(data), database_url=os.environ.get("DATABASE_URL"))
        db = Database(settings)
        try:
            await timed(baseline, db, 200, concurrency)  # warm the pool
            figures: dict[str, list[float]] = {"baseline": [], "ours": []}
            for _ in range(rounds):  # interleaved, so drift in the machine hits both alike
                figures["baseline"].append(await timed(baseline, db, reads, concurrency))
                figures["ours"].append(await timed(ours, db, reads, concurrency))
        finally:
            await db.close()
    base = statistics.median(figures["baseline"])
    print(f"database: {db.dialect}; {reads} reads x {rounds} rounds, {concurrency} in flight\n")
    print("| read | µs per read (median of rounds) | vs baseline |")
    print("|---|---|---|")
    for name, values in figures.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.0f} | {median / base:.2f}x |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.reads, args.concurrency, args.rounds))
