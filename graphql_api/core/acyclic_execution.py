"""graphql-core's executor without its reference cycle.

graphql-core's ExecutionContext keeps `async_helpers`, a tuple of two of its own bound methods
(executor -> helpers -> method -> executor). So everything an execution holds (collected
fields, field details, the context, the request) outlives the request until the cycle
collector finds it: ~580 objects per request of 25 eventTracks. At 5,000 events/s that made a
young-generation collection every 0.45 s, 20-80 ms each (~52,000 objects freed per pass), and
the p95 of other requests went from 7 to over 60 ms (bench/events.py). With helpers that reach
the executor through a weak reference, reference counting frees an execution as it ends.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Sequence
from typing import Any

from graphql.pyutils import gather_with_cancel
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


def _helpers(executor: Any) -> GraphQLResolveInfoHelpers:
    owner = weakref.ref(executor)

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        alive = owner()
        # graphql-core's gather_async_work needs no state of the execution.
        return gather_with_cancel(*values) if alive is None else alive.gather_async_work(values)

    def track(values: Sequence[Any]) -> None:
        alive = owner()
        if alive is None:  # nothing can await on behalf of a finished execution
            raise RuntimeError("async work tracked after its execution ended")
        alive.track_async_work(values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


class AcyclicExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, freed by reference counting (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _helpers(self)
