"""eventTrack: what a storefront reports (page and product views, searches, cart and checkout
steps). Open to guests, rate-limited per client, and cheap: the event joins the in-process
buffer (tracking/log.py) and the answer waits for no write."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from graphql import FieldNode, GraphQLResolveInfo, GraphQLSchema, OperationDefinitionNode
from strawberry.scalars import JSON
from strawberry.types import Info

from graphql_api.core.errors import ErrorCode, RateLimited, UserError
from graphql_api.core.ids import decode_pk
from graphql_api.core.models import utcnow
from graphql_api.core.rate_limit import enforce
from graphql_api.tracking import limits
from graphql_api.tracking.log import event_log
from graphql_api.tracking.models import EventType, Source
from graphql_api.tracking.priority import YIELD_EVERY, event_slots, foreground
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


def _caller_id(context: Any) -> int | None:
    """The signed-in caller from the token's claims (no database read on this hot path)."""
    claims = context.claims  # an invalid token fails the call: UNAUTHENTICATED
    return None if claims is None else claims.user_id


def _checks(context: Any, input: dict[str, Any]
            ) -> tuple[dict[str, Any], list[UserError], int | None]:
    """Everything but the product's existence: (row fields, errors, product to look up)."""
    errors: list[UserError] = []
    fields: dict[str, Any] = {}
    session_id = context.session_id
    if input["sessionId"] is not None:
        session_id = valid_session(input["sessionId"])
        if session_id is None:
            errors.append(limits.error("sessionId", ErrorCode.INVALID,
                                       "A session id is 1 to 64 printable ASCII characters."))
    fields["session_id"] = session_id
    for problem in (limits.check_query(input["query"]), limits.check_path(input["path"]),
                    limits.check_metadata(input["metadata"])):
        if problem is not None:
            errors.append(problem)
    kind = input["type"]
    if kind is TrackedEventType.SEARCH and not (input["query"] or "").strip():
        errors.append(limits.error("query", ErrorCode.REQUIRED, "A SEARCH event needs a query."))
    pk = None
    if input["productId"] is not None:
        pk = decode_pk(input["productId"], "Product")
        if pk is None:
            errors.append(limits.error("productId", ErrorCode.INVALID, "Not a Product ID."))
    elif kind in NEEDS_PRODUCT:
        errors.append(limits.error("productId", ErrorCode.REQUIRED,
                                   f"A {kind.value} event needs a productId."))
    fields["product_id"] = pk
    return fields, errors, pk


_BUSY = "The server is busy recording events; try again shortly."


def _accepted(context: Any, input: dict[str, Any], fields: dict[str, Any],
              errors: list[UserError]) -> EventTrackPayload:
    """The event into the buffer (or the user errors that keep it out)."""
    if errors:
        return EventTrackPayload(event=None, user_errors=errors)
    kind = EventType(input["type"].value)
    query = input["query"]
    row = event_row(kind, Source.CLIENT, at=utcnow(), user_id=_caller_id(context),
                    query=search_key(query) if query is not None and kind is EventType.SEARCH
                    else query, path=input["path"], metadata=input["metadata"], **fields)
    if not event_log(context.resources).offer(row):
        raise RateLimited(_BUSY, retryAfter=1)
    return EventTrackPayload(event=TrackedEvent(type=input["type"], at=row["at"],
                                                session_id=row["session_id"]), user_errors=[])


