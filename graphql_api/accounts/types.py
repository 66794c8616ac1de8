"""GraphQL types, queries and mutations of accounts."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api.accounts import service, sessions
from graphql_api.accounts.models import Role, User
from graphql_api.accounts.permissions import limit_password_checks, require_admin, require_user
from graphql_api.core.errors import BadUserInput, ErrorCode, Forbidden, UserError, UserInputError
from graphql_api.core.events import USER_REGISTERED
from graphql_api.core.ids import decode_pk, to_global_id
from graphql_api.core.mutations import in_transaction
from graphql_api.core.pagination import Connection, PageArgs, to_connection
from graphql_api.core.scalars import Node

RoleEnum = strawberry.enum(Role, name="Role")


@strawberry.type(name="User")
class UserType(Node):
    email: str
    name: str
    role: RoleEnum  # type: ignore[valid-type]
    is_active: bool
    created_at: datetime

    @classmethod
    def from_model(cls, user: User) -> UserType:
        assert user.id is not None
        return cls(
            id=strawberry.ID(to_global_id("User", user.id)),
            email=user.email,
            name=user.name,
            role=Role(user.role),
            is_active=user.is_active,
            created_at=user.created_at,
        )


async def resolve_user_node(info: Info, pk: int) -> UserType | None:
    """Users are visible to themselves and to admins only; to anyone else they do not exist."""
    caller = await info.context.user()
    if caller is None or (caller.id != pk and not Role(caller.role).is_admin):
        return None
    async with info.context.resources.db.session() as session:
        user = await service.get_user(session, pk)
    return None if user is None else UserType.from_model(user)


@strawberry.input(description="Every field given narrows the list (AND).")
class UserFilter:
    role: RoleEnum | None = None  # type: ignore[valid-type]
    is_active: bool | None = None
    email_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the email.")


MAX_FILTER_CHARS = 254


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="The signed-in user, or null for an anonymous caller.")
    async def me(self, info: Info) -> UserType | None:
        user = await info.context.user()
        return None if user is None else UserType.from_model(user)

    @strawberry.field(description="Admin: users, oldest first.")
    async def users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: UserFilter | None = None,
    ) -> Connection[UserType]:
        await require_admin(info)
        db = info.context.resources.db
        page = PageArgs(first, after, last, before).validated(
            info.context.resources.settings.max_page_size
        )
        query = service.UserQuery()
        if filter is not None:
            if len(filter.email_contains or "") > MAX_FILTER_CHARS:
                raise BadUserInput(f"`emailContains` is longer than {MAX_FILTER_CHARS} characters.")
            query = service.UserQuery(
                role=None if filter.role is None else Role(filter.role),
                is_active=filter.is_active, email_contains=filter.email_contains)
        async with db.session() as session:
            result = await service.list_users(session, page, query)

        async def total() -> int:
            async with db.session() as session:
                return await service.count_users(session, query)

        return to_connection(result, UserType.from_model, total)


@strawberry.input
class AccountRegisterInput:
    email: str
    password: str
    name: str


@strawberry.input
class TokenCreateInput:
    email: str
    password: str
    cart_token: str | None = strawberry.field(
        default=None, description="A guest cart's token: its lines move into the account's cart "
        "(quantities added, capped by stock).")
    use_cookies: bool = strawberry.field(
        default=False, description="Browsers: set the tokens as HttpOnly cookies (HTTP only) "
        "instead of returning them.")


@strawberry.input
class TokenRefreshInput:
    refresh_token: str | None = strawberry.field(
        default=None, description="Omit to use the refresh cookie; the new pair is then set "
        "as cookies.")


@strawberry.input
class TokenRevokeInput:
    refresh_token: str | None = strawberry.field(
        default=None, description="Omit to log out the cookie session and clear its cookies.")


@strawberry.input
class UserRoleUpdateInput:
    role: RoleEnum  # type: ignore[valid-type]


@strawberry.type
class AccountRegisterPayload:
    user: UserType | None
    user_errors: list[UserError]


@strawberry.type
class TokenPayload:
    access_token: str | None
    refresh_token: str | None
    user: UserType | None
    user_errors: list[UserError]


@strawberry.type
class TokenRevokePayload:
    revoked: bool
    user_errors: list[UserError]


@strawberry.type
class UserRoleUpdatePayload:
    user: UserType | None
    user_errors: list[UserError]


def _token_payload(pair: service.TokenPair | None, errors: list[UserError],
                   in_body: bool = True) -> TokenPayload:
    """`in_body=False`: the pair went into cookies, and the body carries no token."""
    if pair is None:
        return TokenPayload(access_token=None, refresh_token=None, user=None, user_errors=errors)
    return TokenPayload(
        access_token=pair.access_token if in_body else None,
        refresh_token=pair.refresh_token if in_body else None,
        user=UserType.from_model(pair.user),
        user_errors=[],
    )


def _no_refresh_token() -> UserError:
    return UserError(field=["refreshToken"], code=ErrorCode.REQUIRED,
                     message="Give refreshToken, or send the refresh cookie (over HTTP).")


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(description="Create a customer account.")
    async def account_register(
        self, info: Info, input: AccountRegisterInput
    ) -> AccountRegisterPayload:
        await limit_password_checks(info, None)
        user, errors = await in_transaction(
            info.context.resources.db,
            lambda s: service.register(s, input.email, input.password, input.name),
        )
        if user is not None:
            await info.context.resources.events.emit(USER_REGISTERED, {"id": user.id})
        return AccountRegisterPayload(
            user=None if user is None else UserType.from_model(user), user_errors=errors
        )

    @strawberry.mutation(description="Log in: an access token and a refresh token.")
    async def token_create(self, info: Info, input: TokenCreateInput) -> TokenPayload:
        cookies = None
        if input.use_cookies:
            cookies = info.context.cookies
            if cookies is None:  # a websocket has no response to set cookies on
                return _token_payload(None, [UserError(
                    field=["useCookies"], code=ErrorCode.INVALID,
                    message="Cookies can only be set over HTTP.")])
            if not cookies.origin_ok:
                raise Forbidden("Cookies are only set for this site or an allowed Origin.")
        await limit_password_checks(info, input.email)
        signer = info.context.signer
        after = info.context.guest_cart_merge(input.cart_token) if input.cart_token else None
        pair, errors = await sessions.sign_in(info.context.resources.db, signer, input.email,
                                              input.password, after)
        if pair is not None and cookies is not None:
            cookies.set_tokens(pair, signer)
        return _token_payload(pair, errors, in_body=cookies is None)

    @strawberry.mutation(description="Exchange a refresh token for a new pair; the old one stops "
                         "working. With no refreshToken: the refresh cookie's, setting both new cookies.")
    async def token_refresh(
        self, info: Info, input: TokenRefreshInput
    ) -> TokenPayload:
        cookies = info.context.cookies if input.refresh_token is None else None
        token = cookies.refresh_token if cookies is not None else input.refresh_token
        if token is None:
            return _token_payload(None, [_no_refresh_token()])
        signer = info.context.signer
        pair, errors = await sessions.refresh(info.context.resources.db, signer, token)
        if pair is not None and cookies is not None:
            cookies.set_tokens(pair, signer)
        return _token_payload(pair, errors, in_body=cookies is None)

    @strawberry.mutation(description="Log out: the refresh token and its rotations stop working. "
                         "With no refreshToken: the cookie session's, and its cookies are cleared.")
    async def token_revoke(
        self, info: Info, input: TokenRevokeInput
    ) -> TokenRevokePayload:
        cookies = info.context.cookies if input.refresh_token is None else None
        token = cookies.refresh_token if cookies is not None else input.refresh_token
        if cookies is not None:
            cookies.clear()  # the browser forgets the session whatever the token's fate
        if token is None:
            return TokenRevokePayload(revoked=False, user_errors=[_no_refresh_token()])
        errors = await sessions.sign_out(info.context.resources.db, token)
        return TokenRevokePayload(revoked=not errors, user_errors=errors)

    @strawberry.mutation(description="Admin: change a user's role; only a super admin grants admin.")
    async def user_role_update(
        self, info: Info, id: strawberry.ID, input: UserRoleUpdateInput
    ) -> UserRoleUpdatePayload:
        actor = await require_admin(info)
        pk = decode_pk(id, "User")
        if pk is None:
            return UserRoleUpdatePayload(user=None, user_errors=UserInputError.single(
                "id", ErrorCode.NOT_FOUND, "User not found.").errors)
        user, errors = await in_transaction(
            info.context.resources.db,
            lambda s: service.update_role(s, actor, pk, Role(input.role)),
        )
        return UserRoleUpdatePayload(
            user=None if user is None else UserType.from_model(user), user_errors=errors
        )


__all__ = ["AccountsMutation", "AccountsQuery", "UserType", "require_user", "resolve_user_node"]
