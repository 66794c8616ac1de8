"""Account operations: registration, credentials, token rotation, roles."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from graphql_api.accounts.models import RefreshToken, Role, User
from graphql_api.accounts.security import (
    TokenSigner,
    hash_password,
    new_refresh_token,
    token_digest,
    verify_password,
)
from graphql_api.core.errors import ErrorCode, Forbidden, Unauthenticated, UserError, UserInputError
from graphql_api.core.models import utcnow
from graphql_api.core.pagination import (
    KeyColumn,
    Page,
    PageArgs,
    SortKey,
    build_page,
    keyset_statement,
)
from graphql_api.core.sql import escape_like

MIN_PASSWORD_LENGTH = 10
REUSE_GRACE = timedelta(seconds=10)
UNUSABLE_PASSWORD = "!"  # noqa: S105 (not a hash: verification of anything against it fails)
MAX_PASSWORD_LENGTH = 128
# The most common passwords that otherwise pass the length rule.
_COMMON_PASSWORDS = frozenset(
    {
        "1234567890", "password12", "password123", "password1234", "qwertyuiop", "1q2w3e4r5t",
        "iloveyou12", "123456789a", "abcdefghij", "passw0rd12", "qwerty1234", "letmein123",
        "welcome123", "admin12345", "football12", "monkey1234", "1qaz2wsx3edc", "zaq12wsxcde",
    }
)


def normalize_email(email: str) -> str:
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise UserInputError.single("email", ErrorCode.INVALID, str(exc)) from None
    return result.normalized.lower()


def password_problems(password: str, email: str = "") -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"at most {MAX_PASSWORD_LENGTH} characters")
    if not any(c.isalpha() for c in password) or all(c.isalpha() for c in password):
        problems.append("both letters and digits or symbols")
    if password.lower() in _COMMON_PASSWORDS:
        problems.append("not a commonly used password")
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and local in password.lower():
        problems.append("not containing your email address")
    return problems


def check_password(password: str, email: str = "") -> None:
    problems = password_problems(password, email)
    if problems:
        raise UserInputError.single(
            "password", ErrorCode.PASSWORD_TOO_WEAK, "Password must have " + ", ".join(problems) + "."
        )


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(col(User.email) == email.strip().lower()))
    return result.scalar_one_or_none()


def _clean_name(name: str) -> tuple[str, list[UserError]]:
    name = name.strip()
    if not name:
        return name, [UserError(field=["name"], code=ErrorCode.REQUIRED, message="Name is required.")]
    if len(name) > 200:
        return name, [UserError(field=["name"], code=ErrorCode.TOO_LONG, message="Name is too long.")]
    return name, []


async def register(
    session: AsyncSession, email: str, password: str, name: str, role: Role = Role.CUSTOMER
) -> User:
    errors: list[UserError] = []
    try:
        email = normalize_email(email)
    except UserInputError as exc:
        errors += exc.errors
    name, name_errors = _clean_name(name)
    errors += name_errors
    problems = password_problems(password, email)
    if problems:
        errors.append(
            UserError(
                field=["password"],
                code=ErrorCode.PASSWORD_TOO_WEAK,
                message="Password must have " + ", ".join(problems) + ".",
            )
        )
    if errors:
        raise UserInputError(errors)
    if await get_user_by_email(session, email) is not None:
        raise UserInputError.single(
            "email", ErrorCode.DUPLICATE, "An account with this email already exists."
        )
    # argon2 takes ~0.1-0.3 s of CPU: off the event loop, so other requests keep flowing.
    password_hash = await asyncio.to_thread(hash_password, password)
    user = User(email=email, name=name, password_hash=password_hash, role=role.value)
    session.add(user)
    await session.flush()
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    user = await get_user_by_email(session, email)
    ok = await asyncio.to_thread(verify_password, password, user.password_hash if user else None)
    if user is None or not ok or not user.is_active:
        # One message for every cause, so the endpoint does not reveal which emails exist.
        raise UserInputError.single(
            None, ErrorCode.INVALID_CREDENTIALS, "Invalid email or password."
        )
    return user


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    user: User


async def issue_tokens(
    session: AsyncSession, signer: TokenSigner, user: User, family: str | None = None
) -> TokenPair:
    assert user.id is not None
    refresh = new_refresh_token()
    session.add(
        RefreshToken(
            token_hash=token_digest(refresh),
            family=family or secrets.token_hex(16),
            user_id=user.id,
            expires_at=utcnow() + signer.refresh_ttl,
        )
    )
    await session.flush()
    return TokenPair(signer.issue_access(user.id, user.role), refresh, user)


class RefreshTokenReused(Exception):
    """A rotated refresh token came back: the caller revokes its family (see `revoke_family_of`)."""


def _invalid_refresh() -> UserInputError:
    return UserInputError.single(
        "refreshToken", ErrorCode.INVALID_TOKEN, "The refresh token is invalid or expired."
    )


async def lock_tokens_of(session: AsyncSession, user_id: int) -> None:
    """Serialise rotations and revocations of one user's refresh tokens until the commit.

    Without it a rotation committing while a revocation runs would insert a token that the
    revocation's UPDATE cannot see, and the new token would outlive the logout. PostgreSQL takes a
    transaction-scoped advisory lock; SQLite already has one writer at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:namespace, :user_id)"),
                              {"namespace": _TOKEN_LOCK_NAMESPACE, "user_id": user_id})


