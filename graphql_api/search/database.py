"""The database adapter of the search port: SQL search in whichever database the app runs on.

The text index is the database's own, kept by triggers (migration 0005): FTS5 on SQLite
(`sqlite_fts.py`), a tsvector with GIN and pg_trgm on PostgreSQL (`postgres_fts.py`). What both
share is here and in `db_query.py` (filters, sorts, facets), so the two answer alike;
`matching.py` has the text rules, the same as the Elasticsearch adapter's.

A search is a small fixed number of statements, whatever the result size: the vocabulary
look-up of the query words and the brands a brand filter names (one connection), then at once,
each on a connection of its own, the page of hits, one grouped count from which the facets and
the total both come (a plain count without facets), and a probe when a correction is offered.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    Table,
    TextClause,
    and_,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_api.catalog.models import Product
from graphql_api.core.database import Database
from graphql_api.search.db_query import (
    Matched,
    brand_variants,
    count,
    count_facets,
    filters,
    finite,
    order,
)
from graphql_api.search.matching import (
    Completions,
    Highlighter,
    WordPlan,
    correction,
    plan_words,
    suggest_edits,
    suggestion_match,
)
from graphql_api.search.port import (
    Highlight,
    SearchFilter,
    SearchHit,
    SearchRequest,
    SearchResult,
    SearchSort,
    Suggestion,
    SuggestionKind,
    distinct_suggestions,
)
from graphql_api.search.text import fold
from graphql_api.search.text import words as words_of

P = Product.__table__  # type: ignore[attr-defined]
LABELS_TTL_SECONDS = 1.0
T = TypeVar("T")


class TextIndex(Protocol):
    """One database's text index, as the shared code uses it."""

    # The rows text matches are searched in, with the filter and sort columns of `product`
    # (id, category_id, brand, price, stock, rating, created_at, tags), and what makes one live.
    docs: Table
    live: list[ColumnElement[bool]]
    # ("brand" | "category", label) of every live brand and category, for suggestions.
    labels: TextClause

    async def plan(self, conn: AsyncConnection, plans: list[WordPlan]) -> None:
        """Set each word's `exact` and `similar` from the index's vocabulary."""

    def match(self, plans: Sequence[WordPlan], fuzzy: bool, scored: bool
              ) -> tuple[FromClause, list[ColumnElement[bool]], ColumnElement[float] | None]:
        """`docs` rows matching every word (with their corrections when `fuzzy`): the FROM
        clause, its conditions, and the relevance score when `scored`."""

    async def completions(self, conn: AsyncConnection, words: list[str], edits: int
                          ) -> Completions:
        """For suggestions: each word's corrections (whole terms sharing its first letters) and
        upper bounds of the products whose name holds the last word as a prefix, and of those
        whose name holds one of a single word's corrections (0 where the index cannot tell)."""

    def name_phrase(self, words: list[str], alternatives: list[set[str]] | None,
                    walk: bool) -> ColumnElement[bool]:
        """`docs` rows whose name holds `words` in a row (the last as a prefix); with
        `alternatives`, exactly one word replaced by one of its corrections instead. `walk`: the
        caller scans by rating and stops early, so no index should drive the match."""

    def invalidate(self) -> None: ...


