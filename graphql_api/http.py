"""GraphQL over HTTP, per the GraphQL-over-HTTP spec (including its SHOULDs).

Strawberry's own view covers websockets here; HTTP is ours so that media types, status codes and
GET-safety follow the spec exactly and the hot path stays short.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from graphql_api.accounts.cookies import SessionCookies
from graphql_api.catalog.reads import CatalogReads
from graphql_api.catalog.warming import product_views
from graphql_api.context import Context, anonymous, bearer_token
from graphql_api.core.errors import ApiError
from graphql_api.playground import Playground
from graphql_api.response_cache import ResponseCache, cacheable
from graphql_api.tracking.priority import Slot, event_slots, events_only, foreground

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 1_000_000
MAX_QUERY_CHARS = 20_000


class IndexedHeaders(Headers):
    """Starlette's Headers, looked up in a dict (the first value of a repeated name, as Headers
    gives it): Headers scans its list on every lookup, and a missing header (most requests have
    no Authorization, Origin or Cookie) costs a raised and caught KeyError on top."""

    def __init__(self, scope: Scope) -> None:
        super().__init__(scope=scope)
        index: dict[bytes, bytes] = {}
        for name, value in self.raw:
            index.setdefault(name.lower(), value)
        self._index = index

    def __getitem__(self, key: str) -> str:
        value = self._index.get(key.lower().encode("latin-1"))
        if value is None:
            raise KeyError(key)
        return value.decode("latin-1")

    def __contains__(self, key: Any) -> bool:
        return isinstance(key, str) and key.lower().encode("latin-1") in self._index

    def get(self, key: str, default: Any = None) -> Any:
        value = self._index.get(key.lower().encode("latin-1"))
        return default if value is None else value.decode("latin-1")


class GraphQLRequest(Request):
    """A request whose headers are IndexedHeaders."""

    @property
    def headers(self) -> Headers:
        if not hasattr(self, "_headers"):
            self._headers = IndexedHeaders(self.scope)
        return self._headers


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def _media_type(header: str) -> tuple[str, dict[str, str]]:
    """`type/subtype` (lower-cased) and the parameters of a Content-Type or Accept entry."""
    media, *params = (p.strip() for p in header.split(";"))
    parsed: dict[str, str] = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"')
    return media.lower(), parsed


# What each media range in an Accept header lets us send, preferred first.
_OFFERS = {
    GRAPHQL_RESPONSE: (GRAPHQL_RESPONSE,),
    JSON: (JSON,),
    "application/*": (JSON, GRAPHQL_RESPONSE),
    "*/*": (JSON, GRAPHQL_RESPONSE),
}


def _negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header; None when we can offer nothing it accepts.

    No Accept header (or */*) means application/json, as the spec asks during its watershed.
    """
    if not accept or not accept.strip():
        return JSON
    return _negotiated(accept)


@lru_cache(maxsize=256)  # a client sends the same header on every request
def _negotiated(accept: str) -> str | None:
    ranked: list[tuple[float, int, str]] = []
    refused: set[str] = set()
    for position, part in enumerate(accept.split(",")):
        media, params = _media_type(part)
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, media))
        else:
            refused.add(media)
    for _, _, media in sorted(ranked):
        for offer in _OFFERS.get(media, ()):
            if offer not in refused:
                return offer
    return None


def _wants_ide(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "") and (
        not request.query_params)


