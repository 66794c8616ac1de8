"""eventTrack: what a storefront reports (page and product views, searches, cart and checkout
steps). Open to guests, rate-limited per client, and cheap: the event joins the in-process
buffer (tracking/log.py) and the answer waits for no write."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graphql_api.core.errors import ErrorCode, RateLimited, UserError
from graphql_api.core.ids import decode_pk
from graphql_api.core.models import utcnow
from graphql_api.core.rate_limit import enforce
from graphql_api.tracking import limits
from graphql_api.tracking.log import event_log
from graphql_api.tracking.models import EventType, Source
from graphql_api.tracking.records import event_row
from graphql_api.tracking.sessions import valid_session
from graphql_api.tracking.subscribers import search_key


@strawberry.enum(description="What a client reports with eventTrack.")
class TrackedEventType(Enum):
    PAGE_VIEW = "PAGE_VIEW"
    PRODUCT_VIEW = "PRODUCT_VIEW"
    SEARCH = "SEARCH"
    ADD_TO_CART = "ADD_TO_CART"
    CHECKOUT_START = "CHECKOUT_START"


NEEDS_PRODUCT = {TrackedEventType.PRODUCT_VIEW, TrackedEventType.ADD_TO_CART}


@strawberry.input
class EventTrackInput:
    type: TrackedEventType
    product_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for PRODUCT_VIEW and ADD_TO_CART.")
    query: str | None = strawberry.field(
        default=None, description="Required for SEARCH; at most 200 characters.")
    path: str | None = strawberry.field(default=None, description="At most 500 characters.")
    session_id: str | None = strawberry.field(default=None, description=(
        "The client's session (at most 64 printable ASCII characters); defaults to the "
        "X-Session-Id header."))
    metadata: JSON | None = strawberry.field(default=None, description=(
        "A JSON object, at most 2,048 bytes serialised and 4 levels deep."))


@strawberry.type(description="An event as it was accepted (written within a fraction of a second).")
class TrackedEvent:
    type: TrackedEventType
    at: datetime
    session_id: str | None


@strawberry.type
class EventTrackPayload:
    event: TrackedEvent | None
    user_errors: list[UserError]


def _caller_id(info: Info) -> int | None:
    """The signed-in caller from the token's claims (no database read on this hot path)."""
    claims = info.context.claims  # an invalid token fails the call: UNAUTHENTICATED
    return None if claims is None else claims.user_id


async def _validated(info: Info, input: EventTrackInput) -> tuple[dict[str, Any], list[UserError]]:
    errors: list[UserError] = []
    fields: dict[str, Any] = {}
    session_id = info.context.session_id
    if input.session_id is not None:
        session_id = valid_session(input.session_id)
        if session_id is None:
            errors.append(limits.error("sessionId", ErrorCode.INVALID,
                                       "A session id is 1 to 64 printable ASCII characters."))
    fields["session_id"] = session_id
    for problem in (limits.check_query(input.query), limits.check_path(input.path),
                    limits.check_metadata(input.metadata)):
        if problem is not None:
            errors.append(problem)
    if input.type is TrackedEventType.SEARCH and not (input.query or "").strip():
        errors.append(limits.error("query", ErrorCode.REQUIRED, "A SEARCH event needs a query."))
    fields["product_id"] = None
    if input.product_id is not None:
        pk = decode_pk(input.product_id, "Product")
        if pk is None:
            errors.append(limits.error("productId", ErrorCode.INVALID, "Not a Product ID."))
        elif not errors and await info.context.catalog.product.load(pk) is None:
            errors.append(limits.error("productId", ErrorCode.NOT_FOUND, "No such product."))
        fields["product_id"] = pk
    elif input.type in NEEDS_PRODUCT:
        errors.append(limits.error("productId", ErrorCode.REQUIRED,
                                   f"A {input.type.value} event needs a productId."))
    return fields, errors


@strawberry.type
class TrackingMutation:
    @strawberry.mutation(description=(
        "Record what a visitor did. Open to guests; rate-limited per client (RATE_LIMITED, "
        "also while the server's event buffer is full). Invalid input is in userErrors."))
    async def event_track(self, info: Info, input: EventTrackInput) -> EventTrackPayload:
        resources = info.context.resources
        settings = resources.settings
        client = getattr(getattr(info.context.request, "client", None), "host", None) or "unknown"
        await enforce(resources.cache, f"events:ip:{client}", settings.events_per_client,
                      settings.events_window_seconds)
        fields, errors = await _validated(info, input)
        if errors:
            return EventTrackPayload(event=None, user_errors=errors)
        kind = EventType(input.type.value)
        row = event_row(kind, Source.CLIENT, at=utcnow(), user_id=_caller_id(info),
                        query=None if input.query is None else (
                            search_key(input.query) if kind is EventType.SEARCH else input.query),
                        path=input.path, metadata=input.metadata,  # type: ignore[arg-type]
                        **fields)
        if not event_log(resources).offer(row):
            raise RateLimited("The server is busy recording events; try again shortly.",
                              retryAfter=1)
        return EventTrackPayload(event=TrackedEvent(type=input.type, at=row["at"],
                                                    session_id=row["session_id"]),
                                 user_errors=[])
