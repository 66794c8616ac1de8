"""GraphQL surface of account self-service (the caller's own account) and user administration."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.accounts import service
from graphql_api.accounts.permissions import limit_password_checks, require_admin, require_user
from graphql_api.accounts.types import UserType
from graphql_api.core.errors import ErrorCode, UserError, UserInputError
from graphql_api.core.events import USER_CHANGED
from graphql_api.core.ids import decode_pk
from graphql_api.core.mutations import in_transaction


@strawberry.input
class AccountUpdateInput:
    name: str


@strawberry.input
class PasswordChangeInput:
    current_password: str
    new_password: str
    refresh_token: str | None = strawberry.field(
        default=None, description="This session's refresh token: it keeps working; every other "
        "refresh token of the account is revoked.")


@strawberry.input
class AccountDeleteInput:
    password: str


@strawberry.input
class UserUpdateInput:
    name: str | None = None
    is_active: bool | None = strawberry.field(
        default=None, description="false deactivates the account: its tokens stop working at once.")


@strawberry.type
class UserPayload:
    user: UserType | None
    user_errors: list[UserError]


@strawberry.type
class AccountDeletePayload:
    deleted: bool
    user_errors: list[UserError]


def _user_payload(user: service.User | None, errors: list[UserError]) -> UserPayload:
    return UserPayload(user=None if user is None else UserType.from_model(user), user_errors=errors)


async def _caller_id(info: Info, password_check: bool) -> int:
    """The signed-in caller's id; `password_check`: the mutation verifies their password, which
    counts against the sign-in rate limits."""
    caller = await require_user(info)
    assert caller.id is not None
    if password_check:
        await limit_password_checks(info, caller.email)
    return caller.id


@strawberry.type
class AccountManagementQuery:
    @strawberry.field(description="Admin: any user by ID; null when there is none.")
    async def user(self, info: Info, id: strawberry.ID) -> UserType | None:
        await require_admin(info)
        pk = decode_pk(id, "User")
        if pk is None:
            return None
        async with info.context.resources.db.session() as session:
            user = await service.get_user(session, pk)
        return None if user is None else UserType.from_model(user)


async def _renamed(info: Info, user_id: int, errors: list[UserError]) -> None:
    """A user's public name may have changed (it shows on their reviews): say so after commit."""
    if not errors:
        await info.context.resources.events.emit(USER_CHANGED, {"id": user_id})


@strawberry.type
class AccountManagementMutation:
    @strawberry.mutation(description="Change the signed-in user's own profile.")
    async def account_update(self, info: Info, input: AccountUpdateInput) -> UserPayload:
        uid = await _caller_id(info, password_check=False)
        user, errors = await in_transaction(
            info.context.resources.db, lambda s: service.update_account(s, uid, input.name))
        await _renamed(info, uid, errors)
        return _user_payload(user, errors)

    @strawberry.mutation(description="Change the signed-in user's password; every other session "
                         "(refresh token) of the account is logged out.")
    async def password_change(self, info: Info, input: PasswordChangeInput) -> UserPayload:
        uid = await _caller_id(info, password_check=True)
        cookies = info.context.cookies
        # A browser session's own refresh token is its cookie.
        keep = input.refresh_token or (cookies.refresh_token if cookies is not None else None)
        return _user_payload(*await in_transaction(
            info.context.resources.db,
            lambda s: service.change_password(s, uid, input.current_password, input.new_password,
                                              keep)))

    @strawberry.mutation(description="Delete the signed-in user's account: it is deactivated and "
                         "its personal data anonymised; its orders stay for the shop's books.")
    async def account_delete(self, info: Info, input: AccountDeleteInput) -> AccountDeletePayload:
        uid = await _caller_id(info, password_check=True)
        _, errors = await in_transaction(
            info.context.resources.db, lambda s: service.delete_account(s, uid, input.password))
        await _renamed(info, uid, errors)
        if not errors and info.context.cookies is not None and info.context.cookies.presented:
            info.context.cookies.clear()
        return AccountDeletePayload(deleted=not errors, user_errors=errors)

    @strawberry.mutation(description="Admin: rename, deactivate or reactivate an account (only a "
                         "super admin touches an admin's; nobody deactivates themselves).")
    async def user_update(self, info: Info, id: strawberry.ID, input: UserUpdateInput
                          ) -> UserPayload:
        actor = await require_admin(info)
        pk = decode_pk(id, "User")
        if pk is None:
            return _user_payload(None, UserInputError.single(
                "id", ErrorCode.NOT_FOUND, "User not found.").errors)
        user, errors = await in_transaction(
            info.context.resources.db,
            lambda s: service.update_user(s, actor, pk, input.name, input.is_active))
        await _renamed(info, pk, errors)
        return _user_payload(user, errors)
