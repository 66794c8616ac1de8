"""Browser sessions: tokens in HttpOnly cookies, their rotation and logout, and the CSRF rules."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import websockets
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette
from websockets.typing import Origin, Subprotocol

from graphql_api.app import create_app
from graphql_api.core.settings import Settings
from tests.conftest import PASSWORD, make_user

LOGIN = """mutation($input: TokenCreateInput!) { tokenCreate(input: $input) {
  accessToken refreshToken user { email } userErrors { field code message } } }"""
REFRESH = """mutation { tokenRefresh(input: {}) {
  accessToken refreshToken user { email } userErrors { field code } } }"""
REVOKE = "mutation { tokenRevoke(input: {}) { revoked userErrors { field code } } }"
ME = "{ me { email } }"
PROTOCOLS = [Subprotocol("graphql-transport-ws")]
SITE = "https://test"  # the API's own origin for the clients below


def browser(app: Starlette, base_url: str = SITE) -> httpx.AsyncClient:
    """A client with its own cookie jar and client address (so its logins have their own rate
    limit window). https, because outside development the cookies are `Secure`."""
    address = f"10.1.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    transport = httpx.ASGITransport(app=app, client=(address, 1234))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


@asynccontextmanager
async def app_with(settings: Settings, **update: Any) -> AsyncIterator[Starlette]:
    application = create_app(settings.model_copy(update=update))
    async with LifespanManager(application):
        yield application


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
               **headers: str) -> httpx.Response:
    return await http.post("/graphql", json={"query": query, "variables": variables},
                           headers=headers)


async def cookie_login(http: httpx.AsyncClient, email: str, **headers: str) -> httpx.Response:
    response = await post(http, LOGIN, {"input": {"email": email, "password": PASSWORD,
                                                  "useCookies": True}}, **headers)
    assert response.status_code == 200, response.text
    return response


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name, lower-cased for attribute checks."""
    cookies = {}
    for header in response.headers.get_list("set-cookie"):
        cookies[header.split("=", 1)[0]] = header.lower()
    return cookies


