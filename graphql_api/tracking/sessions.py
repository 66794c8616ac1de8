"""The client's session id: sent as the `X-Session-Id` header (or `sessionId` in a websocket's
connection_init payload), kept in a context variable for the operation, so that the events the
server records while serving it (an order placed, a search) carry it and the funnel can join
them to what the client reported."""

from __future__ import annotations

import re
from contextvars import ContextVar

from graphql_api.tracking.models import MAX_SESSION_CHARS

SESSION_HEADER = "x-session-id"
_VALID = re.compile(rf"[\x21-\x7e]{{1,{MAX_SESSION_CHARS}}}")  # printable ASCII, no spaces

current_session: ContextVar[str | None] = ContextVar("tracking_session", default=None)


def valid_session(value: object) -> str | None:
    """The session id if it is one (at most 64 printable ASCII characters), else None."""
    if isinstance(value, str) and _VALID.fullmatch(value):
        return value
    return None
