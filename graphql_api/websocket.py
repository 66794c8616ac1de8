"""GraphQL over websockets (graphql-transport-ws and legacy graphql-ws) via Strawberry's view.

Strawberry's handlers already enforce most of graphql-transport-ws: close 4400 on non-JSON,
unknown types and missing fields, 4401 on subscribe before the ack, 4403 when `on_ws_connect`
rejects, 4408 past the init timeout, 4409 on an id in use and 4429 on a second connection_init;
they answer ping with pong, and the legacy handler sends `ka`. The subclasses below add only what
it lacks: messages of the wrong shape rejected instead of crashing the handler, the timeout and
the operation bound from the app's settings, and a bound that answers `RATE_LIMITED`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from graphql import GraphQLFormattedError
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage as LegacyInitMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.types import (
    OperationMessage,
    StartMessage,
)
from strawberry.types.unset import UNSET, UnsetType

from graphql_api.accounts.cookies import ACCESS_COOKIE, origin_allowed, trusted_origins
from graphql_api.context import Context, bearer_token
from graphql_api.core.errors import ApiError, RateLimited, Unauthenticated
from graphql_api.core.streams import SharedData


def _malformed(message: object, start_type: str) -> str | None:
    """Why `message` is not a protocol message, or None. Strawberry indexes into messages and
    catches only KeyError, so any other shape (a JSON array, a string payload) raised out of its
    handler: a logged traceback and a dropped socket instead of the protocol's answer."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "A message must be a JSON object with a string `type`."
    if message["type"] != start_type:
        return None
    payload = message.get("payload")
    if not isinstance(message.get("id"), str) or not message["id"]:
        return f"`{start_type}` needs a non-empty string `id`."
    if not (isinstance(payload, dict) and isinstance(payload.get("query"), str)
            and isinstance(payload.get("variables") or {}, dict)
            and isinstance(payload.get("operationName") or "", str)):
        return (f"`{start_type}` needs a payload with a string `query` (and, when given, "
                "object `variables` and a string `operationName`).")
    return None


def _too_many(limit: int) -> GraphQLFormattedError:
    return RateLimited(f"At most {limit} operations may run at once on one connection.").formatted


# The operation bound lives in the handlers: only they know a connection's running operations,
# and they can refuse one with the protocol's per-operation `error` message before it starts.
# Strawberry has the same check there (`max_subscriptions_per_connection`), but its error carries
# no extensions.code, so it is switched off in favour of ours. The settings are read per
# connection from the context's resources: they are the app's, which the view is not given.

class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.context.resources.settings
        self.connection_init_wait_timeout = timedelta(seconds=settings.ws_init_timeout_seconds)
        self.max_operations = settings.ws_max_operations
        self.max_subscriptions_per_connection = None

    async def handle_message(self, message: Message) -> None:
        if (reason := _malformed(message, "subscribe")) is not None:
            await self.handle_invalid_message(reason)
            return
        if message["type"] == "connection_init" and message.get("payload", {}) is None:
            # The protocol allows `"payload": null` (no parameters); Strawberry closes with 4400.
            message = ConnectionInitMessage(type="connection_init")
        await super().handle_message(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # Not before the ack (4401) nor on an id in use (4409): Strawberry answers those.
        if (self.connection_acknowledged and message["id"] not in self.operations
                and len(self.operations) >= self.max_operations):
            await self.send_message({"id": message["id"], "type": "error",
                                     "payload": [_too_many(self.max_operations)]})
            return
        await super().handle_subscribe(message)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_operations = self.context.resources.settings.ws_max_operations
        self.max_subscriptions_per_connection = None

    async def handle_message(self, message: OperationMessage) -> None:
        if (reason := _malformed(message, "start")) is not None:
            # The legacy protocol answers a bad message with `error` and keeps the connection.
            op_id = message.get("id") if isinstance(message, dict) else None
            error: dict[str, Any] = {"type": "error", "payload": {"message": reason}}
            if isinstance(op_id, str):
                error["id"] = op_id
            await self.send_message(cast("OperationMessage", error))
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: LegacyInitMessage) -> None:
        if self.connection_acknowledged:
            # Strawberry would ack again, re-read the caller under running operations and
            # leak the first keep-alive task; refuse it as graphql-transport-ws does.
            await self.send_message({"type": "connection_error",
                                     "payload": {"message": "Too many initialisation requests"}})
            await self.websocket.close(code=4429, reason="Too many initialisation requests")
            return
        await super().handle_connection_init(message)

    async def handle_start(self, message: StartMessage) -> None:
        # A start with a running id replaces that operation (Strawberry stops it first).
        if (self.connection_acknowledged and message["id"] not in self.tasks
                and len(self.tasks) >= self.max_operations):
            await self.send_message({"type": "error", "id": message["id"],
                                     "payload": _too_many(self.max_operations)})
            return
        await super().handle_start(message)