def cookie_value(response: httpx.Response, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        key, _, rest = header.partition("=")
        if key == name:
            return rest.split(";", 1)[0]
    raise AssertionError(f"no {name} cookie set")


async def test_cookie_login_sets_httponly_cookies_and_returns_no_tokens(
    app: Starlette, resources: Any, settings: Settings
) -> None:
    _, email, _ = await make_user(resources)
    async with browser(app) as http:
        response = await cookie_login(http, email)
        payload = response.json()["data"]["tokenCreate"]
        assert payload == {"accessToken": None, "refreshToken": None, "user": {"email": email},
                           "userErrors": []}
        assert response.headers["cache-control"] == "no-store"
        cookies = set_cookies(response)
        assert set(cookies) == {"access_token", "refresh_token"}
        for header in cookies.values():
            assert "httponly" in header and "samesite=lax" in header
            assert "secure" in header  # APP_ENV=test is not development
        assert f"max-age={settings.access_token_ttl_seconds}" in cookies["access_token"]
        assert "path=/;" in cookies["access_token"] + ";"
        assert f"max-age={settings.refresh_token_ttl_seconds}" in cookies["refresh_token"]
        assert "path=/graphql" in cookies["refresh_token"]
        # The access cookie alone signs the browser in.
        me = await post(http, ME)
        assert me.json() == {"data": {"me": {"email": email}}}


@pytest.mark.parametrize(("app_env", "secure"), [("development", False), ("production", True)])
async def test_secure_flag_outside_development(prepared: Settings, app_env: str,
                                               secure: bool) -> None:
    async with app_with(prepared, app_env=app_env) as application:
        _, email, _ = await make_user(application.state.resources)
        async with browser(application, "http://localhost") as http:
            cookies = set_cookies(await cookie_login(http, email))
    assert all(("; secure" in header) is secure for header in cookies.values())


async def test_refresh_by_cookie_rotates_both_and_the_old_cookie_fails(
    app: Starlette, resources: Any
) -> None:
    _, email, _ = await make_user(resources)
    async with browser(app) as http:
        login = await cookie_login(http, email)
        old_access, old_refresh = (cookie_value(login, "access_token"),
                                   cookie_value(login, "refresh_token"))
        refreshed = await post(http, REFRESH)
        payload = refreshed.json()["data"]["tokenRefresh"]
        assert payload == {"accessToken": None, "refreshToken": None, "user": {"email": email},
                           "userErrors": []}
        new_access, new_refresh = (cookie_value(refreshed, "access_token"),
                                   cookie_value(refreshed, "refresh_token"))
        assert new_access != old_access and new_refresh != old_refresh
        assert (await post(http, ME)).json()["data"]["me"] == {"email": email}
    async with browser(app) as stale:
        again = await post(stale, REFRESH, Cookie=f"refresh_token={old_refresh}")
        assert again.json()["data"]["tokenRefresh"]["userErrors"] == [
            {"field": ["refreshToken"], "code": "INVALID_TOKEN"}]
        assert "set-cookie" not in again.headers


async def test_refresh_works_once_the_access_cookie_has_expired(app: Starlette,
                                                                resources: Any) -> None:
    _, email, _ = await make_user(resources)
    async with browser(app) as http:
        refresh = cookie_value(await cookie_login(http, email), "refresh_token")
    async with browser(app) as http:
        # The browser dropped the access cookie (or sends a stale one): refreshing still works.
        for cookie in (f"refresh_token={refresh}", "access_token=stale.jwt.value"):
            if cookie.startswith("access"):
                cookie += f"; refresh_token={refresh}"
            response = await post(http, REFRESH, Cookie=cookie)
            assert response.json()["data"]["tokenRefresh"]["userErrors"] == []
            refresh = cookie_value(response, "refresh_token")
        me = await post(http, ME, Cookie="access_token=stale.jwt.value")
        assert me.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_refresh_without_token_or_cookie_is_a_user_error(app: Starlette) -> None:
    async with browser(app) as http:
        payload = (await post(http, REFRESH)).json()["data"]["tokenRefresh"]
    assert payload["userErrors"] == [{"field": ["refreshToken"], "code": "REQUIRED"}]


async def test_logout_clears_the_cookies_and_the_old_refresh_cookie_stops_working(
    app: Starlette, resources: Any
) -> None:
    _, email, _ = await make_user(resources)
    async with browser(app) as http:
        login = await cookie_login(http, email)
        old_refresh = cookie_value(login, "refresh_token")
        logout = await post(http, REVOKE)
        assert logout.json()["data"]["tokenRevoke"] == {"revoked": True, "userErrors": []}
        cleared = set_cookies(logout)
        assert set(cleared) == {"access_token", "refresh_token"}
        assert all("max-age=0" in header for header in cleared.values())
        assert "path=/graphql" in cleared["refresh_token"]
        assert not http.cookies  # the browser forgot the session
        assert (await post(http, ME)).json()["data"]["me"] is None
    async with browser(app) as stale:
        again = await post(stale, REFRESH, Cookie=f"refresh_token={old_refresh}")
        assert again.json()["data"]["tokenRefresh"]["userErrors"][0]["code"] == "INVALID_TOKEN"


async def test_a_cookie_on_a_cross_site_origin_is_forbidden(app: Starlette, resources: Any
                                                            ) -> None:
    """No ALLOWED_ORIGINS: a cookie request's Origin, when sent, must be the API's own."""
    _, email, _ = await make_user(resources)
    async with browser(app) as http:
        await cookie_login(http, email, Origin=SITE)
        forged = await post(http, ME, Origin="https://evil.example")
        assert forged.status_code == 403
        assert forged.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        logout = await post(http, REVOKE, Origin="https://evil.example")
        assert logout.status_code == 403 and "set-cookie" not in logout.headers
        assert (await post(http, ME, Origin=SITE)).json()["data"]["me"] == {"email": email}
        assert (await post(http, ME)).json()["data"]["me"] == {"email": email}


async def test_cookie_login_from_a_cross_site_origin_sets_nothing(app: Starlette,
                                                                  resources: Any) -> None:
    _, email, _ = await make_user(resources)
    async with browser(app) as http:
        response = await post(http, LOGIN, {"input": {"email": email, "password": PASSWORD,
                                                      "useCookies": True}},
                              Origin="https://evil.example")
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "set-cookie" not in response.headers


async def test_allowed_origins_are_required_for_cookie_requests(prepared: Settings) -> None:
    shop = "https://shop.example"
    async with app_with(prepared, allowed_origins=[shop]) as application:
        _, email, _ = await make_user(application.state.resources)
        async with browser(application) as http:
            await cookie_login(http, email, Origin=shop)
            for refused in (await post(http, ME, Origin="https://evil.example"),
                            await post(http, ME)):  # no Origin at all
                assert refused.status_code == 403
                assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            assert (await post(http, ME, Origin=shop)).json()["data"]["me"] == {"email": email}
            assert (await post(http, ME, Origin=SITE)).json()["data"]["me"] == {"email": email}
            # Without cookies nothing is at stake: a request from anywhere stays anonymous.
            http.cookies.clear()
            anonymous = await post(http, ME, Origin="https://evil.example")
            assert anonymous.status_code == 200 and anonymous.json()["data"]["me"] is None
            # Credentialed CORS for the listed origin, so its pages can send the cookies.
            preflight = await http.options("/graphql", headers={
                "Origin": shop, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type"})
            assert preflight.headers["access-control-allow-credentials"] == "true"
            assert preflight.headers["access-control-allow-origin"] == shop


async def test_a_form_post_with_a_cookie_is_refused(app: Starlette, resources: Any) -> None:
    _, email, _ = await make_user(resources)
    async with browser(app) as http:
        await cookie_login(http, email)
        for content_type in ("application/x-www-form-urlencoded", "text/plain"):
            forged = await http.post("/graphql", content=f"query={REVOKE}",
                                     headers={"Content-Type": content_type})
            assert forged.status_code == 415
        # Nothing ran: the session is intact.
        assert (await post(http, ME)).json()["data"]["me"] == {"email": email}
        assert (await post(http, REFRESH)).json()["data"]["tokenRefresh"]["userErrors"] == []


async def test_a_get_with_a_cookie_is_anonymous(app: Starlette, resources: Any) -> None:
    _, email, _ = await make_user(resources)
    async with browser(app) as http:
        await cookie_login(http, email)
        assert (await post(http, ME)).json()["data"]["me"] == {"email": email}
        response = await http.get("/graphql", params={"query": ME})
        assert response.status_code == 200
        assert response.json() == {"data": {"me": None}}


async def test_cookie_requests_are_never_served_from_or_stored_in_the_response_cache(
    app: Starlette, resources: Any
) -> None:
    _, email, _ = await make_user(resources)
    query = f"{{ c{uuid.uuid4().hex}: categories {{ slug }} }}"
    async with browser(app) as http:
        await cookie_login(http, email)
        for _ in range(2):
            response = await post(http, query)
            assert response.status_code == 200 and "x-cache" not in response.headers
        # Nothing was stored: the first anonymous request is a miss, the second a hit.
        async with browser(app) as anonymous:
            assert "x-cache" not in (await post(anonymous, query)).headers
            assert (await post(anonymous, query)).headers.get("x-cache") == "hit"
        # Nor is a cookie request served what anonymous callers stored, even with only the
        # refresh cookie.
        assert "x-cache" not in (await post(http, query)).headers
        refresh_only = f"refresh_token={http.cookies['refresh_token']}"
    async with browser(app) as bare:
        assert "x-cache" not in (await post(bare, query, Cookie=refresh_only)).headers


async def _recv(ws: Any) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if message["type"] not in ("ping", "pong", "ka"):
            return message


async def test_websocket_cookie_session_needs_the_sites_origin(
    app: Starlette, resources: Any, live_url: str
) -> None:
    _, email, _ = await make_user(resources)
    async with browser(app) as http:
        access = cookie_value(await cookie_login(http, email), "access_token")
    url, cookie = f"ws://{live_url}/graphql", {"Cookie": f"access_token={access}"}
    # A page elsewhere is refused at the handshake, although ALLOWED_ORIGINS is empty.
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url, subprotocols=PROTOCOLS,
                                      origin=Origin("https://evil.example"), additional_headers=cookie):
            pass
    assert refused.value.response.status_code == 403
    # A cookie without any Origin is not a browser session: refused at connection_init.
    async with websockets.connect(url, subprotocols=PROTOCOLS,
                                  additional_headers=cookie) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    # From the site itself the cookie signs the socket in; cookies cannot be set over it.
    async with websockets.connect(url, subprotocols=PROTOCOLS,
                                  origin=Origin(f"http://{live_url}"), additional_headers=cookie) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await _recv(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": ME}}))
        assert (await _recv(ws))["payload"] == {"data": {"me": {"email": email}}}
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {
            "query": LOGIN,
            "variables": {"input": {"email": email, "password": PASSWORD, "useCookies": True}}}}))
        while (message := await _recv(ws))["type"] == "complete":
            pass
        assert message["payload"]["data"]["tokenCreate"]["userErrors"] == [
            {"field": ["useCookies"], "code": "INVALID",
             "message": "Cookies can only be set over HTTP."}]
