"""The per-request context: the caller, the process resources and fresh DataLoaders."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import bindparam, select

from graphql_api.accounts.cookies import SessionCookies
from graphql_api.accounts.models import User
from graphql_api.accounts.security import AccessClaims, TokenError, TokenSigner
from graphql_api.accounts.sessions import AfterSignIn
from graphql_api.carts.service import merge_guest_cart
from graphql_api.catalog.loaders import CatalogLoaders
from graphql_api.catalog.reads import CatalogReads
from graphql_api.catalog.warming import product_views
from graphql_api.core import driver_reads
from graphql_api.core.database import Database
from graphql_api.core.errors import Unauthenticated
from graphql_api.core.resources import Resources
from graphql_api.orders.loaders import OrderLoaders
from graphql_api.tracking.priority import Slot
from graphql_api.tracking.sessions import SESSION_HEADER, current_session, valid_session

CART_TOKEN_HEADER = "x-cart-token"  # noqa: S105 (a header name)


@dataclass
class Context:
    resources: Resources
    signer: TokenSigner
    token: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None
    # The session cookies of an HTTP POST (read, and to set on the response); None where cookies
    # cannot be used: GET requests and websockets.
    cookies: SessionCookies | None = None
    password_checks: int = 0
    # Product detail views of this request ("id:12", "slug:blue-mug"), kept with a cached
    # response so that serving it from the cache counts them again.
    views: list[str] = field(default_factory=list)
    # eventTrack calls of this operation already counted against the client's rate limit, and
    # the refusal if the count was over it (tracking/types.py).
    events_prepaid: int = 0
    events_refused: dict[str, Any] | None = None
    # The event slot this operation holds (tracking/priority.py), released as it ends.
    events_slot: Slot | None = None
    _operations: int = 0
    _user: User | None = None
    _user_loaded: bool = False
    _identity: tuple[int | None, str] | None = None  # caller_identity(), made once per read
    # The catalog reads the request started with (the response cache's lookup read the
    # generation through them); the first `catalog` uses them, a refreshed one starts afresh.
    first_reads: CatalogReads | None = None

    @property
    def anonymous(self) -> bool:
        """No credentials at all: no token, and no session cookie (an access or refresh one)."""
        return anonymous(self.token, self.cookies)

    @cached_property
    def claims(self) -> AccessClaims | None:
        """The verified token's claims; a token that is present but invalid fails the request."""
        if self.token is None:
            return None
        try:
            return self.signer.verify_access(self.token)
        except TokenError:
            raise Unauthenticated("Invalid or expired access token.") from None

    async def user(self) -> User | None:
        """The caller, read from the database once per request (so a role change applies now)."""
        if not self._user_loaded:
            claims = self.claims
            if claims is not None:
                user = await read_user(self.resources.db, claims.user_id)
                if user is None or not user.is_active:
                    raise Unauthenticated("This account no longer exists or is disabled.")
                self._user = user
            self._user_loaded = True
            self._identity = (None, "anonymous") if self._user is None else (
                self._user.id, self._user.role)
        return self._user

    @cached_property
    def catalog(self) -> CatalogLoaders:
        reads, self.first_reads = self.first_reads, None
        return CatalogLoaders(reads or CatalogReads(self.resources))

    def record_view(self, view: str) -> None:
        self.views.append(view)
        product_views(self.resources).record([view])

    @cached_property
    def orders(self) -> OrderLoaders:
        return OrderLoaders(self.resources.db)

    def guest_cart_merge(self, cart_token: str) -> AfterSignIn:
        """For tokenCreate: the guest cart joins the account's cart as the sign-in commits (an
        unknown or used token changes nothing)."""
        return lambda session, user_id: merge_guest_cart(session, cart_token, user_id)

    @property
    def cart_token(self) -> str | None:
        """A guest cart's token: the `X-Cart-Token` header, or `cartToken` in a websocket's
        connection_init payload."""
        headers = getattr(self.request, "headers", None)
        token = headers.get(CART_TOKEN_HEADER) if headers is not None else None
        if token is None and self.connection_params:
            token = self.connection_params.get("cartToken")
        return token.strip() or None if isinstance(token, str) else None

    @property
    def session_id(self) -> str | None:
        """The client's analytics session: the `X-Session-Id` header, or `sessionId` in a
        websocket's connection_init payload (tracking/sessions.py); None when absent or invalid."""
        headers = getattr(self.request, "headers", None)
        value = headers.get(SESSION_HEADER) if headers is not None else None
        if value is None and self.connection_params:
            value = self.connection_params.get("sessionId")
        return valid_session(value)

    def begin_operation(self) -> None:
        """Forget what an earlier operation learnt. A websocket keeps one context for all its
        operations: each must verify the token again, read the caller's current role and read
        the catalog afresh. An HTTP request's single operation keeps what was read before it."""
        # The events the server records during the operation carry the client's session.
        current_session.set(self.session_id)
        self.events_prepaid, self.events_refused = 0, None
        self._operations += 1
        if self._operations == 1:
            return
        self.__dict__.pop("claims", None)
        self.forget_user()
        self.password_checks = 0
        self.views.clear()
        self.refresh_loaders()

    def end_operation(self) -> None:
        """Give back what the operation held for its duration (an event slot); OperationScope
        calls it as each operation ends, however it ends."""
        if self.events_slot is not None:
            self.events_slot.release()
            self.events_slot = None

    def caller_identity(self) -> tuple[int | None, str] | None:
        """The caller as resolvers see it through `user()`: (id, role), (None, "anonymous"), or
        None while not read yet. Subscribers with equal identities share an order event's
        execution (core/streams.py)."""
        return self._identity

    def for_shared_execution(self) -> Context:
        """A copy with the same caller (token, claims, loaded user, connection parameters) for
        an execution many subscribers share: its loaders are its own, this context's are left
        alone."""
        twin = copy.copy(self)
        twin.refresh_loaders()
        return twin

    def forget_user(self) -> None:
        """Read the caller again on next use (their role may have changed since)."""
        self._user, self._user_loaded, self._identity = None, False, None

    def refresh_loaders(self) -> None:
        """Drop what this context has loaded (a long-lived subscription re-reads after a change)."""
        self.__dict__.pop("catalog", None)
        self.__dict__.pop("orders", None)


def anonymous(token: str | None, cookies: SessionCookies | None) -> bool:
    """No credentials at all: no token, and no session cookie (an access or refresh one)."""
    return token is None and not (cookies is not None and cookies.presented)


_users = User.__table__  # type: ignore[attr-defined]
# Built once: a statement and its SQLAlchemy cache key made per request cost more than its read.
_USER_BY_ID = select(_users).where(_users.c.id == bindparam("user_id"))


async def read_user(db: Database, user_id: int) -> User | None:
    """One round trip (a bare read, no session's BEGIN and ROLLBACK): every authenticated
    operation starts with it."""
    async with db.read() as conn:
        rows = await driver_reads.fetch(conn, _USER_BY_ID, {"user_id": user_id})
    return User.model_validate(dict(zip(_users.c.keys(), rows[0], strict=True))) if rows else None


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("Authorization must be `Bearer <token>`.")
    return value.strip()
