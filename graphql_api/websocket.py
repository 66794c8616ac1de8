"""GraphQL over websockets (graphql-transport-ws and legacy graphql-ws) via Strawberry's view."""

from __future__ import annotations

from typing import Any

from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from graphql_api.accounts.cookies import ACCESS_COOKIE, origin_allowed, trusted_origins
from graphql_api.context import Context, bearer_token
from graphql_api.core.errors import ApiError


class GraphQLWebSocket(GraphQL[Context, None]):
    def __init__(self, schema: Any, allowed_origins: list[str]) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
            keep_alive=True,
            keep_alive_interval=15,
            allowed_origins=allowed_origins,
        )

    async def get_context(self, request: Any, response: Any) -> Context:
        app = request.scope["app"]
        return Context(resources=app.state.resources, signer=app.state.signer, request=request)

    async def on_ws_connect(self, context: Context) -> None:
        """The caller comes from the connection_init payload: `{"Authorization": "Bearer ..."}`,
        or else from the handshake's access cookie (a browser session)."""
        params: dict[str, Any] = getattr(context, "connection_params", None) or {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            if isinstance(header, str):
                context.token = bearer_token(header)
            else:
                context.token = self._cookie_token(context.request)
            _ = context.claims  # verify now: a bad token rejects the connection
        except ApiError:
            raise ConnectionRejectionError({"message": "Invalid access token."}) from None

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
