"""Self-service (profile, password, deletion) and administration (user, userUpdate, users filter)."""

from __future__ import annotations

from typing import Any

import pytest

from graphql_api.accounts.models import Role
from graphql_api.core.ids import to_global_id
from graphql_api.core.resources import Resources
from tests.accounts.test_accounts_api import ME, REFRESH, login, register
from tests.catalog.test_paging import walk
from tests.conftest import PASSWORD, GraphQLClient, make_user, unique_email

NEW_PASSWORD = "another-Secret-77"
ACCOUNT_UPDATE = """mutation($name: String!) { accountUpdate(input: {name: $name}) {
  user { name } userErrors { field code } } }"""
PASSWORD_CHANGE = """mutation($input: PasswordChangeInput!) { passwordChange(input: $input) {
  user { email } userErrors { field code } } }"""
ACCOUNT_DELETE = """mutation($p: String!) { accountDelete(input: {password: $p}) {
  deleted userErrors { field code } } }"""
USER_UPDATE = """mutation($id: ID!, $input: UserUpdateInput!) { userUpdate(id: $id, input: $input) {
  user { id name isActive } userErrors { field code } } }"""
USER = "query($id: ID!) { user(id: $id) { id email name isActive role } }"
USERS = """query($filter: UserFilter, $first: Int, $after: String, $last: Int, $before: String) {
  users(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id email role isActive } } } }"""


async def signed_up(gql: GraphQLClient) -> tuple[str, dict[str, Any]]:
    email = unique_email()
    await register(gql, email)
    return email, await login(gql, email)


def code(body: dict[str, Any]) -> str:
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


async def test_account_update_changes_the_callers_name(gql: GraphQLClient) -> None:
    _, tokens = await signed_up(gql)
    access = tokens["accessToken"]
    updated = await gql.data(ACCOUNT_UPDATE, {"name": "  Grace  "}, access)
    assert updated["accountUpdate"] == {"user": {"name": "Grace"}, "userErrors": []}
    blank = await gql.data(ACCOUNT_UPDATE, {"name": " "}, access)
    assert blank["accountUpdate"] == {"user": None,
                                      "userErrors": [{"field": ["name"], "code": "REQUIRED"}]}
    assert code(await gql(ACCOUNT_UPDATE, {"name": "Anon"})) == "UNAUTHENTICATED"


