"""Registration, login, token rotation and revocation, roles, and every way a token can be bad."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from graphql_api.core.ids import to_global_id
from tests.conftest import PASSWORD, make_user, unique_email

REGISTER = """mutation($input: AccountRegisterInput!) { accountRegister(input: $input) {
  user { id email name role } userErrors { field code message } } }"""
LOGIN = """mutation($input: TokenCreateInput!) { tokenCreate(input: $input) {
  accessToken refreshToken user { email role } userErrors { field code message } } }"""
REFRESH = """mutation($t: String!) { tokenRefresh(input: {refreshToken: $t}) {
  accessToken refreshToken userErrors { field code } } }"""
REVOKE = """mutation($t: String!) { tokenRevoke(input: {refreshToken: $t}) {
  revoked userErrors { code } } }"""
ME = "{ me { id email role } }"


async def register(gql: Any, email: str, password: str = PASSWORD, name: str = "Ada") -> Any:
    return (await gql.data(REGISTER, {"input": {"email": email, "password": password,
                                                "name": name}}))["accountRegister"]


async def login(gql: Any, email: str, password: str = PASSWORD) -> Any:
    return (await gql.data(LOGIN, {"input": {"email": email, "password": password}}))["tokenCreate"]


async def test_register_login_me(gql: Any) -> None:
    email = unique_email()
    payload = await register(gql, "  " + email.upper() + " ")
    assert payload["userErrors"] == []
    assert payload["user"]["email"] == email and payload["user"]["role"] == "CUSTOMER"
    tokens = await login(gql, email.title())
    assert tokens["userErrors"] == [] and tokens["user"]["email"] == email
    me = await gql.data(ME, token=tokens["accessToken"])
    assert me["me"]["email"] == email and me["me"]["id"] == payload["user"]["id"]
    assert (await gql.data(ME))["me"] is None


async def test_duplicate_email_is_case_insensitive(gql: Any) -> None:
    email = unique_email()
    assert (await register(gql, email))["userErrors"] == []
    again = await register(gql, email.upper())
    assert again["user"] is None
    assert again["userErrors"] == [{"field": ["email"], "code": "DUPLICATE",
                                    "message": "An account with this email already exists."}]


@pytest.mark.parametrize("password", ["short1", "onlyletterslong", "1234567890",
                                      "password123", "x" * 129 + "1"])
async def test_weak_passwords_are_refused(gql: Any, password: str) -> None:
    payload = await register(gql, unique_email(), password)
    assert payload["user"] is None
    assert payload["userErrors"][0]["code"] == "PASSWORD_TOO_WEAK"
    assert payload["userErrors"][0]["field"] == ["password"]


async def test_password_must_not_contain_the_email(gql: Any) -> None:
    payload = await register(gql, "margaret.hamilton@example.com", "margaret.hamilton-99")
    assert payload["userErrors"][0]["code"] == "PASSWORD_TOO_WEAK"


async def test_invalid_email_and_blank_name(gql: Any) -> None:
    payload = await register(gql, "not-an-email", PASSWORD, "  ")
    codes = {(tuple(e["field"]), e["code"]) for e in payload["userErrors"]}
    assert codes == {(("email",), "INVALID"), (("name",), "REQUIRED")}


async def test_wrong_password_and_unknown_email_look_the_same(gql: Any) -> None:
    email = unique_email()
    await register(gql, email)
    wrong = await login(gql, email, PASSWORD + "x")
    unknown = await login(gql, unique_email(), PASSWORD)
    assert wrong["accessToken"] is None and wrong["userErrors"] == unknown["userErrors"]
    assert wrong["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


async def _age_rotations(resources: Any, refresh_token: str) -> None:
    """Move a token's rotation into the past, beyond the race grace period."""
    from sqlalchemy import update

    from graphql_api.accounts.models import RefreshToken
    from graphql_api.accounts.security import token_digest
    from graphql_api.accounts.service import REUSE_GRACE
    from graphql_api.core.models import utcnow

    async with resources.db.transaction() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == token_digest(refresh_token))  # type: ignore[arg-type]
            .values(revoked_at=utcnow() - 2 * REUSE_GRACE)
        )


