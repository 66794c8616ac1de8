"""GraphQL over HTTP, per the GraphQL-over-HTTP spec (including its SHOULDs).

Strawberry's own view covers websockets here; HTTP is ours so that media types, status codes and
GET-safety follow the spec exactly and the hot path stays short.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from graphql_api.context import Context, bearer_token
from graphql_api.core.errors import ApiError

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 1_000_000


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def _negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header; None when we can offer nothing it accepts."""
    if not accept:
        return JSON
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranked.append((-quality, position, media.lower()))
    for neg_quality, _, media in sorted(ranked):
        if neg_quality == 0:
            continue
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return None


def _wants_ide(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.method == "GET" and "text/html" in accept and not request.query_params


def _params_from_get(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    for key in ("variables", "extensions"):
        if key in params:
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                raise HttpError(400, f"`{key}` must be JSON.") from None
    return params


async def _params_from_post(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise HttpError(415, "Send the request as application/json.")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HttpError(413, "Request body is too large.")
    try:
        params = json.loads(body)
    except ValueError:
        raise HttpError(400, "The request body is not valid JSON.") from None
    if not isinstance(params, dict):
        raise HttpError(400, "The request body must be a JSON object.")
    return params


def _check_params(params: dict[str, Any]) -> None:
    query = params.get("query")
    if not isinstance(query, str) or not query:
        raise HttpError(400, "`query` must be a non-empty string.")
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


class GraphQLHTTP:
    def __init__(self, schema: strawberry.Schema, graphiql: bool) -> None:
        self.schema = schema
        self.graphiql_html = get_graphql_ide_html("graphiql") if graphiql else None

    async def endpoint(self, request: Request) -> Response:
        if _wants_ide(request) and self.graphiql_html is not None:
            return HTMLResponse(self.graphiql_html)
        media = _negotiate(request.headers.get("accept"))
        if media is None:
            return JSONResponse(_error_body("Accept application/graphql-response+json or "
                                            "application/json.", "NOT_ACCEPTABLE"), status_code=406)
        try:
            return await self._handle(request, media)
        except HttpError as exc:
            return Response(
                json.dumps(_error_body(str(exc), "BAD_REQUEST")),
                status_code=exc.status,
                media_type=media,
                headers=exc.headers,
            )

    async def _handle(self, request: Request, media: str) -> Response:
        if request.method == "GET":
            params = _params_from_get(request)
            allowed = {OperationType.QUERY}
        elif request.method == "POST":
            params = await _params_from_post(request)
            allowed = {OperationType.QUERY, OperationType.MUTATION}
        else:
            raise HttpError(405, "Use GET or POST.", {"Allow": "GET, POST"})
        _check_params(params)
        resources = request.app.state.resources
        try:
            token = bearer_token(request.headers.get("authorization"))
        except ApiError as exc:
            return self._respond({"errors": [exc.formatted]}, media, 401 if media == GRAPHQL_RESPONSE
                                 else 200)
        context = Context(resources=resources, signer=request.app.state.signer, token=token,
                          request=request)
        result = await self.schema.execute(
            params["query"],
            variable_values=params.get("variables"),
            context_value=context,
            operation_name=params.get("operationName"),
            allowed_operation_types=allowed,
        )
        body: dict[str, Any] = {}
        status = 200
        if result.errors:
            originals = [e.original_error for e in result.errors]
            if any(isinstance(o, InvalidOperationTypeError) for o in originals):
                raise HttpError(405, "Mutations must be sent with POST.", {"Allow": "POST"})
            if any(isinstance(o, CannotGetOperationTypeError) for o in originals):
                raise HttpError(400, result.errors[0].message)
            body["errors"] = [_format(e) for e in result.errors]
            # A request error (nothing executed) is a 4xx for graphql-response+json clients.
            if result.data is None and all(e.path is None for e in result.errors) and (
                media == GRAPHQL_RESPONSE
            ):
                status = 400
        if result.data is not None or not result.errors:
            body["data"] = result.data
        response = self._respond(body, media, status)
        response.headers["x-request-id"] = context.request_id
        return response

    @staticmethod
    def _respond(body: dict[str, Any], media: str, status: int) -> Response:
        return Response(
            json.dumps(body, separators=(",", ":"), default=str),
            status_code=status,
            media_type=media if media == JSON else f"{media}; charset=utf-8",
        )
