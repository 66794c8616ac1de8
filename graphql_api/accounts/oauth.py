"""`POST /auth/token`: the OAuth2 token endpoint (RFC 6749), password and refresh_token grants.

For clients that speak OAuth2 rather than GraphQL. It runs the same operations as the token
mutations (`sessions.py`) under the same password rate limits, so the rules cannot drift apart.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse

from graphql_api.accounts import sessions
from graphql_api.accounts.permissions import limit_password_attempts
from graphql_api.accounts.security import TokenSigner
from graphql_api.accounts.service import TokenPair
from graphql_api.core.errors import RateLimited
from graphql_api.core.resources import Resources

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 8 * 1024  # two short parameters and a password: anything larger is not ours
MAX_FORM_FIELDS = 10
# RFC 6749 5.1: token responses must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status
        self.headers = headers or {}


async def token_endpoint(request: Request) -> JSONResponse:
    try:
        form = await _read_form(request)
        grant = form.get("grant_type")
        if grant is None:
            raise OAuthError("invalid_request", "grant_type is required.")
        if grant == "password":
            pair = await _password_grant(request, form)
        elif grant == "refresh_token":
            pair = await _refresh_grant(request, form)
        else:
            raise OAuthError("unsupported_grant_type",
                             "Supported grants: password and refresh_token.")
    except OAuthError as exc:
        return JSONResponse({"error": exc.error, "error_description": exc.description},
                            status_code=exc.status, headers={**NO_STORE, **exc.headers})
    signer: TokenSigner = request.app.state.signer
    body = {
        "access_token": pair.access_token,
        "token_type": "bearer",
        "expires_in": int(signer.access_ttl.total_seconds()),
        "refresh_token": pair.refresh_token,
    }
    return JSONResponse(body, headers=NO_STORE)


async def _read_form(request: Request) -> dict[str, str]:
    """The urlencoded body (bounded), without python-multipart; blank values count as absent."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != FORM:
        raise OAuthError("invalid_request", f"Send the parameters as {FORM}.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise OAuthError("invalid_request", "The request body is too large.")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=False, strict_parsing=False,
                          max_num_fields=MAX_FORM_FIELDS, errors="strict")
    except ValueError:  # bad UTF-8 or too many fields
        raise OAuthError("invalid_request", "The request body is not a valid form.") from None
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
    if repeated:  # RFC 6749 3.2: parameters must not be repeated
        raise OAuthError("invalid_request", f"Repeated parameter: {', '.join(repeated)}.")
    return {name: values[0] for name, values in parsed.items()}


def _required(form: dict[str, str], *names: str) -> list[str]:
    missing = [name for name in names if name not in form]
    if missing:
        raise OAuthError("invalid_request", f"Missing parameter: {', '.join(missing)}.")
    return [form[name] for name in names]


async def _password_grant(request: Request, form: dict[str, Any]) -> TokenPair:
    username, password = _required(form, "username", "password")
    resources: Resources = request.app.state.resources
    try:
        await limit_password_attempts(resources, request.client.host if request.client else None,
                                      username)
    except RateLimited as exc:
        retry_after = str((exc.extensions or {}).get("retryAfter", 1))
        raise OAuthError("temporarily_unavailable", exc.message, 429,
                         {"Retry-After": retry_after}) from None
    pair, errors = await sessions.sign_in(resources.db, request.app.state.signer, username,
                                          password)
    if pair is None:
        raise OAuthError("invalid_grant", errors[0].message if errors else "Invalid grant.")
    return pair


async def _refresh_grant(request: Request, form: dict[str, Any]) -> TokenPair:
    (refresh_token,) = _required(form, "refresh_token")
    resources: Resources = request.app.state.resources
    pair, errors = await sessions.refresh(resources.db, request.app.state.signer, refresh_token)
    if pair is None:
        raise OAuthError("invalid_grant", errors[0].message if errors else "Invalid grant.")
    return pair
