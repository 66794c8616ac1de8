"""`POST /auth/token`: the OAuth2 password and refresh_token grants, and RFC 6749 errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import col
from starlette.applications import Starlette

from graphql_api.accounts.models import RefreshToken
from graphql_api.accounts.security import token_digest
from graphql_api.accounts.service import REUSE_GRACE
from graphql_api.core.models import utcnow
from graphql_api.core.settings import Settings
from tests.accounts.test_cookies import browser
from tests.conftest import PASSWORD, make_user

ME = "{ me { email } }"


async def token(http: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await http.post("/auth/token", data=form)


def assert_oauth_error(response: httpx.Response, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


async def test_password_grant(app: Starlette, resources: Any, settings: Settings) -> None:
    _, email, _ = await make_user(resources)
    async with browser(app) as http:
        response = await token(http, grant_type="password", username=email.upper(),
                               password=PASSWORD)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == settings.access_token_ttl_seconds
        assert "set-cookie" not in response.headers
        me = await http.post("/graphql", json={"query": ME},
                             headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.json() == {"data": {"me": {"email": email}}}


async def test_wrong_password_and_unknown_user_are_invalid_grant(app: Starlette,
                                                                 resources: Any) -> None:
    _, email, _ = await make_user(resources)
    async with browser(app) as http:
        wrong = await token(http, grant_type="password", username=email, password="x" + PASSWORD)
        unknown = await token(http, grant_type="password", username="nobody@example.com",
                              password=PASSWORD)
    assert_oauth_error(wrong, "invalid_grant")
    assert_oauth_error(unknown, "invalid_grant")
    assert wrong.json() == unknown.json()  # which emails exist is not revealed


async def test_malformed_requests_are_invalid_request(app: Starlette) -> None:
    async with browser(app) as http:
        assert_oauth_error(await token(http, grant_type="password", username="a@example.com"),
                           "invalid_request")
        assert_oauth_error(await token(http, grant_type="password", password="", username=""),
                           "invalid_request")  # blank values count as absent
        assert_oauth_error(await token(http, grant_type="refresh_token"), "invalid_request")
        assert_oauth_error(await token(http, username="a@example.com", password=PASSWORD),
                           "invalid_request")
        as_json = await http.post("/auth/token", json={"grant_type": "password"})
        assert_oauth_error(as_json, "invalid_request")
        repeated = await http.post(
            "/auth/token", content="grant_type=refresh_token&refresh_token=a&refresh_token=b",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert_oauth_error(repeated, "invalid_request")
        huge = await token(http, grant_type="refresh_token", refresh_token="x" * 10_000)
        assert_oauth_error(huge, "invalid_request")
        assert (await http.get("/auth/token")).status_code == 405


async def test_unknown_grant_is_unsupported(app: Starlette) -> None:
    async with browser(app) as http:
        for grant in ("client_credentials", "authorization_code", "nonsense"):
            assert_oauth_error(await token(http, grant_type=grant), "unsupported_grant_type")


async def test_refresh_grant_rotates_and_reuse_revokes_the_family(app: Starlette,
                                                                  resources: Any) -> None:
    _, email, _ = await make_user(resources)
    async with browser(app) as http:
        first = (await token(http, grant_type="password", username=email,
                             password=PASSWORD)).json()
        rotated = await token(http, grant_type="refresh_token",
                              refresh_token=first["refresh_token"])
        assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
        second = rotated.json()
        assert second["token_type"] == "bearer"
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        # Within the grace window (two tabs racing) the old token is refused, nothing revoked.
        racing = await token(http, grant_type="refresh_token",
                             refresh_token=first["refresh_token"])
        assert_oauth_error(racing, "invalid_grant")
        # Past it, the reuse looks like theft: refused, and the whole family is revoked.
        async with resources.db.transaction() as session:
            await session.execute(
                update(RefreshToken)
                .where(col(RefreshToken.token_hash) == token_digest(first["refresh_token"]))
                .values(revoked_at=utcnow() - REUSE_GRACE - timedelta(seconds=5)))
        reused = await token(http, grant_type="refresh_token",
                             refresh_token=first["refresh_token"])
        assert_oauth_error(reused, "invalid_grant")
        revoked = await token(http, grant_type="refresh_token",
                              refresh_token=second["refresh_token"])
        assert_oauth_error(revoked, "invalid_grant")


async def test_password_grant_shares_the_graphql_rate_limit(app: Starlette, resources: Any,
                                                            settings: Settings) -> None:
    _, email, _ = await make_user(resources)
    login = ("mutation($e: String!, $p: String!) { tokenCreate(input: {email: $e, password: $p})"
             " { accessToken } }")
    async with browser(app) as http:
        attempts = settings.login_attempts_per_email
        for i in range(attempts):
            if i % 2:
                await token(http, grant_type="password", username=email, password="wrong-Pass-1")
            else:
                await http.post("/graphql", json={"query": login,
                                                  "variables": {"e": email, "p": "wrong-Pass-1"}})
        limited = await token(http, grant_type="password", username=email, password=PASSWORD)
        assert_oauth_error(limited, "temporarily_unavailable", 429)
        assert 0 < int(limited.headers["retry-after"]) <= settings.login_window_seconds
        graphql = await http.post("/graphql", json={"query": login,
                                                    "variables": {"e": email, "p": PASSWORD}})
        assert graphql.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
