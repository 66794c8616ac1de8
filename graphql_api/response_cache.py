"""Whole responses of anonymous catalog queries, cached under the catalog generation.

A storefront asks the same few queries over and over; serving them from the cache skips parsing,
validation and execution. Only operations made wholly of the public root fields below are
eligible, and only for callers without a token, so no response depends on who asks. Every field
reachable from these roots reads catalog data, whose writes bump the catalog generation
(`catalog/reads.py`) before they return.

An entry keeps the generation it was made under, and a hit reads the entry and the current
generation together, in one round trip (MGET): it is served only if they match. So a hit costs
one round trip, and it is never stale, in any process sharing the cache, once a write has
returned (a generation kept in each process and refreshed by pub/sub would save nothing more on
the round trip, and would be stale for as long as a message takes to arrive).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

from graphql_api.catalog.reads import CatalogReads

# A root field joins this set only if everything under it is catalog data.
PUBLIC_ROOT_FIELDS = frozenset({"products", "product", "categories", "category", "__typename"})
MAX_CACHED_BYTES = 256 * 1024
MAX_CACHED_QUERY_CHARS = 4000  # storefront queries are short; long ones are not worth keeping


@lru_cache(maxsize=1024)
def cacheable_operation(query: str, operation_name: str | None, max_tokens: int) -> bool:
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return False
    # Fragments at the root could hide any field: only plain fields are judged.
    return all(
        isinstance(selection, FieldNode) and selection.name.value in PUBLIC_ROOT_FIELDS
        for selection in operations[0].selection_set.selections
    )


class ResponseCache:
    def __init__(self, reads: CatalogReads, max_tokens: int) -> None:
        self.reads = reads
        self.cache = reads.cache
        self.max_tokens = max_tokens

    def eligible(self, params: dict[str, Any]) -> bool:
        query = params["query"]
        return len(query) <= MAX_CACHED_QUERY_CHARS and cacheable_operation(
            query, params.get("operationName"), self.max_tokens
        )

    @staticmethod
    def key(params: dict[str, Any], media: str) -> str:
        """The key of an eligible request (one per request, whatever the generation)."""
        query, operation_name = params["query"], params.get("operationName")
        request = json.dumps([query, params.get("variables"), operation_name, media],
                             sort_keys=True, separators=(",", ":"))
        return f"response:{hashlib.sha256(request.encode()).hexdigest()}"

    async def get(self, key: str) -> tuple[int | None, tuple[str, list[str]] | None]:
        """The catalog generation (None: no cache) and, if cached under it, the body and the
        product views its execution counted (served again, they count again: the ranking of
        the most viewed must see cached traffic too). One round trip."""
        generation, entry = await self.reads.generation_with(key)
        if generation is None:
            return None, None
        hit = None
        if isinstance(entry, dict) and entry.get("generation") == generation and isinstance(
                entry.get("body"), str):
            hit = entry["body"], [str(v) for v in entry.get("views") or ()]
        self.cache.count_lookups(hit is not None, hit is None)
        return generation, hit

    async def set(self, key: str, generation: int, body: str, views: list[str] | None = None
                  ) -> None:
        if len(body) <= MAX_CACHED_BYTES:
            entry: dict[str, Any] = {"generation": generation, "body": body}
            if views:
                entry["views"] = views
            await self.cache.set(key, entry)
