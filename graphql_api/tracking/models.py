"""The append-only `event` table and the kinds of events it holds."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table
from sqlmodel import SQLModel

from graphql_api.core.models import JsonType, TimestampType

MAX_QUERY_CHARS = 200
MAX_PATH_CHARS = 500
MAX_SESSION_CHARS = 64


class EventType(StrEnum):
    # Reported by clients through eventTrack.
    PAGE_VIEW = "PAGE_VIEW"
    PRODUCT_VIEW = "PRODUCT_VIEW"
    SEARCH = "SEARCH"
    ADD_TO_CART = "ADD_TO_CART"
    CHECKOUT_START = "CHECKOUT_START"
    # Recorded by the server from its own domain events.
    USER_REGISTERED = "USER_REGISTERED"
    ORDER_PLACED = "ORDER_PLACED"
    ORDER_STATUS_CHANGED = "ORDER_STATUS_CHANGED"
    PRODUCT_CHANGED = "PRODUCT_CHANGED"


CLIENT_TYPES = (EventType.PAGE_VIEW, EventType.PRODUCT_VIEW, EventType.SEARCH,
                EventType.ADD_TO_CART, EventType.CHECKOUT_START)


class Source(StrEnum):
    CLIENT = "client"
    SERVER = "server"


# SQLite makes only an INTEGER PRIMARY KEY an alias of the rowid (auto-assigned).
_EventId = BigInteger().with_variant(Integer(), "sqlite")

event_table = Table(
    "event",
    SQLModel.metadata,
    Column("id", _EventId, primary_key=True, autoincrement=True),
    Column("at", TimestampType, nullable=False),
    Column("type", String(32), nullable=False),
    Column("source", String(8), nullable=False),
    Column("session_id", String(MAX_SESSION_CHARS), nullable=True),
    Column("user_id", Integer, nullable=True),  # no foreign key: the log outlives what it names
    Column("product_id", Integer, nullable=True),
    Column("query", String(MAX_QUERY_CHARS), nullable=True),  # folded (search/text.py)
    Column("result_count", Integer, nullable=True),  # a server-recorded SEARCH's total
    Column("path", String(MAX_PATH_CHARS), nullable=True),
    Column("metadata", JsonType, nullable=True),
    # The funnel and topSearches read one type over a time range, by session (index-only for
    # the funnel on PostgreSQL).
    Index("ix_event_type_at", "type", "at", "session_id"),
)