class GraphQLWebSocket(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, schema: Any, allowed_origins: list[str]) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
            keep_alive=True,
            keep_alive_interval=15,
            allowed_origins=allowed_origins,
        )

    def encode_json(self, data: object) -> str | bytes:
        """A message, as Strawberry encodes it; a shared execution's `next` (`data`) payload is
        encoded once per distinct rest of the message (its `id`, mostly "1": once per event)
        for all its subscribers: the same bytes, without 2,000 encodings of the same data."""
        # Both protocols' data messages: {id, type, payload}, in one order or the other.
        payload = data.get("payload") if (type(data) is dict and len(data) == 3 and "id" in data
                                          and "type" in data) else None
        shared = payload.get("data") if type(payload) is dict and len(payload) == 1 else None
        if not isinstance(shared, SharedData):  # errors or extensions: encoded per message
            return super().encode_json(data)
        assert isinstance(data, dict)
        rest = (tuple(data), data.get("id"), data.get("type"))
        try:
            return shared.encoded[rest]
        except KeyError:
            encoded = shared.encoded[rest] = super().encode_json(data)
            return encoded
        except TypeError:  # an id that is not a string: not a message we know
            return super().encode_json(data)

    async def get_context(self, request: Any, response: Any) -> Context:
        app = request.scope["app"]
        return Context(resources=app.state.resources, signer=app.state.signer, request=request)

    async def on_ws_connect(self, context: Context) -> UnsetType:
        """The caller: from the connection_init payload's `authorization` (any capitalisation),
        else the handshake's `Authorization` header, else its access cookie (a browser session).
        A token that is present but bad rejects the connection; none at all is anonymous."""
        try:
            context.token = self._token(context.connection_params or {}, context.request)
            _ = context.claims  # verify now
        except ApiError:
            raise ConnectionRejectionError({"message": "Invalid access token."}) from None
        return UNSET  # a plain connection_ack (None would send `"payload": null`)

    def _token(self, params: dict[str, Any], request: Any) -> str | None:
        values = [v for k, v in params.items() if k.lower() == "authorization" and v is not None]
        if len(values) > 1:  # which one is meant? (a proxy may have read the other)
            raise Unauthenticated("More than one `authorization` in connection_init.")
        if values:
            if not isinstance(values[0], str):
                raise Unauthenticated("`authorization` must be `Bearer <token>`.")
            if values[0]:
                return bearer_token(values[0])
        # Browsers cannot set this header on a websocket: no cross-site risk, unlike the cookie.
        header: str | None = request.headers.get("authorization")
        if header is not None:
            return bearer_token(header)
        return self._cookie_token(request)

    def _cookie_token(self, request: Any) -> str | None:
        """The access cookie, for a handshake from this site or an allowed origin only.

        Browsers apply no CORS to websockets and always send `Origin`: a cookie session needs
        it to be ours (Strawberry's handshake check lets origin-less clients through).
        """
        token: str | None = request.cookies.get(ACCESS_COOKIE) or None
        if token is not None and not origin_allowed(
            request.headers.get("origin"), request.headers.get("host"),
            trusted_origins(tuple(self.allowed_origins)), required=True,
        ):
            raise ConnectionRejectionError(
                {"message": "A cookie session must come from this site or an allowed Origin."})
        return token
