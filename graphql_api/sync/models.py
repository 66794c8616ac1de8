"""Sync tables: the recorded runs, which product each upstream item became, and page ETags."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, Integer, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from graphql_api.core.models import JsonType, TimestampType, utcnow


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"  # every page fetched; invalid items may have been skipped
    PARTIAL = "PARTIAL"  # some pages could not be fetched: what was fetched is applied
    FAILED = "FAILED"  # nothing could be fetched, the run crashed, or its process died


_running = text("status = 'RUNNING'")


class SyncRun(SQLModel, table=True):
    __tablename__ = "sync_run"
    __table_args__ = (
        # One run at a time across every process: a second RUNNING row cannot exist.
        Index("uq_sync_run_running", "status", unique=True,
              postgresql_where=_running, sqlite_where=_running),
        Index("ix_sync_run_started", "started_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(sa_column=Column(String(64), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    prune: bool = False
    # The process running it; null while a queued run waits for its job to pick it up.
    owner: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    started_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)
    heartbeat_at: datetime | None = Field(default=None, sa_type=TimestampType, nullable=True)
    finished_at: datetime | None = Field(default=None, sa_type=TimestampType, nullable=True)
    pages: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    pages_done: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    fetched: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    created: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    updated: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    unchanged: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    skipped: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    missing: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    pruned: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    # [{"external_id": str | None, "reason": str}], at most MAX_ERRORS of them.
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_type=JsonType)


class ProductSource(SQLModel, table=True):
    """Which product an upstream item became, and the hash of the content last applied."""

    __tablename__ = "product_source"
    __table_args__ = (
        UniqueConstraint("provider", "external_id", name="uq_product_source_item"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(sa_column=Column(String(64), nullable=False))
    external_id: str = Field(sa_column=Column(String(128), nullable=False))
    product_id: int = Field(foreign_key="product.id", index=True)
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))
    # Set when a prune soft-deleted the product: it comes back if the item does.
    pruned_at: datetime | None = Field(default=None, sa_type=TimestampType, nullable=True)


class SyncPage(SQLModel, table=True):
    """A page as last applied: its ETag, and the items it held (a 304 still names them)."""

    __tablename__ = "sync_page"

    provider: str = Field(sa_column=Column(String(64), primary_key=True))
    url: str = Field(sa_column=Column(Text, primary_key=True))
    etag: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    total: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    external_ids: list[str] = Field(default_factory=list, sa_type=JsonType)
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)
