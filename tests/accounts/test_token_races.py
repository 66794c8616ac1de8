"""Refresh-token rotation against a concurrent revocation: the revocation always wins."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_api.accounts import service as accounts
from graphql_api.accounts.models import User
from graphql_api.accounts.security import TokenSigner
from graphql_api.core.resources import Resources
from tests.conftest import make_user

REFRESH = """mutation($t: String!) { tokenRefresh(input: {refreshToken: $t}) {
  refreshToken userErrors { code } } }"""


async def _login(resources: Resources, signer: TokenSigner) -> tuple[int, accounts.TokenPair]:
    user_id, _, _ = await make_user(resources)
    async with resources.db.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user_id, await accounts.issue_tokens(session, signer, user)


def _revocations(user_id: int, refresh: str) -> dict[str, Callable[[AsyncSession], Awaitable[None]]]:
    return {
        "logout": lambda s: accounts.revoke_refresh_token(s, refresh),
        "reuse": lambda s: accounts.revoke_family_of(s, refresh),
        "all-sessions": lambda s: accounts.revoke_tokens_of(s, user_id),
    }


@pytest.mark.parametrize("revocation", ["logout", "reuse", "all-sessions"])
async def test_a_revocation_during_a_rotation_revokes_the_rotated_token(
    gql: Any, resources: Resources, revocation: str
) -> None:
    signer = TokenSigner(resources.settings)
    user_id, pair = await _login(resources, signer)
    revoke = _revocations(user_id, pair.refresh_token)[revocation]

    async def revoke_now() -> None:
        async with resources.db.transaction() as session:
            await revoke(session)

    async with resources.db.transaction() as session:
        rotated = await accounts.rotate_refresh_token(session, signer, pair.refresh_token)
        task = asyncio.create_task(revoke_now())
        await asyncio.sleep(0.3)
        assert not task.done(), "the revocation must wait for the rotation it races"
    await asyncio.wait_for(task, 30)
    body = await gql.data(REFRESH, {"t": rotated.refresh_token})
    assert body["tokenRefresh"]["userErrors"] == [{"code": "INVALID_TOKEN"}]
