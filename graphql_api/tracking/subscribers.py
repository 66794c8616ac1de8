"""What the server records itself, from the domain events its writes emit after they commit
(core/events.py): registrations, orders placed, order status changes, product changes. These
are in-process handlers, so each event is recorded once, by the process that made the write
(not once per process hearing it on pub/sub). Searches are recorded by the search resolver
(`record_search`), which knows how many results there were."""

from __future__ import annotations

from typing import Any

from graphql_api.core.events import ORDER_STATUS_CHANGED, PRODUCT_CHANGED, USER_REGISTERED
from graphql_api.core.ids import to_global_id
from graphql_api.core.resources import Resources
from graphql_api.search.text import fold
from graphql_api.tracking.log import event_log
from graphql_api.tracking.models import MAX_QUERY_CHARS, EventType, Source
from graphql_api.tracking.records import event_row
from graphql_api.tracking.sessions import current_session


def register_tracking_subscribers(resources: Resources) -> None:
    events = event_log(resources)

    async def user_registered(payload: dict[str, Any]) -> None:
        events.record([event_row(EventType.USER_REGISTERED, Source.SERVER,
                                 session_id=current_session.get(), user_id=payload["id"])])

    async def order_status_changed(payload: dict[str, Any]) -> None:
        # An order's first status event (no previous status) is its placement.
        placed = payload.get("previous_status") is None
        metadata = {"orderId": to_global_id("Order", payload["order_id"]),
                    "status": payload["status"]}
        if not placed:
            metadata["previousStatus"] = payload["previous_status"]
        events.record([event_row(
            EventType.ORDER_PLACED if placed else EventType.ORDER_STATUS_CHANGED, Source.SERVER,
            session_id=current_session.get(), user_id=payload.get("user_id"),
            metadata=metadata)])

    async def product_changed(payload: dict[str, Any]) -> None:
        # One row per product: a sync announces a page of them at once ("ids").
        ids = [payload["id"]] if "id" in payload else list(payload.get("ids") or ())
        session = current_session.get()
        events.record([event_row(EventType.PRODUCT_CHANGED, Source.SERVER, session_id=session,
                                 product_id=pid, metadata={"op": payload.get("op")})
                       for pid in ids])

    resources.events.on(USER_REGISTERED, user_registered)
    resources.events.on(ORDER_STATUS_CHANGED, order_status_changed)
    resources.events.on(PRODUCT_CHANGED, product_changed)


def search_key(query: str) -> str:
    """A search as topSearches groups it: folded as search folds it, bounded, and storable (a
    lone surrogate, which UTF-8 cannot encode, is left out)."""
    key = fold(query)[:MAX_QUERY_CHARS]
    return key if key.isascii() else key.encode("utf-8", "ignore").decode("utf-8")


def record_search(resources: Resources, query: str, results: int, user_id: int | None) -> None:
    """A search the server answered (its first page): folded query and result count."""
    key = search_key(query)
    if key:  # an empty query browses the catalog: not a search
        event_log(resources).record([event_row(
            EventType.SEARCH, Source.SERVER, session_id=current_session.get(), user_id=user_id,
            query=key, result_count=results)])