_TOKEN_LOCK_NAMESPACE = 1  # the first key of pg_advisory_xact_lock: "a user's refresh tokens"


async def _stored_token(session: AsyncSession, refresh_token: str) -> RefreshToken | None:
    stmt = select(RefreshToken).where(col(RefreshToken.token_hash) == token_digest(refresh_token))
    return (await session.execute(stmt)).scalar_one_or_none()


async def rotate_refresh_token(
    session: AsyncSession, signer: TokenSigner, refresh_token: str
) -> TokenPair:
    """Exchange a refresh token for a new pair; each refresh token works once.

    The conditional UPDATE decides between concurrent refreshes with one token: only one
    succeeds. Presenting an already-rotated token later than REUSE_GRACE after its rotation
    revokes its whole family (theft detection).
    """
    now = utcnow()
    stored = await _stored_token(session, refresh_token)
    if stored is None:
        raise _invalid_refresh()
    await lock_tokens_of(session, stored.user_id)
    claimed = await session.execute(
        update(RefreshToken)
        .where(
            col(RefreshToken.id) == stored.id,
            col(RefreshToken.revoked_at).is_(None),
            col(RefreshToken.expires_at) > now,
        )
        .values(revoked_at=now)
        .returning(col(RefreshToken.user_id), col(RefreshToken.family))
        .execution_options(synchronize_session=False)
    )
    row = claimed.first()
    if row is None:
        await session.refresh(stored)  # as it is now, after whoever held the lock
        # A reuse moments after the rotation is two tabs racing, not theft: refuse it, but
        # leave the family (and the winner's new token) alone.
        if stored.revoked_at is not None and now - stored.revoked_at > REUSE_GRACE:
            raise RefreshTokenReused()
        raise _invalid_refresh()
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise _invalid_refresh()
    return await issue_tokens(session, signer, user, family=row.family)


async def revoke_family(session: AsyncSession, user_id: int, family: str) -> None:
    await lock_tokens_of(session, user_id)
    await session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family) == family, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def revoke_family_of(session: AsyncSession, refresh_token: str) -> None:
    stored = await _stored_token(session, refresh_token)
    if stored is not None:
        await revoke_family(session, stored.user_id, stored.family)


async def revoke_refresh_token(session: AsyncSession, refresh_token: str) -> None:
    """Log out: the token's whole family stops working."""
    stored = await _stored_token(session, refresh_token)
    if stored is None:
        raise _invalid_refresh()
    await revoke_family(session, stored.user_id, stored.family)


async def revoke_tokens_of(session: AsyncSession, user_id: int, keep_family: str | None = None
                           ) -> None:
    """Every live refresh token of the user stops working, except those of `keep_family`."""
    await lock_tokens_of(session, user_id)
    stmt = update(RefreshToken).where(col(RefreshToken.user_id) == user_id,
                                      col(RefreshToken.revoked_at).is_(None))
    if keep_family is not None:
        stmt = stmt.where(col(RefreshToken.family) != keep_family)
    await session.execute(stmt.values(revoked_at=utcnow())
                          .execution_options(synchronize_session=False))


USER_ORDER = SortKey(columns=[KeyColumn(col(User.id), int)], descending=False)


@dataclass(frozen=True)
class UserQuery:
    """Filters of the admin's user list; every field narrows the result (AND)."""

    role: Role | None = None
    is_active: bool | None = None
    email_contains: str | None = None


def _users(stmt: Select[Any], query: UserQuery) -> Select[Any]:
    if query.role is not None:
        stmt = stmt.where(col(User.role) == query.role.value)
    if query.is_active is not None:
        stmt = stmt.where(col(User.is_active).is_(query.is_active))
    if query.email_contains:
        pattern = f"%{escape_like(query.email_contains.strip().lower())}%"
        stmt = stmt.where(col(User.email).like(pattern, escape="\\"))
    return stmt