async def test_refresh_rotates_and_old_tokens_die(gql: Any, resources: Any) -> None:
    email = unique_email()
    await register(gql, email)
    first = await login(gql, email)
    second = (await gql.data(REFRESH, {"t": first["refreshToken"]}))["tokenRefresh"]
    assert second["userErrors"] == [] and second["refreshToken"] != first["refreshToken"]
    assert (await gql.data(ME, token=second["accessToken"]))["me"]["email"] == email

    # Right after the rotation a reuse is refused, and the family lives on (two tabs racing).
    racing = (await gql.data(REFRESH, {"t": first["refreshToken"]}))["tokenRefresh"]
    assert racing["userErrors"][0]["code"] == "INVALID_TOKEN"
    # Later, the rotated token coming back means theft: the whole family is revoked.
    await _age_rotations(resources, first["refreshToken"])
    reused = (await gql.data(REFRESH, {"t": first["refreshToken"]}))["tokenRefresh"]
    assert reused["accessToken"] is None and reused["userErrors"][0]["code"] == "INVALID_TOKEN"
    stolen = (await gql.data(REFRESH, {"t": second["refreshToken"]}))["tokenRefresh"]
    assert stolen["userErrors"][0]["code"] == "INVALID_TOKEN"


async def test_concurrent_refresh_with_one_token_succeeds_once(gql: Any) -> None:
    import asyncio

    email = unique_email()
    await register(gql, email)
    tokens = await login(gql, email)
    results = await asyncio.gather(*[gql.data(REFRESH, {"t": tokens["refreshToken"]})
                                     for _ in range(5)])
    winners = [r for r in results if r["tokenRefresh"]["accessToken"]]
    assert len(winners) == 1  # exactly one successor: never two, and a race is no failure
    # The losers did not log the winner out.
    again = (await gql.data(REFRESH, {"t": winners[0]["tokenRefresh"]["refreshToken"]}))
    assert again["tokenRefresh"]["userErrors"] == []


async def test_revoke_logs_out(gql: Any) -> None:
    email = unique_email()
    await register(gql, email)
    tokens = await login(gql, email)
    revoked = (await gql.data(REVOKE, {"t": tokens["refreshToken"]}))["tokenRevoke"]
    assert revoked == {"revoked": True, "userErrors": []}
    after = (await gql.data(REFRESH, {"t": tokens["refreshToken"]}))["tokenRefresh"]
    assert after["userErrors"][0]["code"] == "INVALID_TOKEN"
    unknown = (await gql.data(REVOKE, {"t": "nonsense"}))["tokenRevoke"]
    assert unknown["revoked"] is False and unknown["userErrors"][0]["code"] == "INVALID_TOKEN"


def _forge(claims: dict[str, Any], key: str, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


async def test_bad_access_tokens_are_unauthenticated(gql: Any, settings: Any) -> None:
    now = int(time.time())
    base = {"sub": "1", "role": "super_admin", "typ": "access", "iss": settings.jwt_issuer,
            "iat": now, "exp": now + 600}
    header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    payload = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(base).encode()).decode()
    tokens = {
        "forged": _forge(base, "some-other-secret-that-is-long-enough-123"),
        "expired": _forge({**base, "iat": now - 7200, "exp": now - 3600}, settings.jwt_secret),
        "alg none": f"{header}.{payload}.",
        "wrong type": _forge({**base, "typ": "refresh"}, settings.jwt_secret),
        "wrong issuer": _forge({**base, "iss": "evil"}, settings.jwt_secret),
        "garbage": "abc.def.ghi",
    }
    for name, token in tokens.items():
        body = await gql(ME, token=token)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", name
        assert body.get("data") is None or body["data"]["me"] is None


