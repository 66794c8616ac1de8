"""An event as the buffer holds it (one `event` row), and as the Redis stream carries it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from graphql_api.core.ids import to_global_id
from graphql_api.core.models import utcnow
from graphql_api.tracking.models import EventType, Source

Row = dict[str, Any]


def event_row(type: EventType, source: Source, *, at: datetime | None = None,
              session_id: str | None = None, user_id: int | None = None,
              product_id: int | None = None, query: str | None = None,
              result_count: int | None = None, path: str | None = None,
              metadata: dict[str, Any] | None = None) -> Row:
    # Every row has every column: a batch is one executemany, which needs the same keys.
    return {"at": at or utcnow(), "type": type.value, "source": source.value,
            "session_id": session_id, "user_id": user_id, "product_id": product_id,
            "query": query, "result_count": result_count, "path": path, "metadata": metadata}


def stream_fields(row: Row) -> dict[str, str]:
    """A stream entry's fields: strings, nulls left out, ids as the API shows them."""
    fields = {"type": row["type"], "source": row["source"], "at": row["at"].isoformat()}
    if row["session_id"] is not None:
        fields["sessionId"] = row["session_id"]
    if row["user_id"] is not None:
        fields["userId"] = to_global_id("User", row["user_id"])
    if row["product_id"] is not None:
        fields["productId"] = to_global_id("Product", row["product_id"])
    for key, name in (("query", "query"), ("path", "path")):
        if row[key] is not None:
            fields[name] = row[key]
    if row["result_count"] is not None:
        fields["resultCount"] = str(row["result_count"])
    if row["metadata"] is not None:
        fields["metadata"] = metadata_text(row["metadata"])
    return fields


def metadata_text(metadata: dict[str, Any]) -> str:
    """An event's metadata as compact JSON text (the stream's field; PostgreSQL's batch insert)."""
    return json.dumps(metadata, separators=(",", ":"), ensure_ascii=False)