async def test_password_change_keeps_this_session_and_ends_the_others(gql: GraphQLClient) -> None:
    email, this = await signed_up(gql)
    other = await login(gql, email)
    wrong = await gql.data(PASSWORD_CHANGE, {"input": {
        "currentPassword": "not-My-Password-1", "newPassword": NEW_PASSWORD}}, this["accessToken"])
    assert wrong["passwordChange"]["userErrors"] == [{"field": ["currentPassword"],
                                                      "code": "INVALID_CREDENTIALS"}]
    weak = await gql.data(PASSWORD_CHANGE, {"input": {
        "currentPassword": PASSWORD, "newPassword": "short"}}, this["accessToken"])
    assert weak["passwordChange"]["userErrors"] == [{"field": ["newPassword"],
                                                     "code": "PASSWORD_TOO_WEAK"}]
    assert (await login(gql, email))["accessToken"], "failed changes change nothing"

    changed = await gql.data(PASSWORD_CHANGE, {"input": {
        "currentPassword": PASSWORD, "newPassword": NEW_PASSWORD,
        "refreshToken": this["refreshToken"]}}, this["accessToken"])
    assert changed["passwordChange"] == {"user": {"email": email}, "userErrors": []}
    # The other session's refresh token is dead, and so is the one issued at the recheck above.
    reused = await gql.data(REFRESH, {"t": other["refreshToken"]})
    assert reused["tokenRefresh"]["userErrors"] == [{"field": ["refreshToken"],
                                                     "code": "INVALID_TOKEN"}]
    kept = await gql.data(REFRESH, {"t": this["refreshToken"]})
    assert kept["tokenRefresh"]["accessToken"]
    assert (await login(gql, email))["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await login(gql, email, NEW_PASSWORD))["accessToken"]


async def test_password_change_without_a_session_token_ends_every_session(
    gql: GraphQLClient,
) -> None:
    _, this = await signed_up(gql)
    await gql.data(PASSWORD_CHANGE, {"input": {"currentPassword": PASSWORD,
                                               "newPassword": NEW_PASSWORD}}, this["accessToken"])
    refused = await gql.data(REFRESH, {"t": this["refreshToken"]})
    assert refused["tokenRefresh"]["userErrors"][0]["code"] == "INVALID_TOKEN"


async def test_account_delete_deactivates_and_anonymises(
    gql: GraphQLClient, admin_token: str
) -> None:
    email, tokens = await signed_up(gql)
    me = (await gql.data(ME, None, tokens["accessToken"]))["me"]
    wrong = await gql.data(ACCOUNT_DELETE, {"p": "not-My-Password-1"}, tokens["accessToken"])
    assert wrong["accountDelete"] == {"deleted": False, "userErrors": [
        {"field": ["password"], "code": "INVALID_CREDENTIALS"}]}
    assert (await gql.data(ME, None, tokens["accessToken"]))["me"] == me

    deleted = await gql.data(ACCOUNT_DELETE, {"p": PASSWORD}, tokens["accessToken"])
    assert deleted["accountDelete"] == {"deleted": True, "userErrors": []}
    # Every token stops working at once.
    assert code(await gql(ME, None, tokens["accessToken"])) == "UNAUTHENTICATED"
    refused = await gql.data(REFRESH, {"t": tokens["refreshToken"]})
    assert refused["tokenRefresh"]["userErrors"][0]["code"] == "INVALID_TOKEN"
    assert (await login(gql, email))["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    # The row stays, with no personal data; the email is free again.
    row = (await gql.data(USER, {"id": me["id"]}, admin_token))["user"]
    assert row["isActive"] is False
    assert email not in row["email"] and row["name"] == "Deleted user"
    assert (await register(gql, email))["userErrors"] == []
    reactivate = await gql.data(USER_UPDATE, {"id": me["id"], "input": {"isActive": True}},
                                admin_token)
    assert reactivate["userUpdate"]["userErrors"] == [{"field": ["id"], "code": "INVALID"}]


async def test_admin_deactivates_and_reactivates(gql: GraphQLClient, admin_token: str) -> None:
    email, tokens = await signed_up(gql)
    user_id = (await gql.data(ME, None, tokens["accessToken"]))["me"]["id"]
    off = await gql.data(USER_UPDATE, {"id": user_id, "input": {"isActive": False,
                                                                "name": "Renamed"}}, admin_token)
    assert off["userUpdate"] == {"user": {"id": user_id, "name": "Renamed", "isActive": False},
                                 "userErrors": []}
    assert code(await gql(ME, None, tokens["accessToken"])) == "UNAUTHENTICATED"
    refused = await gql.data(REFRESH, {"t": tokens["refreshToken"]})
    assert refused["tokenRefresh"]["userErrors"][0]["code"] == "INVALID_TOKEN"
    assert (await login(gql, email))["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    on = await gql.data(USER_UPDATE, {"id": user_id, "input": {"isActive": True}}, admin_token)
    assert on["userUpdate"]["user"]["isActive"] is True
    assert (await login(gql, email))["accessToken"]


async def test_user_update_rules(gql: GraphQLClient, resources: Resources, admin_token: str,
                                 super_admin_token: str, customer_token: str) -> None:
    admin_id, _, own_token = await make_user(resources, Role.ADMIN)
    other_admin = to_global_id("User", (await make_user(resources, Role.ADMIN))[0])
    me = to_global_id("User", admin_id)
    # Only a super admin touches an admin's account.
    assert code(await gql(USER_UPDATE, {"id": other_admin, "input": {"isActive": False}},
                          own_token)) == "FORBIDDEN"
    by_super = await gql.data(USER_UPDATE, {"id": other_admin, "input": {"isActive": False}},
                              super_admin_token)
    assert by_super["userUpdate"]["user"]["isActive"] is False
    # Nobody deactivates themselves.
    self_off = await gql.data(USER_UPDATE, {"id": me, "input": {"isActive": False}}, own_token)
    assert self_off["userUpdate"]["userErrors"] == [{"field": ["isActive"], "code": "FORBIDDEN"}]
    unknown = await gql.data(USER_UPDATE, {"id": to_global_id("User", 2**31 - 1), "input": {
        "name": "x"}}, admin_token)
    assert unknown["userUpdate"]["userErrors"] == [{"field": ["id"], "code": "NOT_FOUND"}]
    assert code(await gql(USER_UPDATE, {"id": me, "input": {"name": "x"}},
                          customer_token)) == "FORBIDDEN"
    assert code(await gql(USER_UPDATE, {"id": me, "input": {"name": "x"}})) == "UNAUTHENTICATED"


async def test_user_by_id_is_for_admins(gql: GraphQLClient, resources: Resources,
                                        admin_token: str, customer_token: str) -> None:
    user_id, email, _ = await make_user(resources)
    gid = to_global_id("User", user_id)
    assert (await gql.data(USER, {"id": gid}, admin_token))["user"]["email"] == email
    assert (await gql.data(USER, {"id": to_global_id("User", 2**31 - 1)}, admin_token))["user"] is None
    assert code(await gql(USER, {"id": gid}, customer_token)) == "FORBIDDEN"
    assert code(await gql(USER, {"id": gid})) == "UNAUTHENTICATED"


@pytest.mark.parametrize("filter", [
    None, {"role": "ADMIN"}, {"role": "CUSTOMER", "isActive": True}, {"isActive": False},
    {"emailContains": "CUSTOMER-"}, {"emailContains": "%"}, {"emailContains": "_"},
])
async def test_users_filter_and_paging(gql: GraphQLClient, resources: Resources,
                                       super_admin_token: str, filter: dict[str, Any] | None
                                       ) -> None:
    for role in (Role.CUSTOMER, Role.ADMIN, Role.CUSTOMER):
        await make_user(resources, role)
    inactive = to_global_id("User", (await make_user(resources))[0])
    await gql.data(USER_UPDATE, {"id": inactive, "input": {"isActive": False}}, super_admin_token)

    def fetcher(filter: dict[str, Any] | None) -> Any:
        async def fetch(args: dict[str, Any]) -> Any:
            return (await gql.data(USERS, {**args, "filter": filter}, super_admin_token))["users"]
        return fetch

    users, total = await walk(fetcher(filter), 2, "User")
    everyone, _ = await walk(fetcher(None), 7, "User")
    expected = [u for u in everyone if _matches(u, filter or {})]
    assert [u["id"] for u in users] == [u["id"] for u in expected]
    assert total == len(expected)
    if filter == {"emailContains": "%"}:
        assert total == 0  # LIKE wildcards match literally ("_" matches super_admin-... emails)


def _matches(user: dict[str, Any], filter: dict[str, Any]) -> bool:
    return (user["role"] == filter.get("role", user["role"])
            and user["isActive"] == filter.get("isActive", user["isActive"])
            and filter.get("emailContains", "").lower() in user["email"])


async def test_users_filter_too_long_is_bad_input(gql: GraphQLClient, admin_token: str) -> None:
    body = await gql(USERS, {"filter": {"emailContains": "x" * 300}}, admin_token)
    assert code(body) == "BAD_USER_INPUT"


async def test_cookie_sessions_keep_themselves_and_end_on_deletion(app: Any,
                                                                   resources: Resources) -> None:
    from tests.accounts.test_cookies import REFRESH as COOKIE_REFRESH
    from tests.accounts.test_cookies import browser, cookie_login, post, set_cookies

    _, email, _ = await make_user(resources)
    async with browser(app) as this, browser(app) as other:
        await cookie_login(this, email)
        await cookie_login(other, email)
        changed = await post(this, PASSWORD_CHANGE, {"input": {
            "currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}})
        assert changed.json()["data"]["passwordChange"]["userErrors"] == []
        # This browser's refresh cookie is its session, kept; the other browser's is not.
        kept = await post(this, COOKIE_REFRESH)
        assert kept.json()["data"]["tokenRefresh"]["userErrors"] == []
        ended = await post(other, COOKIE_REFRESH)
        assert ended.json()["data"]["tokenRefresh"]["userErrors"][0]["code"] == "INVALID_TOKEN"
        deleted = await post(this, ACCOUNT_DELETE, {"p": NEW_PASSWORD})
        assert deleted.json()["data"]["accountDelete"]["deleted"] is True
        assert {"access_token", "refresh_token"} <= set(set_cookies(deleted))  # cleared
        assert "max-age=0" in set_cookies(deleted)["access_token"]
