"""Runs the alembic history programmatically against the configured database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from graphql_api.core.database import create_engine
from graphql_api.core.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


async def upgrade(settings: Settings, revision: str = "head") -> None:
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_sync, revision)
    finally:
        await engine.dispose()


def _upgrade_sync(connection: Connection, revision: str, /) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)