async def _charge(context: Any, calls: int) -> None:
    """Take one of the process's event slots for the rest of the operation (tracking/
    priority.py), then count this call against the client's rate limit. The first eventTrack
    of an operation counts all `calls` of it at once (a tracker sends many as aliases of one
    request): one counter update per request, not per event."""
    if context.events_refused is not None:
        raise RateLimited(**context.events_refused)
    if context.events_slot is None:
        slot = await event_slots(context.resources).acquire()
        if slot is None:
            context.events_refused = {"message": _BUSY, "retryAfter": 1}
            raise RateLimited(_BUSY, retryAfter=1)
        context.events_slot = slot  # released as the operation ends (Context.end_operation)
    if context.events_prepaid > 0:
        context.events_prepaid -= 1
        return
    settings = context.resources.settings
    client = getattr(getattr(context.request, "client", None), "host", None) or "unknown"
    try:
        await enforce(context.resources.cache, f"events:ip:{client}", settings.events_per_client,
                      settings.events_window_seconds, hits=calls)
    except RateLimited as exc:
        context.events_refused = {"message": exc.message,
                                  "retryAfter": (exc.extensions or {}).get("retryAfter")}
        raise
    context.events_prepaid = calls - 1


def _calls_in(operation: OperationDefinitionNode) -> int:
    """The eventTrack fields at the root of an operation (fragments there count as they run)."""
    return max(1, sum(1 for node in operation.selection_set.selections
                      if isinstance(node, FieldNode) and node.name.value == "eventTrack"))


async def track(context: Any, input: dict[str, Any], calls: int = 1) -> EventTrackPayload:
    """eventTrack's work; `input` as graphql-core coerces it (GraphQL names, enum members);
    `calls`: how many eventTrack fields the operation has (counted at once)."""
    await _charge(context, calls)
    fields, errors, pk = _checks(context, input)
    if pk is not None and not errors and await context.catalog.product.load(pk) is None:
        errors.append(limits.error("productId", ErrorCode.NOT_FOUND, "No such product."))
    return _accepted(context, input, fields, errors)


@strawberry.type
class TrackingMutation:
    @strawberry.mutation(description=(
        "Record what a visitor did. Open to guests; rate-limited per client (RATE_LIMITED, "
        "also while the server's event buffer is full). Invalid input is in userErrors."))
    async def event_track(self, info: Info, input: EventTrackInput) -> EventTrackPayload:
        # Served by `resolve_event_track` once the schema is built (see there); this body is
        # the same work, for a schema built without that step.
        return await track(info.context, {
            "type": input.type, "productId": input.product_id, "query": input.query,
            "path": input.path, "sessionId": input.session_id, "metadata": input.metadata},
            _calls_in(info._raw_info.operation))


def resolve_event_track(_root: Any, info: GraphQLResolveInfo, input: dict[str, Any]
                        ) -> EventTrackPayload | Awaitable[EventTrackPayload]:
    """eventTrack straight from graphql-core's coerced arguments. Strawberry's conversion of the
    input into an EventTrackInput re-resolves each field's annotation on every call: 0.3 ms of
    the ~0.5 ms an event cost, in a mutation meant to take thousands a second. The schema (SDL,
    validation, coercion) is Strawberry's all the same. A call already counted against the rate
    limit (an operation's later aliases) with no product to look up needs no I/O: it answers
    without a coroutine for graphql-core to await, except every YIELD_EVERY-th, which first
    lets the rest of the process's work run (tracking/priority.py)."""
    context = info.context
    if context.events_prepaid > 0 and context.events_refused is None and (
            input["productId"] is None):
        context.events_prepaid -= 1
        if context.events_prepaid % YIELD_EVERY == 0:
            return _after_others(context, input)
        return _prepaid(context, input)
    return track(context, input, _calls_in(info.operation))


def _prepaid(context: Any, input: dict[str, Any]) -> EventTrackPayload:
    """A call already counted, with no product to look up."""
    fields, errors, _ = _checks(context, input)
    return _accepted(context, input, fields, errors)


async def _after_others(context: Any, input: dict[str, Any]) -> EventTrackPayload:
    await asyncio.sleep(0)  # to the back of the event loop's queue
    await foreground(context.resources).wait_idle()
    return _prepaid(context, input)


def install_fast_path(schema: GraphQLSchema) -> None:
    mutation = schema.mutation_type
    assert mutation is not None
    mutation.fields["eventTrack"].resolve = resolve_event_track
