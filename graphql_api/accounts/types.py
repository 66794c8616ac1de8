"""GraphQL types, queries and mutations of accounts."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api.accounts import service
from graphql_api.accounts.models import Role, User
from graphql_api.accounts.permissions import limit_password_checks, require_admin, require_user
from graphql_api.core.errors import ErrorCode, UserError, UserInputError
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
    created_at: datetime

    @classmethod
    def from_model(cls, user: User) -> UserType:
        assert user.id is not None
        return cls(
            id=strawberry.ID(to_global_id("User", user.id)),
            email=user.email,
            name=user.name,
            role=Role(user.role),
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


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="The signed-in user, or null for an anonymous caller.")
    async def me(self, info: Info) -> UserType | None:
        user = await info.context.user()
        return None if user is None else UserType.from_model(user)

    @strawberry.field(description="Admin: every user, oldest first.")
    async def users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[UserType]:
        await require_admin(info)
        db = info.context.resources.db
        page = PageArgs(first, after, last, before).validated(
            info.context.resources.settings.max_page_size
        )
        async with db.session() as session:
            result = await service.list_users(session, page)

        async def total() -> int:
            async with db.session() as session:
                return await service.count_users(session)

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


@strawberry.input
class TokenRefreshInput:
    refresh_token: str


@strawberry.input
class TokenRevokeInput:
    refresh_token: str


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


def _token_payload(pair: service.TokenPair | None, errors: list[UserError]) -> TokenPayload:
    if pair is None:
        return TokenPayload(access_token=None, refresh_token=None, user=None, user_errors=errors)
    return TokenPayload(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        user=UserType.from_model(pair.user),
        user_errors=[],
    )


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
        return AccountRegisterPayload(
            user=None if user is None else UserType.from_model(user), user_errors=errors
        )

    @strawberry.mutation(description="Log in: an access token and a refresh token.")
    async def token_create(self, info: Info, input: TokenCreateInput) -> TokenPayload:
        await limit_password_checks(info, input.email)
        signer = info.context.signer

        async def login(session: service.AsyncSession) -> service.TokenPair:
            user = await service.authenticate(session, input.email, input.password)
            return await service.issue_tokens(session, signer, user)

        return _token_payload(*await in_transaction(info.context.resources.db, login))

    @strawberry.mutation(description="Exchange a refresh token for a new pair; the old one stops working.")
    async def token_refresh(
        self, info: Info, input: TokenRefreshInput
    ) -> TokenPayload:
        db, signer = info.context.resources.db, info.context.signer
        try:
            pair, errors = await in_transaction(
                db, lambda s: service.rotate_refresh_token(s, signer, input.refresh_token)
            )
        except service.RefreshTokenReused:
            # Reuse of a rotated token: revoke the family in a transaction of its own, since the
            # failed rotation rolled back.
            async with db.transaction() as session:
                await service.revoke_family_of(session, input.refresh_token)
            pair, errors = None, [UserError(field=["refreshToken"], code=ErrorCode.INVALID_TOKEN,
                                            message="The refresh token is invalid or expired.")]
        return _token_payload(pair, errors)

    @strawberry.mutation(description="Log out: the refresh token and its rotations stop working.")
    async def token_revoke(
        self, info: Info, input: TokenRevokeInput
    ) -> TokenRevokePayload:
        _, errors = await in_transaction(
            info.context.resources.db,
            lambda s: service.revoke_refresh_token(s, input.refresh_token),
        )
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