async def list_users(session: AsyncSession, page: PageArgs, query: UserQuery = UserQuery()
                     ) -> Page[User]:
    rows = await session.execute(keyset_statement(_users(select(User), query), USER_ORDER, page))
    return build_page(list(rows.scalars()), page, lambda u: [u.id])


async def count_users(session: AsyncSession, query: UserQuery = UserQuery()) -> int:
    stmt = _users(select(func.count()).select_from(User), query)
    return int(await session.scalar(stmt) or 0)


async def update_role(session: AsyncSession, actor: User, target_id: int, role: Role) -> User:
    actor_role = Role(actor.role)
    if not actor_role.is_admin:
        raise Forbidden()
    target = await session.get(User, target_id)
    if target is None:
        raise UserInputError.single("id", ErrorCode.NOT_FOUND, "User not found.")
    if target.id == actor.id:
        raise UserInputError.single("id", ErrorCode.FORBIDDEN, "You cannot change your own role.")
    # Only a super admin grants or takes away administrative roles.
    if (role.is_admin or Role(target.role).is_admin) and actor_role is not Role.SUPER_ADMIN:
        raise Forbidden("Only a super admin can grant or revoke administrative roles.")
    target.role = role.value
    session.add(target)
    await session.flush()
    return target


# --- self-service and administration ----------------------------------------------------------

async def _account(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("This account no longer exists or is disabled.")
    return user


async def _check_current_password(user: User, password: str, field: str) -> None:
    if not await asyncio.to_thread(verify_password, password, user.password_hash):
        raise UserInputError.single(field, ErrorCode.INVALID_CREDENTIALS, "The password is wrong.")


async def update_account(session: AsyncSession, user_id: int, name: str) -> User:
    user = await _account(session, user_id)
    user.name, errors = _clean_name(name)
    if errors:
        raise UserInputError(errors)
    await session.flush()
    return user


async def change_password(session: AsyncSession, user_id: int, current: str, new: str,
                          keep_refresh_token: str | None) -> User:
    """A new password; every refresh token of the user stops working but the caller's own."""
    user = await _account(session, user_id)
    await _check_current_password(user, current, "currentPassword")
    problems = password_problems(new, user.email)
    if new == current:
        problems.append("to differ from the current one")
    if problems:
        raise UserInputError.single("newPassword", ErrorCode.PASSWORD_TOO_WEAK,
                                    "Password must have " + ", ".join(problems) + ".")
    user.password_hash = await asyncio.to_thread(hash_password, new)
    keep = None
    if keep_refresh_token:
        stored = await _stored_token(session, keep_refresh_token)
        if stored is not None and stored.user_id == user.id and stored.revoked_at is None:
            keep = stored.family
    await revoke_tokens_of(session, user_id, keep_family=keep)
    await session.flush()
    return user


async def delete_account(session: AsyncSession, user_id: int, password: str) -> None:
    """Deactivate for good and anonymise; the row stays for the shop's books (orders)."""
    user = await _account(session, user_id)
    await _check_current_password(user, password, "password")
    user.is_active = False
    user.deleted_at = utcnow()
    user.email = f"deleted-{user_id}@deleted.invalid"  # .invalid: never a real address
    user.name = "Deleted user"
    user.password_hash = UNUSABLE_PASSWORD  # matches no password
    await revoke_tokens_of(session, user_id)
    await session.flush()


async def update_user(session: AsyncSession, actor: User, target_id: int, name: str | None,
                      is_active: bool | None) -> User:
    """Admin: rename, deactivate or reactivate an account."""
    target = await session.get(User, target_id)
    if target is None:
        raise UserInputError.single("id", ErrorCode.NOT_FOUND, "User not found.")
    if Role(target.role).is_admin and target.id != actor.id and Role(actor.role) is not Role.SUPER_ADMIN:
        raise Forbidden("Only a super admin can change an administrator's account.")
    if target.deleted_at is not None:
        raise UserInputError.single("id", ErrorCode.INVALID, "This account was deleted.")
    if is_active is False and target.id == actor.id:
        raise UserInputError.single("isActive", ErrorCode.FORBIDDEN,
                                    "You cannot deactivate your own account.")
    if name is not None:
        target.name, errors = _clean_name(name)
        if errors:
            raise UserInputError(errors)
    if is_active is not None:
        target.is_active = is_active
        if not is_active:
            await revoke_tokens_of(session, target_id)
    await session.flush()
    return target
