"""Whole responses of anonymous catalog queries, cached under the catalog generation.

A storefront asks the same few queries over and over; serving them from the cache skips parsing,
validation and execution. Only operations made wholly of the public root fields below are
eligible, and only for callers without a token, so no response depends on who asks. Every field
reachable from these roots reads catalog data, whose writes bump the catalog generation
(`catalog/reads.py`) before they return.

An entry keeps the generation it was made under (and its body as raw text, not re-escaped into
JSON), and a hit reads the entry and the current
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
from graphql_api.core.cache import RAW_MARK, RawText

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


def cacheable(params: dict[str, Any], max_tokens: int) -> bool:
    """Whether a request's operation is eligible (the caller's credentials aside)."""
    query = params["query"]
    return len(query) <= MAX_CACHED_QUERY_CHARS and cacheable_operation(
        query, params.get("operationName"), max_tokens
    )


class ResponseCache:
    """The entries of eligible requests (see `cacheable`), read through one request's reads."""

    def __init__(self, reads: CatalogReads) -> None:
        self.reads = reads
        self.cache = reads.cache

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
        hit = _decode(entry, generation)
        self.cache.count_lookups(hit is not None, hit is None)
        return generation, hit

    async def set(self, key: str, generation: int, body: str, views: list[str] | None = None
                  ) -> None:
        if len(body) <= MAX_CACHED_BYTES:
            await self.cache.set(key, _encode(generation, body, views or []))


# An entry is RawText: MARK generation MARK views (JSON) MARK body. The body is JSON text, in
# which a NUL character is always escaped, so the separators cannot be confused with it.
_SEP = RAW_MARK


def _encode(generation: int, body: str, views: list[str]) -> RawText:
    return RawText(f"{_SEP}{generation}{_SEP}{json.dumps(views)}{_SEP}{body}")


def _decode(entry: Any, generation: int) -> tuple[str, list[str]] | None:
    """The body and views of an entry made under `generation`; None for anything else."""
    if not isinstance(entry, str):
        return None
    parts = entry.split(_SEP, 3)
    if len(parts) != 4 or parts[1] != str(generation):
        return None
    views = json.loads(parts[2])
    return parts[3], [str(v) for v in views]
