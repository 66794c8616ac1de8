"""Browser sessions: the tokens as HttpOnly cookies, and the Origin rules that keep them safe.

A cookie rides along on any request the browser makes, including ones a hostile page causes, so
a request that reads or sets these cookies must prove it comes from a page we trust: it is a POST
with `Content-Type: application/json` (a cross-site form cannot send that, and a cross-site fetch
with it needs a CORS preflight we only grant to ALLOWED_ORIGINS), and its `Origin`, when present,
is the API's own origin or one of ALLOWED_ORIGINS; with ALLOWED_ORIGINS set, `Origin` is required.
GET requests never read the cookies: they are served as anonymous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.http.websocket_origin import is_same_origin, normalize_origin

from graphql_api.accounts.security import TokenSigner
from graphql_api.accounts.service import TokenPair
from graphql_api.core.settings import Settings

ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"
ACCESS_COOKIE_PATH = "/"
# Only GraphQL's tokenRefresh / tokenRevoke read it: other paths never see the refresh token.
REFRESH_COOKIE_PATH = "/graphql"


@lru_cache(maxsize=16)
def trusted_origins(allowed_origins: tuple[str, ...]) -> frozenset[str]:
    """ALLOWED_ORIGINS, normalised; `*` opens CORS to everyone but never counts for cookies."""
    normalized = (normalize_origin(o) for o in allowed_origins if o != "*")
    return frozenset(o for o in normalized if o is not None)


def origin_allowed(origin: str | None, host: str | None, trusted: frozenset[str], *,
                   required: bool) -> bool:
    """Whether a request carrying session cookies may come from `origin`.

    Same-origin compares host and port only (as Strawberry's websocket check does), so TLS
    terminated at a proxy still counts as the same origin.
    """
    if origin is None:
        return not required
    if is_same_origin(origin, host):
        return True
    normalized = normalize_origin(origin)
    return normalized is not None and normalized in trusted


def cookies_secure(settings: Settings) -> bool:
    """`Secure` everywhere but local development, which runs on plain http://localhost."""
    return settings.app_env != "development"


@dataclass
class SessionCookies:
    """The session cookies of one HTTP request: what it sent and what its response sets."""

    access_token: str | None
    refresh_token: str | None
    # Whether this request may read or set the cookies (see the module's Origin rules).
    origin_ok: bool
    _set: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    _cleared: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, request: HTTPConnection, settings: Settings, *, read: bool
                     ) -> SessionCookies:
        """`read=False` (a request with an Authorization header) ignores the cookies sent."""
        trusted = trusted_origins(tuple(settings.allowed_origins))
        ok = origin_allowed(request.headers.get("origin"), request.headers.get("host"), trusted,
                            required=bool(settings.allowed_origins))
        if not read:
            return cls(None, None, ok)
        return cls(request.cookies.get(ACCESS_COOKIE) or None,
                   request.cookies.get(REFRESH_COOKIE) or None, ok)

    @property
    def presented(self) -> bool:
        """The request is cookie-authenticated: it has a caller, so it is never cached."""
        return self.access_token is not None or self.refresh_token is not None

    @property
    def changed(self) -> bool:
        return bool(self._set or self._cleared)

    def set_tokens(self, pair: TokenPair, signer: TokenSigner) -> None:
        self._cleared.clear()
        self._set[ACCESS_COOKIE] = (pair.access_token, int(signer.access_ttl.total_seconds()),
                                    ACCESS_COOKIE_PATH)
        self._set[REFRESH_COOKIE] = (pair.refresh_token, int(signer.refresh_ttl.total_seconds()),
                                     REFRESH_COOKIE_PATH)

    def clear(self) -> None:
        self._set.clear()
        self._cleared = {ACCESS_COOKIE: ACCESS_COOKIE_PATH, REFRESH_COOKIE: REFRESH_COOKIE_PATH}

    def apply(self, response: Response, settings: Settings) -> None:
        secure = cookies_secure(settings)
        for name, (value, max_age, path) in self._set.items():
            response.set_cookie(name, value, max_age=max_age, path=path, secure=secure,
                                httponly=True, samesite="lax")
        for name, path in self._cleared.items():
            response.delete_cookie(name, path=path, secure=secure, httponly=True, samesite="lax")
        if self.changed:
            # Tokens are in this response's headers: no cache may keep it.
            response.headers["Cache-Control"] = "no-store"