class DatabaseSearch:
    kind = "DATABASE"

    def __init__(self, db: Database) -> None:
        self.db = db
        self._labels_cache: tuple[float, list[tuple[SuggestionKind, str, list[str]]]] | None = None
        self.text: TextIndex
        if db.dialect == "postgresql":
            from graphql_api.search.postgres_fts import PostgresText

            self.text = PostgresText()
        else:
            from graphql_api.search.sqlite_fts import SqliteText

            self.text = SqliteText()

    async def ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None

    async def index(self, product_ids: Sequence[int]) -> None:
        # The database indexes its own writes (triggers); only the caches may be stale.
        self.text.invalidate()
        self._labels_cache = None

    # --- search ---------------------------------------------------------------------------------

    async def search(self, request: SearchRequest) -> SearchResult:
        plans = plan_words(request.query)
        async with self.db.read() as conn:
            if plans:
                await self.text.plan(conn, plans)
            brands = await brand_variants(conn, request.filter.brands)
        matched = self._matched(plans, fuzzy=True, scored=True)
        # The page, the counts and the correction probe are independent: each on a connection
        # of its own, so a large result costs the slowest of them, not their sum.
        async with asyncio.TaskGroup() as group:
            hits = group.create_task(self._read(self._hits, request, plans, matched, brands))
            counted = group.create_task(self._read(
                count_facets if request.facets else count, request.filter, matched, brands))
            correcting = group.create_task(self._did_you_mean(plans, request.filter, brands))
        facets, total = counted.result()
        return SearchResult(hits=tuple(hits.result()), total=total, facets=facets,
                            did_you_mean=correcting.result(), backend=self.kind)

    async def _read(self, read: Callable[..., Awaitable[T]], *args: Any) -> T:
        async with self.db.read() as conn:
            return await read(conn, *args)

    def _matched(self, plans: Sequence[WordPlan], fuzzy: bool, scored: bool) -> Matched:
        if not plans:  # browsing: the product table itself, whose indexes serve every sort
            return Matched(P, P, [P.c.deleted_at.is_(None)], None)
        source, conditions, score = self.text.match(plans, fuzzy, scored)
        return Matched(self.text.docs, source, [*self.text.live, *conditions], score)

    async def _hits(self, conn: AsyncConnection, request: SearchRequest, plans: list[WordPlan],
                    matched: Matched, brands: list[str] | None) -> list[SearchHit]:
        if request.limit <= 0:
            return []
        t = matched.docs
        scored = matched.score is not None
        score = (matched.score if matched.score is not None else literal(0.0)).label("score")
        keys = order(t, request.sort)
        if scored and request.sort is SearchSort.RELEVANCE:
            keys = [(score, True), *keys]
        names = ["score" if k is score else f"k{i}" for i, (k, _) in enumerate(keys)]
        page = (
            select(t.c.id.label("id"), score,
                   *(k.label(n) for (k, _), n in zip(keys, names, strict=True) if k is not score))
            .select_from(matched.source)
            .where(*matched.conditions, *filters(t, request.filter, brands, conn.dialect.name))
            .order_by(*(k.desc() if down else k.asc() for k, down in keys))
            .offset(max(request.offset, 0))
            .limit(request.limit)
        )
        highlighter = Highlighter(plans) if plans and request.highlights else None
        if highlighter is None:
            rows = (await conn.execute(page)).all()
            return [SearchHit(product_id=row.id, score=finite(row.score)) for row in rows]
        # The display text of the page's rows only, joined once the page is cut.
        cut = page.subquery("page")
        stmt = (
            select(cut.c.id, cut.c.score, P.c.name, P.c.brand, P.c.description)
            .select_from(cut.join(P, P.c.id == cut.c.id))
            .order_by(*(cut.c[n].desc() if down else cut.c[n].asc()
                        for n, (_, down) in zip(names, keys, strict=True)))
        )
        rows = (await conn.execute(stmt)).all()
        hits = []
        for row in rows:
            highlights = tuple(
                Highlight(name, snippets)
                for name, value, whole in (("name", row.name, True), ("brand", row.brand, True),
                                           ("description", row.description, False))
                if value and (snippets := highlighter.snippets(value, whole))
            )
            hits.append(SearchHit(product_id=row.id, score=finite(row.score), highlights=highlights))
        return hits

    async def _did_you_mean(self, plans: list[WordPlan], f: SearchFilter,
                            brands: list[str] | None) -> str | None:
        """The corrected query, if it finds something under the same filter."""
        words = correction(plans)
        if words is None:
            return None
        corrected = [WordPlan(w, last=i == len(words) - 1, exact=True) for i, w in enumerate(words)]
        matched = self._matched(corrected, fuzzy=False, scored=False)
        async with self.db.read() as conn:
            stmt = select(matched.docs.c.id).select_from(matched.source).where(
                *matched.conditions, *filters(matched.docs, f, brands, conn.dialect.name))
            found = await conn.scalar(stmt.limit(1))
        return " ".join(words) if found is not None else None

    # --- suggestions ----------------------------------------------------------------------------

    async def suggest(self, prefix: str, limit: int) -> list[Suggestion]:
        folded = fold(prefix)
        words = folded.split()
        if not words or limit <= 0:
            return []
        edits = suggest_edits(folded)
        async with asyncio.TaskGroup() as group:  # brands and categories alongside the names
            labels = group.create_task(self._labels())
            names = group.create_task(self._read(self._names, words, edits, limit))
        alternatives, products = names.result()
        ranked: list[tuple[tuple[Any, ...], Suggestion]] = []
        for kind, display, folded_words in labels.result():
            quality = suggestion_match(folded_words, words, alternatives)
            if quality is not None:
                ranked.append(((quality, 0, folded_words, display), Suggestion(display, kind)))
        for quality, product_id, name, rating in products:
            ranked.append(((quality, 1, -rating, -product_id),
                           Suggestion(name, SuggestionKind.PRODUCT, product_id)))
        return distinct_suggestions(ranked, limit)

    async def _labels(self) -> list[tuple[SuggestionKind, str, list[str]]]:
        # Brands and categories come and go rarely; reading them costs more than the rest of a
        # suggestion, so they are held a moment (well within the 2 s a change may take to show).
        now = time.monotonic()
        if self._labels_cache is None or now - self._labels_cache[0] > LABELS_TTL_SECONDS:
            async with self.db.read() as conn:
                rows = (await conn.execute(self.text.labels)).all()
            labels = [(SuggestionKind.BRAND if kind == "brand" else SuggestionKind.CATEGORY,
                       label, words_of(label)) for kind, label in rows]
            self._labels_cache = (now, labels)
        return self._labels_cache[1]

    async def _names(self, conn: AsyncConnection, words: list[str], edits: int, limit: int
                     ) -> tuple[list[set[str]], list[tuple[int, int, str, Decimal]]]:
        found = await self.text.completions(conn, words, edits)
        return found.alternatives, await self._product_names(conn, words, found, limit)

    async def _product_names(self, conn: AsyncConnection, words: list[str], found: Completions,
                             limit: int) -> list[tuple[int, int, str, Decimal]]:
        # Twice the limit, as names repeat and the de-duplicated list must still fill up.
        wanted = 2 * limit + 2
        # Many matching names: walking the rating index finds the best rated ones after a few
        # rows; few: the text index finds all of them, and sorting them is cheap.
        walk = len(words) == 1 and found.estimate > _WALK_ABOVE
        exact = self.text.name_phrase(words, None, walk)
        named = await self._named(conn, self._best_rated(exact, 0, wanted, walk))
        # Corrections rank after every exact completion: look for them only when those are few.
        # The same choice for them: "hedp" corrects to "headphones", in ~3,000 of 100,000 names,
        # which the text index fetched whole to sort by rating (8 ms).
        if len(named) < wanted and any(found.alternatives):
            walk = len(words) == 1 and found.corrected_estimate > _WALK_ABOVE
            fuzzy = and_(self.text.name_phrase(words, found.alternatives, walk), ~exact)
            named += await self._named(conn, self._best_rated(fuzzy, 1, wanted - len(named),
                                                              walk=walk))
        return named

    async def _named(self, conn: AsyncConnection, best: Select[Any]
                     ) -> list[tuple[int, int, str, Decimal]]:
        found = best.subquery("found")
        stmt = select(found.c.quality, found.c.id, P.c.name, found.c.rating).select_from(
            found.join(P, P.c.id == found.c.id))
        return [(r.quality, r.id, r.name, r.rating) for r in await conn.execute(stmt)]

    def _best_rated(self, condition: ColumnElement[bool], quality: int, limit: int, walk: bool
                    ) -> Select[Any]:
        t = self.text.docs
        # Not walking: `rating + 0` is in no index's order, so the planner cannot choose to walk
        # the rating index past thousands of rows for a prefix that few names have.
        rating = t.c.rating if walk else t.c.rating + 0
        return (
            select(t.c.id, t.c.rating, literal(quality).label("quality"))
            .where(*self.text.live, condition)
            .order_by(rating.desc(), t.c.id.desc())
            .limit(limit)
        )


_WALK_ABOVE = 2000


# --- migrations ----------------------------------------------------------------------------------

# What migration 0005 makes that the SQLModel metadata does not describe (triggers and
# functions are not compared at all).
SEARCH_TABLES = ("product_search", "search_word", "search_word_delta", "search_word_pending")
SEARCH_TABLE_PREFIX = "product_fts"  # the FTS5 table, its vocabulary and its shadow tables
SEARCH_INDEXES = {"ix_product_search_facets"}  # on product; the search tables' go with them


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Alembic's include_name hook: leave the search index's own objects out of comparisons."""
    if name is None:
        return True
    if type_ == "table":
        return name not in SEARCH_TABLES and not name.startswith(SEARCH_TABLE_PREFIX)
    if type_ == "index":
        return name not in SEARCH_INDEXES
    return True
