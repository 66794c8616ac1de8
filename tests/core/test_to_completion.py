"""`to_completion` (core/database.py): work that never waits finishes in the caller without a
task; work that waits goes on in a task of its own, to its end even when the caller is
cancelled, and the caller then sees its cancellation. Errors reach the caller unchanged."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graphql_api.core.database import to_completion


def _counting(made: list[Any]) -> Any:
    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        made.append(coro)
        return asyncio.Task(coro, loop=loop, **kwargs)
    return factory


async def test_work_that_never_waits_needs_no_task() -> None:
    made: list[Any] = []
    loop = asyncio.get_running_loop()
    loop.set_task_factory(_counting(made))
    try:
        async def immediate() -> int:
            return 7
        assert await to_completion(immediate()) == 7
    finally:
        loop.set_task_factory(None)
    assert made == []


async def test_work_that_waits_is_stepped_to_its_end() -> None:
    steps: list[str] = []

    async def waits() -> str:
        steps.append("start")
        await asyncio.sleep(0.001)
        steps.append("slept")
        await asyncio.sleep(0)  # a bare yield to the loop
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_result, "done")
        return await future

    assert await to_completion(waits()) == "done"
    assert steps == ["start", "slept"]


@pytest.mark.parametrize("wait_first", [False, True])
async def test_errors_reach_the_caller(wait_first: bool) -> None:
    async def fails() -> None:
        if wait_first:
            await asyncio.sleep(0.001)
        raise LookupError("from the work")

    with pytest.raises(LookupError, match="from the work"):
        await to_completion(fails())


async def test_an_error_of_an_awaited_future_is_raised_inside_the_work() -> None:
    async def handles() -> str:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_exception, KeyError("inner"))
        try:
            await future
        except KeyError:
            return "handled inside"
        return "not raised"

    assert await to_completion(handles()) == "handled inside"


async def test_a_cancelled_caller_waits_for_the_work_then_sees_its_cancellation() -> None:
    finished: list[str] = []

    async def checkout() -> str:
        await asyncio.sleep(0.05)
        finished.append("returned to the pool")
        return "connection"

    caller = asyncio.ensure_future(to_completion(checkout()))
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert finished == ["returned to the pool"]
