"""GraphQL of the catalog sync: `syncStatus` and `catalogSyncTrigger`, for admins."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api.accounts.permissions import require_admin
from graphql_api.core.errors import ErrorCode, UserError
from graphql_api.core.ids import to_global_id
from graphql_api.core.pagination import Connection, PageArgs, to_connection
from graphql_api.core.scalars import Node
from graphql_api.sync import runs, service
from graphql_api.sync.models import RunStatus
from graphql_api.sync.models import SyncRun as SyncRunModel
from graphql_api.sync.provider import UnknownProvider

SyncRunStatus = strawberry.enum(
    RunStatus, name="SyncRunStatus",
    description="RUNNING; SUCCEEDED: every page fetched (invalid items may have been skipped); "
                "PARTIAL: some pages could not be fetched, the others were applied; FAILED: "
                "nothing could be fetched, or the run stopped.",
)


@strawberry.type(description="An upstream item that was skipped, or a page that failed.")
class SyncError:
    external_id: str | None = strawberry.field(description="Null for a page or run error.")
    reason: str


@strawberry.type(description="One catalog sync run and what it did.")
class SyncRun(Node):
    provider: str
    status: SyncRunStatus  # type: ignore[valid-type]
    prune: bool
    started_at: datetime
    finished_at: datetime | None
    pages: int
    pages_done: int
    fetched: int = strawberry.field(description="Upstream items seen (those of 304 pages too).")
    created: int
    updated: int
    unchanged: int
    skipped: int = strawberry.field(description="Invalid items, not applied (see `errors`).")
    missing: int = strawberry.field(description="Synced products no longer listed upstream.")
    pruned: int = strawberry.field(description="Missing products soft-deleted (with `prune`).")
    errors: list[SyncError]

    @classmethod
    def from_model(cls, run: SyncRunModel) -> SyncRun:
        assert run.id is not None
        return cls(
            id=strawberry.ID(to_global_id("SyncRun", run.id)),
            provider=run.provider,
            status=RunStatus(run.status),
            prune=run.prune,
            started_at=run.started_at,
            finished_at=run.finished_at,
            pages=run.pages,
            pages_done=run.pages_done,
            fetched=run.fetched,
            created=run.created,
            updated=run.updated,
            unchanged=run.unchanged,
            skipped=run.skipped,
            missing=run.missing,
            pruned=run.pruned,
            errors=[SyncError(external_id=e.get("external_id"), reason=e.get("reason", ""))
                    for e in run.errors],
        )


async def resolve_sync_run_node(info: Info, pk: int) -> SyncRun | None:
    await require_admin(info)
    run = await runs.get_run(info.context.resources.db, pk)
    return None if run is None else SyncRun.from_model(run)


@strawberry.type
class SyncStatus:
    configured: bool = strawberry.field(description="Whether SYNC_SOURCE_URL is set.")
    provider: str

    @strawberry.field(description="The latest finished run.")
    async def last_run(self, info: Info) -> SyncRun | None:
        run = await runs.last_finished(info.context.resources.db)
        return None if run is None else SyncRun.from_model(run)

    @strawberry.field(description="The run in progress (or queued), if any.")
    async def running(self, info: Info) -> SyncRun | None:
        run = await runs.running_run(info.context.resources.db)
        return None if run is None else SyncRun.from_model(run)

    @strawberry.field(description="Every run, newest first.")
    async def history(self, info: Info, first: int | None = None, after: str | None = None,
                      last: int | None = None, before: str | None = None) -> Connection[SyncRun]:
        resources = info.context.resources
        page = PageArgs(first, after, last, before).validated(resources.settings.max_page_size)
        result = await runs.history(resources.db, page)
        return to_connection(result, SyncRun.from_model, lambda: runs.count_runs(resources.db))


@strawberry.type
class SyncQuery:
    @strawberry.field(description="Admin: the catalog sync's last run, current run and history.")
    async def sync_status(self, info: Info) -> SyncStatus:
        await require_admin(info)
        settings = info.context.resources.settings
        return SyncStatus(configured=bool(settings.sync_source_url), provider=settings.sync_provider)


@strawberry.input
class CatalogSyncTriggerInput:
    prune: bool = strawberry.field(
        default=False, description="Soft-delete synced products that are gone upstream.")


@strawberry.type
class CatalogSyncTriggerPayload:
    run: SyncRun | None = strawberry.field(
        description="The run started, or the one already in progress.")
    started: bool = strawberry.field(description="False when a run was already in progress.")
    user_errors: list[UserError]


@strawberry.type
class SyncMutation:
    @strawberry.mutation(description="Admin: start a catalog sync (runs as a job); while one "
                                     "runs, returns that one.")
    async def catalog_sync_trigger(
        self, info: Info, input: CatalogSyncTriggerInput | None = None
    ) -> CatalogSyncTriggerPayload:
        await require_admin(info)
        prune = input.prune if input is not None else False
        try:
            claim = await service.trigger(info.context.resources, prune)
        except (service.SyncNotConfigured, UnknownProvider) as exc:
            return CatalogSyncTriggerPayload(run=None, started=False, user_errors=[
                UserError(field=None, code=ErrorCode.INVALID, message=str(exc))])
        return CatalogSyncTriggerPayload(run=SyncRun.from_model(claim.run), started=claim.started,
                                         user_errors=[])
