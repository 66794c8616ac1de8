"""Domain events: emitted after a commit, handled in this process and published on pub/sub.

In-process handlers do work that must happen before the write returns (cache invalidation);
the pub/sub message feeds other processes and GraphQL subscriptions.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from graphql_api.core.pubsub import PubSub

log = logging.getLogger(__name__)

PRODUCT_CHANGED = "product.changed"
ORDER_STATUS_CHANGED = "order.status_changed"
USER_CHANGED = "user.changed"  # a profile change others may see (a reviewer's name)
USER_REGISTERED = "user.registered"
STEP_TIMEOUT_SECONDS = 3.0

Handler = Callable[[dict[str, Any]], Awaitable[None]]


def channel(event: str) -> str:
    return f"events:{event}"


class EventBus:
    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def on(self, event: str, handler: Handler) -> None:
        self._handlers[event].append(handler)

    async def emit(self, event: str, payload: dict[str, Any]) -> None:
        # The write has committed already: a failing handler is logged, never surfaced as a failed write.
        # Each step is time-boxed: a hung Redis must not hang the mutation that already committed.
        for handler in self._handlers.get(event, ()):
            try:
                await asyncio.wait_for(handler(payload), STEP_TIMEOUT_SECONDS)
            except Exception:
                log.exception("handler %s for %s failed", getattr(handler, "__name__", handler), event)
        try:
            await asyncio.wait_for(self._pubsub.publish(channel(event), payload),
                                   STEP_TIMEOUT_SECONDS)
        except Exception:
            log.exception("publishing %s failed", event)