def _params_from_get(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    for key in ("variables", "extensions"):
        if key in params:
            try:
                params[key] = json.loads(params[key])
            except (ValueError, RecursionError):
                raise HttpError(400, f"`{key}` must be JSON.") from None
    return params


async def _read_body(request: Request) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise HttpError(413, "Request body is too large.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HttpError(413, "Request body is too large.")
    return bytes(body)


@lru_cache(maxsize=64)
def _content_type_refusal(header: str) -> str | None:
    """Why a POST's Content-Type is refused, or None for UTF-8 JSON."""
    media, params = _media_type(header)
    if media != JSON:
        return "Send the request as application/json."
    if params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        return "Send the request body as UTF-8."
    return None


async def _params_from_post(request: Request) -> dict[str, Any]:
    refusal = _content_type_refusal(request.headers.get("content-type", ""))
    if refusal is not None:
        raise HttpError(415, refusal)
    try:
        body = json.loads((await _read_body(request)).decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise HttpError(400, "The request body is not valid UTF-8 JSON.") from None
    if not isinstance(body, dict):
        raise HttpError(400, "The request body must be a JSON object.")
    return body


def _check_params(params: dict[str, Any]) -> None:
    query = params.get("query")
    if not isinstance(query, str) or not query:
        raise HttpError(400, "`query` must be a non-empty string.")
    if len(query) > MAX_QUERY_CHARS:
        # Comments and whitespace are not tokens: the token limit alone does not bound the text.
        raise HttpError(413, f"`query` is longer than {MAX_QUERY_CHARS} characters.")
    if params.get("variables") is not None and not isinstance(params["variables"], dict):
        raise HttpError(400, "`variables` must be an object.")
    if params.get("operationName") is not None and not isinstance(params["operationName"], str):
        raise HttpError(400, "`operationName` must be a string.")
    if params.get("extensions") is not None and not isinstance(params["extensions"], dict):
        raise HttpError(400, "`extensions` must be an object.")


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def _format(error: GraphQLError) -> dict[str, Any]:
    return error.formatted  # type: ignore[return-value]


_READ_ONLY = {OperationType.QUERY}
_READ_WRITE = {OperationType.QUERY, OperationType.MUTATION}


class GraphQLHTTP:
    def __init__(self, schema: strawberry.Schema, graphiql: bool, max_tokens: int) -> None:
        self.schema = schema
        # GraphiQL from our own assets (or, when they are missing, from a CDN).
        self.playground = Playground() if graphiql else None
        self.max_tokens = max_tokens

    async def endpoint(self, request: Request) -> Response:
        if _wants_ide(request) and self.playground is not None:
            return self.playground.page(request)
        media = _negotiate(request.headers.get("accept"))
        if media is None:
            return _respond(_error_body("Accept application/graphql-response+json or "
                                        "application/json.", "NOT_ACCEPTABLE"), JSON, 406)
        try:
            return await self._handle(request, media)
        except HttpError as exc:
            response = _respond(_error_body(str(exc), "BAD_REQUEST"), media, exc.status)
            response.headers.update(exc.headers)
            return response

    async def _handle(self, request: Request, media: str) -> Response:
        if request.method == "GET":
            params = _params_from_get(request)
            allowed = _READ_ONLY
        elif request.method == "POST":
            params = await _params_from_post(request)
            allowed = _READ_WRITE
        else:
            raise HttpError(405, "Use GET or POST.", {"Allow": "GET, POST"})
        _check_params(params)
        gate = foreground(request.app.state.resources)
        if allowed is _READ_ONLY or not events_only(params["query"], params.get("operationName"),
                                                     self.max_tokens):
            with gate.request():
                return await self._serve(request, media, params, allowed, None)
        # A tracker's batch: it waits for a slot and for the requests in flight before any of
        # its work (tracking/priority.py). With no room to wait, it runs on and its eventTracks
        # answer RATE_LIMITED.
        slots = event_slots(request.app.state.resources)
        slot = None if slots.full else await slots.acquire()
        try:
            await gate.wait_idle()
            return await self._serve(request, media, params, allowed, slot)
        finally:
            if slot is not None:
                slot.release()

    async def _serve(self, request: Request, media: str, params: dict[str, Any],
                     allowed: set[OperationType], slot: Slot | None) -> Response:
        try:
            token = bearer_token(request.headers.get("authorization"))
        except ApiError as exc:
            return _respond({"errors": [exc.formatted]}, media,
                            401 if media == GRAPHQL_RESPONSE else 200)
        resources = request.app.state.resources
        cookies = None
        if request.method == "POST":
            # Only a (JSON) POST reads or sets session cookies: a GET is anonymous to them, so a
            # cross-site link or <img> cannot act as the user. A bearer token wins over cookies.
            cookies = SessionCookies.from_request(request, resources.settings, read=token is None)
            if cookies.presented:
                if not cookies.origin_ok:
                    return _respond(_error_body("A request signed in by cookie must come from "
                                                "this site or an allowed Origin.", "FORBIDDEN"),
                                    media, 403)
                token = cookies.access_token
        responses = cache_key = generation = reads = None
        # Only callers without any credentials (token or cookie) share cached responses. A hit
        # is served before the context is made: it needs none of it.
        if resources.cache.enabled and anonymous(token, cookies) and cacheable(
                params, self.max_tokens):
            # One round trip reads the generation and the entry; on a miss, the execution's
            # reads use that same generation.
            reads = CatalogReads(resources)
            responses = ResponseCache(reads)
            cache_key = responses.key(params, media)
            generation, hit = await responses.get(cache_key)
            if hit is not None:
                text, views = hit
                if views:
                    product_views(resources).record(views)
                return _respond_text(text, media, 200, {"x-cache": "hit"})
        context = Context(resources=resources, signer=request.app.state.signer, token=token,
                          request=request, cookies=cookies, first_reads=reads, events_slot=slot)
        try:
            result = await self.schema.execute(
                params["query"],
                variable_values=params.get("variables"),
                context_value=context,
                operation_name=params.get("operationName"),
                allowed_operation_types=allowed,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.MUTATION:
                raise HttpError(405, "Send mutations with POST.", {"Allow": "POST"}) from None
            raise HttpError(400, "Subscriptions are served over the WebSocket.") from None
        except CannotGetOperationTypeError as exc:
            raise HttpError(400, exc.as_http_error_reason()) from None
        body: dict[str, Any] = {}
        status = 200
        # A request error (parsing, validation, variable coercion: nothing executed) has no `data`
        # and, for graphql-response+json clients, a 4xx status.
        request_error = result.data is None and bool(result.errors) and all(
            e.path is None for e in result.errors or ())
        if result.errors:
            body["errors"] = [_format(e) for e in result.errors]
        if request_error:
            status = 400 if media == GRAPHQL_RESPONSE else 200
        else:
            body["data"] = result.data
        text = _dump(body)
        if responses is not None and generation is not None and cache_key is not None and (
                status == 200 and "errors" not in body):
            await responses.set(cache_key, generation, text, context.views)
        response = _respond_text(text, media, status, {"x-request-id": context.request_id})
        if cookies is not None and cookies.changed:
            cookies.apply(response, resources.settings)
        return response


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), default=str)


def _respond(body: dict[str, Any], media: str, status: int) -> Response:
    return _respond_text(_dump(body), media, status)


def _respond_text(text: str, media: str, status: int, headers: dict[str, str] | None = None
                  ) -> Response:
    return _Prepared(text.encode(), status, _CONTENT_TYPES[media], headers)


_CONTENT_TYPES = {JSON: JSON.encode("latin-1"),
                  GRAPHQL_RESPONSE: f"{GRAPHQL_RESPONSE}; charset=utf-8".encode("latin-1")}


class _Prepared(Response):
    """A Response with its raw headers written out directly: Starlette's constructor renders,
    then rebuilds the header list through its generic checks (~4 µs of a ~250 µs cache hit).
    The same headers, in the same order, as `Response(text, status, headers, media_type)`."""

    def __init__(self, body: bytes, status: int, content_type: bytes,
                 headers: dict[str, str] | None) -> None:
        self.status_code = status
        self.background = None
        self.body = body
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1"))
               for name, value in headers.items()] if headers else []
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
        raw.append((b"content-type", content_type))
        self.raw_headers = raw