async def test_malformed_authorization_header(client: Any) -> None:
    response = await client.post("/graphql", json={"query": ME},
                                 headers={"Authorization": "Basic abc"})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_token_of_deleted_user_is_refused(gql: Any, resources: Any) -> None:
    from graphql_api.accounts.models import User

    user_id, _, token = await make_user(resources)
    async with resources.db.transaction() as session:
        user = await session.get(User, user_id)
        user.is_active = False
    body = await gql(ME, token=token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


USERS = "{ users(first: 100) { totalCount edges { node { id email role } } } }"
ROLE = """mutation($id: ID!, $role: Role!) { userRoleUpdate(id: $id, input: {role: $role}) {
  user { id role } userErrors { field code } } }"""


async def test_users_is_for_admins(gql: Any, customer_token: str, admin_token: str) -> None:
    assert (await gql(USERS))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await gql(USERS, token=customer_token))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    data = await gql.data(USERS, token=admin_token)
    assert data["users"]["totalCount"] >= 1 and data["users"]["edges"]


async def test_role_rules(gql: Any, resources: Any, admin_token: str,
                          super_admin_token: str, customer_token: str) -> None:
    target_id, _, target_token = await make_user(resources)
    target = to_global_id("User", target_id)
    # A customer cannot change roles; an admin cannot make admins; a super admin can.
    body = await gql(ROLE, {"id": target, "role": "ADMIN"}, customer_token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await gql(ROLE, {"id": target, "role": "ADMIN"}, admin_token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    promoted = await gql.data(ROLE, {"id": target, "role": "ADMIN"}, super_admin_token)
    assert promoted["userRoleUpdate"]["user"]["role"] == "ADMIN"
    # The role is read from the database per request: the old token now carries admin rights.
    assert (await gql.data(USERS, token=target_token))["users"]["totalCount"] >= 1
    body = await gql(ROLE, {"id": target, "role": "CUSTOMER"}, admin_token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    demoted = await gql.data(ROLE, {"id": target, "role": "CUSTOMER"}, super_admin_token)
    assert demoted["userRoleUpdate"]["user"]["role"] == "CUSTOMER"
    body = await gql(USERS, token=target_token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    missing = await gql.data(ROLE, {"id": to_global_id("User", 10**9), "role": "CUSTOMER"},
                             admin_token)
    assert missing["userRoleUpdate"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_user_nodes_are_private(gql: Any, resources: Any, admin_token: str) -> None:
    owner_id, email, owner_token = await make_user(resources)
    _, _, other_token = await make_user(resources)
    query = "query($id: ID!) { node(id: $id) { ... on User { email } } }"
    node_id = to_global_id("User", owner_id)
    assert (await gql.data(query, {"id": node_id}, owner_token))["node"] == {"email": email}
    assert (await gql.data(query, {"id": node_id}, admin_token))["node"] == {"email": email}
    assert (await gql.data(query, {"id": node_id}, other_token))["node"] is None
    assert (await gql.data(query, {"id": node_id}))["node"] is None


async def test_one_password_check_per_request(gql: Any) -> None:
    email = unique_email()
    await register(gql, email)
    two = ("mutation($e: String!) { a: tokenCreate(input: {email: $e, password: \"x\"}) "
           "{ accessToken } b: tokenCreate(input: {email: $e, password: \"y\"}) { accessToken } }")
    body = await gql(two, {"e": email})
    codes = [e["extensions"]["code"] for e in body["errors"]]
    assert codes == ["RATE_LIMITED"]


async def test_repeated_failed_logins_are_rate_limited(gql: Any, settings: Any) -> None:
    email = unique_email()
    await register(gql, email)
    for _ in range(settings.login_attempts_per_email):
        assert (await login(gql, email, "wrong-Password-1"))["userErrors"]
    body = await gql(LOGIN, {"input": {"email": email, "password": PASSWORD}})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= settings.login_window_seconds
    # Another account is not affected.
    other = unique_email()
    await register(gql, other)
    assert (await login(gql, other))["accessToken"]
