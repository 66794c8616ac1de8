"""`graphql-api` / `python -m graphql_api`: serve, migrate, seed, reindex, sync, create-admin,
export-schema, worker, playground-assets, import-transactions."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from datetime import date
from pathlib import Path

from graphql_api.core.settings import ConfigurationError, Settings, get_settings

log = logging.getLogger("graphql_api")
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schema.graphql"


def export_schema_text(settings: Settings) -> str:
    from graphql_api.schema import build_schema

    return build_schema(settings).as_str() + "\n"


async def _prepare(settings: Settings) -> None:
    """Embedded start-up: migrate the SQLite file and load the demo catalog the first time."""
    from graphql_api.core.migrate import upgrade

    if settings.should_auto_migrate:
        await upgrade(settings)
    if settings.should_seed_demo:
        from graphql_api.catalog.seed import seed_demo_catalog
        from graphql_api.core.database import Database

        db = Database(settings)
        try:
            result = await seed_demo_catalog(db)
        finally:
            await db.close()
        if result.products_created:
            log.info("loaded the demo catalog: %d products", result.products_created)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    asyncio.run(_prepare(settings))
    if settings.graphiql_enabled:
        from graphql_api.playground import ensure

        ensure()  # once: later starts find the assets; on failure GraphiQL uses a CDN
    settings.signing_secret()  # create the embedded secret once, before workers race for it
    if args.workers > 1 and not settings.redis_url and settings.cache_enabled:
        # In-process caches cannot see each other's invalidations: stale reads across workers.
        log.warning("several workers without REDIS_URL: the cache is off and subscriptions see "
                    "only their own worker's events; set REDIS_URL to share them")
        os.environ["CACHE_ENABLED"] = "false"
    uvicorn.run(
        "graphql_api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=None if args.reload else args.workers,
        reload=args.reload,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
    )
    return 0


def cmd_migrate(_: argparse.Namespace, settings: Settings) -> int:
    from graphql_api.core.migrate import upgrade

    asyncio.run(upgrade(settings))
    print("database is at the latest revision")
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    from graphql_api.catalog.seed import seed_demo_catalog
    from graphql_api.core.database import Database

    async def run() -> None:
        db = Database(settings)
        try:
            result = await seed_demo_catalog(db, products=args.products)
        finally:
            await db.close()
        print(f"categories created: {result.categories_created}, "
              f"products created: {result.products_created}")
        if settings.elasticsearch_url and result.products_created:
            print(f"indexed {await _reindex(settings)} products for search")
        if args.orders:
            await _seed_sales(args, settings)

    asyncio.run(run())
    return 0


async def _seed_sales(args: argparse.Namespace, settings: Settings) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from graphql_api.core.database import Database
    from graphql_api.metrics.history import seed_sales

    db = Database(settings)
    try:
        with Progress("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      transient=False) as progress:
            task = progress.add_task("seeding sales history", total=args.orders)
            report = await seed_sales(
                db, args.orders, seed=args.seed, until=args.until,
                progress=lambda done, total: progress.update(task, completed=done, total=total))
    finally:
        await db.close()
    print(f"sales history: {report.orders} orders, {report.lines} sales lines: "
          f"{report.imported} new, {report.already_present} already present")


async def _reindex(settings: Settings) -> int:
    """Build a new Elasticsearch index from the database and swap the alias to it."""
    from rich.progress import Progress

    from graphql_api.core.database import Database
    from graphql_api.search.elastic import ElasticsearchSearch

    db = Database(settings)
    search = ElasticsearchSearch(settings, db)
    try:
        with Progress(transient=False) as progress:
            task = progress.add_task("indexing products", total=None)
            return await search.reindex(
                lambda done, total: progress.update(task, completed=done, total=total))
    finally:
        await search.close()
        await db.close()


def cmd_reindex(_: argparse.Namespace, settings: Settings) -> int:
    if not settings.elasticsearch_url:
        print("nothing to do: without ELASTICSEARCH_URL the database is the search index")
        return 0
    count = asyncio.run(_reindex(settings))
    print(f"indexed {count} products into {settings.elasticsearch_index}")
    return 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from graphql_api.app import open_resources
    from graphql_api.sync import service
    from graphql_api.sync.provider import UnknownProvider

    async def run() -> int:
        try:
            source = (service.file_source(settings, Path(args.from_file)) if args.from_file
                      else service.http_source(settings))
        except (service.SyncNotConfigured, UnknownProvider) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        resources = await open_resources(settings)  # events retire caches, queue indexing
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[counts]}"), TimeElapsedColumn())
        try:
            with Progress(*columns) as progress:
                task = progress.add_task(f"syncing {source.description}", total=None, counts="")

                def show(t: service.Tally) -> None:
                    progress.update(task, completed=t.pages_done + t.failed_pages, total=t.pages or None,
                                    counts=f"created {t.created} updated {t.updated} "
                                           f"unchanged {t.unchanged} skipped {t.skipped}")

                result = await service.sync_catalog(resources, args.prune, source, show)
            if isinstance(resources.jobs, InProcessJobs):
                await resources.jobs.drain()  # the search indexing the sync queued
        finally:
            await resources.close()
        if result is None:
            print("error: a sync is already running elsewhere (see syncStatus)", file=sys.stderr)
            return 1
        print(f"sync run {result.id} {result.status}: fetched {result.fetched}, created "
              f"{result.created}, updated {result.updated}, unchanged {result.unchanged}, "
              f"skipped {result.skipped}, missing upstream {result.missing}, pruned {result.pruned}")
        for error in result.errors[:20]:
            print(f"  {error.get('external_id') or '-'}: {error.get('reason')}")
        if len(result.errors) > 20:
            print(f"  ... and {len(result.errors) - 20} more (see syncStatus)")
        return 0 if result.status == "SUCCEEDED" else 1

    from graphql_api.core.jobs import InProcessJobs

    return asyncio.run(run())


def cmd_import_transactions(args: argparse.Namespace, settings: Settings) -> int:
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from graphql_api.core.database import Database
    from graphql_api.metrics.imports import import_file
    from graphql_api.metrics.retail_csv import LayoutError

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2

    async def run() -> int:
        db = Database(settings)
        try:
            with Progress("{task.description}", BarColumn(), DownloadColumn(),
                          TimeRemainingColumn(), transient=False) as progress:
                task = progress.add_task(f"importing {path.name}", total=None)
                report = await import_file(
                    db, path, batch_lines=args.batch,
                    progress=lambda done, total: progress.update(task, completed=done, total=total))
        except LayoutError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        finally:
            await db.close()
        print(f"{report.rows} rows read ({report.encoding}): {report.imported} sales lines imported, "
              f"{report.already_present} already present, {report.bad} bad")
        for bad in report.bad_rows:
            print(f"  line {bad.line}: {bad.reason}")
        if report.bad > len(report.bad_rows):
            print(f"  ... and {report.bad - len(report.bad_rows)} more")
        return 0

    return asyncio.run(run())


def cmd_create_admin(args: argparse.Namespace, settings: Settings) -> int:
    from graphql_api.accounts import service
    from graphql_api.accounts.models import Role
    from graphql_api.core.database import Database
    from graphql_api.core.errors import UserInputError

    password = args.password or getpass.getpass("Password: ")

    async def run() -> int:
        db = Database(settings)
        try:
            async with db.transaction() as session:
                role = Role(args.role)
                user = await service.get_user_by_email(session, args.email)
                if user is None:
                    user = await service.register(session, args.email, password,
                                                  args.name or args.email.split("@")[0], role)
                else:
                    service.check_password(password, user.email)
                    user.role = role.value
                    user.password_hash = service.hash_password(password)
                    session.add(user)
        except UserInputError as exc:
            for error in exc.errors:
                print(f"error: {error.message}", file=sys.stderr)
            return 1
        finally:
            await db.close()
        print(f"{user.email} is now {role.name}")
        return 0

    return asyncio.run(run())


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> int:
    text = export_schema_text(settings)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}")
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.redis_url:
        print("error: set REDIS_URL to run arq workers (embedded mode runs jobs in-process)",
              file=sys.stderr)
        return 2
    from arq.worker import run_worker

    from workers.settings import WorkerSettings

    run_worker(WorkerSettings, burst=args.burst)  # type: ignore[arg-type]
    return 0


def cmd_playground_assets(args: argparse.Namespace, _: Settings) -> int:
    from graphql_api.playground import ASSETS_DIR, AssetError, fetch, installed

    if installed() and not args.force:
        print(f"GraphiQL's assets are already in {ASSETS_DIR}")
        return 0
    try:
        fetch(registry=args.registry)
    except (AssetError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"GraphiQL's assets verified and installed in {ASSETS_DIR}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphql-api", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP/websocket server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--reload", action="store_true")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="load the demo catalog (idempotent)")
    seed.add_argument("--products", type=int, default=1000)
    seed.add_argument("--orders", type=int, default=0,
                      help="also a sales history of N orders over the catalog (idempotent)")
    seed.add_argument("--seed", type=int, default=2026, help="the sales history's random seed")
    seed.add_argument("--until", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                      help="the sales history's last day (default: today, UTC)")
    seed.set_defaults(func=cmd_seed)

    sub.add_parser("reindex", help="rebuild the Elasticsearch index from the database, then "
                   "switch searches to it").set_defaults(func=cmd_reindex)

    sync = sub.add_parser("sync", help="sync the catalog from SYNC_SOURCE_URL (or a dump file)")
    sync.add_argument("--prune", action="store_true",
                      help="soft-delete synced products that are gone upstream")
    sync.add_argument("--from-file", metavar="DUMP.json",
                      help="import a dump in the provider's format instead (offline)")
    sync.set_defaults(func=cmd_sync)

    imports = sub.add_parser("import-transactions",
                             help="load sales lines from an online-retail CSV (idempotent)")
    imports.add_argument("file", help="InvoiceNo,StockCode,Description,Quantity,InvoiceDate,"
                         "UnitPrice,CustomerID,Country; UTF-8 or Latin-1")
    imports.add_argument("--batch", type=int, default=20_000, help="lines per transaction")
    imports.set_defaults(func=cmd_import_transactions)

    admin = sub.add_parser("create-admin", help="create or promote an administrator")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", help="prompted for when omitted")
    admin.add_argument("--name")
    admin.add_argument("--role", choices=["admin", "super_admin"], default="admin")
    admin.set_defaults(func=cmd_create_admin)

    export = sub.add_parser("export-schema", help="write the SDL")
    export.add_argument("--output", default=str(SCHEMA_PATH))
    export.set_defaults(func=cmd_export_schema)

    worker = sub.add_parser("worker", help="run an arq worker (needs REDIS_URL)")
    worker.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    worker.set_defaults(func=cmd_worker)

    assets = sub.add_parser("playground-assets",
                            help="fetch GraphiQL's pinned assets from the npm registry")
    assets.add_argument("--force", action="store_true", help="refetch even when present")
    assets.add_argument("--registry", help="npm registry URL (default: $NPM_CONFIG_REGISTRY "
                        "or https://registry.npmjs.org)")
    assets.set_defaults(func=cmd_playground_assets)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    return int(args.func(args, settings))


if __name__ == "__main__":
    sys.exit(main())
