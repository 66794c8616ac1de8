"""Recorded runs: one RUNNING row at a time (a partial unique index), adopted by the process
that runs it, kept alive by its heartbeat, and taken for dead when the heartbeat stops."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from graphql_api.core.database import Database
from graphql_api.core.models import utcnow
from graphql_api.core.pagination import KeyColumn, Page, PageArgs, SortKey, build_page, keyset_statement
from graphql_api.sync.models import RunStatus, SyncRun

log = logging.getLogger(__name__)

MAX_ERRORS = 500  # recorded per run; the counts stay exact beyond it
_runs = SyncRun.__table__  # type: ignore[attr-defined]
_running = col(SyncRun.status) == RunStatus.RUNNING.value


def new_owner() -> str:
    """Names the process (and the run within it) that holds a run."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Claim:
    run: SyncRun
    started: bool  # False: another run was in progress and `run` is that one


async def running_run(db: Database) -> SyncRun | None:
    async with db.session() as session:
        return (await session.scalars(select(SyncRun).where(_running))).first()


def _is_stale(run: SyncRun, stale_after: float) -> bool:
    alive_at = run.heartbeat_at or run.started_at
    return utcnow() - alive_at > timedelta(seconds=stale_after)


async def fail_stale(db: Database, run: SyncRun, reason: str) -> bool:
    """Mark a run whose process died as FAILED, if it is still RUNNING."""
    async with db.transaction() as session:
        result = await session.execute(
            update(_runs).where(_runs.c.id == run.id, _running)
            .values(status=RunStatus.FAILED.value, finished_at=utcnow(),
                    errors=[*run.errors, {"external_id": None, "reason": reason}][-MAX_ERRORS:]))
    if result.rowcount:  # type: ignore[attr-defined]
        log.warning("sync run %s abandoned by %s: marked FAILED", run.id, run.owner or "its job")
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def claim(db: Database, provider: str, prune: bool, owner: str | None,
                stale_after: float) -> Claim:
    """Start a run, or return the one in progress.

    With `owner` None the run is queued: the job that runs it adopts it (`adopt`). With an owner
    this process runs it now; a queued run of someone else's trigger is adopted instead, so a
    trigger racing the cron still ends up as one run.
    """
    for _ in range(5):
        current = await running_run(db)
        if current is not None:
            if _is_stale(current, stale_after):
                await fail_stale(db, current, "the process running it stopped (no heartbeat for "
                                              f"{stale_after:.0f} s); a later run takes over")
                continue
            if owner is not None and current.owner is None:
                adopted = await adopt(db, current, owner)
                if adopted is not None:
                    return Claim(adopted, True)
                continue
            return Claim(current, False)
        run = SyncRun(provider=provider, status=RunStatus.RUNNING.value, prune=prune, owner=owner,
                      heartbeat_at=utcnow() if owner else None)
        try:
            async with db.transaction() as session:
                session.add(run)
        except IntegrityError:
            continue  # another process started one first: report that one
        return Claim(run, True)
    raise RuntimeError("could not claim a sync run")  # a storm of crashing runs


async def adopt(db: Database, run: SyncRun, owner: str) -> SyncRun | None:
    async with db.transaction() as session:
        result = await session.execute(
            update(_runs).where(_runs.c.id == run.id, _running, _runs.c.owner.is_(None))
            .values(owner=owner, heartbeat_at=utcnow()))
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    return await get_run(db, run.id)  # type: ignore[arg-type]


async def queued_run(db: Database) -> SyncRun | None:
    """A RUNNING run no process has adopted yet (its trigger queued a job for it)."""
    run = await running_run(db)
    return run if run is not None and run.owner is None else None


async def heartbeat(db: Database, run_id: int, owner: str) -> bool:
    """False when the run is no longer ours (taken for dead and failed by another process)."""
    async with db.transaction() as session:
        result = await session.execute(
            update(_runs).where(_runs.c.id == run_id, _running, _runs.c.owner == owner)
            .values(heartbeat_at=utcnow()))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def progress_statement(run_id: int, owner: str, values: dict[str, Any]) -> Any:
    """The UPDATE recording a run's progress; it matches nothing once the run is not ours."""
    return (update(_runs).where(_runs.c.id == run_id, _running, _runs.c.owner == owner)
            .values(heartbeat_at=utcnow(), **values))


async def get_run(db: Database, run_id: int) -> SyncRun | None:
    async with db.session() as session:
        return await session.get(SyncRun, run_id)


async def last_finished(db: Database) -> SyncRun | None:
    async with db.session() as session:
        stmt = (select(SyncRun).where(col(SyncRun.status) != RunStatus.RUNNING.value)
                .order_by(col(SyncRun.id).desc()).limit(1))
        return (await session.scalars(stmt)).first()


_NEWEST_FIRST = SortKey(columns=[KeyColumn(col(SyncRun.id), int)], descending=True)


async def history(db: Database, page: PageArgs) -> Page[SyncRun]:
    """Every run, newest first (ids grow with start times)."""
    async with db.session() as session:
        rows = list(await session.scalars(keyset_statement(select(SyncRun), _NEWEST_FIRST, page)))
    return build_page(rows, page, lambda run: [run.id])


async def count_runs(db: Database) -> int:
    async with db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(_runs)) or 0)
