"""The SQLite text index: FTS5 over live products (`product_fts`), weighted with bm25.

Typo candidates come from the index's own vocabulary (`product_fts_vocab`), held in memory and
rebuilt when the index changes. FTS5 rewrites its structure record (row 10 of `product_fts_data`)
on every committed change, so comparing that one small row per search tells whether the copy is
current, whichever process wrote.
"""

from __future__ import annotations

import asyncio
import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, FromClause, case, column, false, literal_column, select, table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_api.catalog.models import Product
from graphql_api.search.matching import SUGGEST_EXACT_LETTERS, Completions, WordPlan, closest

P = Product.__table__  # type: ignore[attr-defined]
_FTS = table("product_fts", column("rowid"))
_FTS_NAME: ColumnElement[Any] = literal_column("product_fts")
# Column weights in the table's order: name, brand, category, tags, description. Brand and
# category stay well below the name: bm25 favours short fields, and they are one to three words.
_BM25: ColumnElement[Any] = literal_column("bm25(product_fts, 10.0, 3.0, 3.0, 1.5, 1.0)")
_LOOSE_WEIGHT = 0.5  # a word matched through a correction or as a prefix only
_STRUCTURE = text("SELECT block FROM product_fts_data WHERE id = 10")
_TERMS = text("SELECT term, doc FROM product_fts_vocab")
# Distinct brands by index seeks (ix_product_brand), not a scan of products.
_LABELS = text(
    """
    WITH RECURSIVE brands(brand) AS (
        SELECT min(brand) FROM product
        UNION ALL
        SELECT (SELECT min(p.brand) FROM product p WHERE p.brand > b.brand)
        FROM brands b WHERE b.brand IS NOT NULL
    )
    SELECT 'brand', b.brand FROM brands b WHERE b.brand IS NOT NULL AND EXISTS (
        SELECT 1 FROM product p WHERE p.brand = b.brand AND p.deleted_at IS NULL)
    UNION ALL
    SELECT 'category', c.name FROM category c WHERE EXISTS (
        SELECT 1 FROM product p WHERE p.category_id = c.id AND p.deleted_at IS NULL)
    """
)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _word_query(plan: WordPlan, fuzzy: bool) -> str:
    terms = [_quote(t) for t in (plan.terms if fuzzy else [plan.word])]
    if plan.last:
        terms.append(_quote(plan.word) + "*")
    return "(" + " OR ".join(terms) + ")"


def _matching(query: str) -> ColumnElement[bool]:
    return P.c.id.in_(select(_FTS.c.rowid).where(_FTS_NAME.match(query)))


class Vocabulary:
    """The index's terms with their document counts, and a bigram index to find near spellings."""

    def __init__(self, terms: Iterable[tuple[str, int]]) -> None:
        self.docs: dict[str, int] = dict(terms)
        self.sorted = sorted(self.docs)
        self._grams: dict[tuple[int, str], list[str]] = defaultdict(list)
        self._lengths: dict[int, list[str]] = defaultdict(list)
        for term in self.sorted:
            self._lengths[len(term)].append(term)
            for gram in _bigrams(term):
                self._grams[(len(term), gram)].append(term)

    def has_prefix(self, prefix: str) -> bool:
        i = bisect.bisect_left(self.sorted, prefix)
        return i < len(self.sorted) and self.sorted[i].startswith(prefix)

    def starting(self, prefix: str) -> list[str]:
        i = bisect.bisect_left(self.sorted, prefix)
        out = []
        while i < len(self.sorted) and self.sorted[i].startswith(prefix):
            out.append(self.sorted[i])
            i += 1
        return out

    def near(self, word: str, limit: int) -> list[tuple[str, int]]:
        """Terms that may be within `limit` edits of `word`: the right length, and sharing
        enough bigrams (an edit changes at most three of a word's padded bigrams)."""
        grams = _bigrams(word)
        need = len(grams) - 3 * limit
        lengths = range(len(word) - limit, len(word) + limit + 1)
        if need <= 0:
            return [(t, self.docs[t]) for n in lengths for t in self._lengths.get(n, ())]
        shared: Counter[str] = Counter()
        for n in lengths:
            for gram in grams:
                shared.update(self._grams.get((n, gram), ()))
        return [(t, self.docs[t]) for t, k in shared.items() if k >= need]


def _bigrams(term: str) -> set[str]:
    padded = f"\x00{term}\x00"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


class SqliteText:
    docs = P  # FTS5 rows are product ids: matches join the product table itself
    live: list[ColumnElement[bool]] = [P.c.deleted_at.is_(None)]
    labels = _LABELS

    def __init__(self) -> None:
        self._vocabulary: Vocabulary | None = None
        self._version: bytes | None = None
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._version = None

    async def vocabulary(self, conn: AsyncConnection) -> Vocabulary:
        version = await conn.scalar(_STRUCTURE)
        if self._vocabulary is None or version != self._version:
            async with self._lock:
                if self._vocabulary is None or version != self._version:
                    rows = await conn.execute(_TERMS)
                    self._vocabulary = Vocabulary((t, d) for t, d in rows)
                    self._version = version
        assert self._vocabulary is not None
        return self._vocabulary

    async def plan(self, conn: AsyncConnection, plans: list[WordPlan]) -> None:
        vocabulary = await self.vocabulary(conn)
        for plan in plans:
            plan.exact = plan.word in vocabulary.docs or (
                plan.last and vocabulary.has_prefix(plan.word))
            plan.similar = closest(plan.word, vocabulary.near(plan.word, plan.edits), plan.edits)

    def match(self, plans: Sequence[WordPlan], fuzzy: bool, scored: bool
              ) -> tuple[FromClause, list[ColumnElement[bool]], ColumnElement[float] | None]:
        query = " AND ".join(_word_query(p, fuzzy) for p in plans)
        columns = [_FTS.c.rowid.label("id"), *([_BM25.label("rank")] if scored else [])]
        found = select(*columns).where(_FTS_NAME.match(query)).subquery("fts")
        source = P.join(found, found.c.id == P.c.id)
        if not scored:
            return source, [], None
        score: ColumnElement[Any] = -found.c.rank
        # bm25 cannot weigh terms, so a product finding a word only through a correction or as
        # a prefix is scaled down: "kettle" ranks kettles above the Kettleworks blender.
        for plan in plans:
            if plan.last or (fuzzy and plan.similar):
                score = score * case((_matching(_quote(plan.word)), 1.0), else_=_LOOSE_WEIGHT)
        return source, [], score

    async def completions(self, conn: AsyncConnection, words: list[str], edits: int
                          ) -> Completions:
        vocabulary = await self.vocabulary(conn)
        out: list[set[str]] = []
        for i, word in enumerate(words):
            last = i == len(words) - 1
            alternatives: set[str] = set()
            if edits and len(word) > SUGGEST_EXACT_LETTERS:
                candidates = ((t, vocabulary.docs[t])
                              for t in vocabulary.starting(word[:SUGGEST_EXACT_LETTERS]))
                alternatives = {t.text for t in closest(word, candidates, edits, prefix=last)
                                if not (last and t.text.startswith(word))}
            out.append(alternatives)
        return Completions(out, 0.0)  # FTS5 keeps no counts per field: never walk

    def name_phrase(self, words: list[str], alternatives: list[set[str]] | None,
                    walk: bool) -> ColumnElement[bool]:
        if alternatives is None:
            return _matching("name : (" + _phrase(words, None, None) + ")")
        phrases = [_phrase(words, i, t) for i, alts in enumerate(alternatives) for t in sorted(alts)]
        if not phrases:
            return false()
        return _matching("name : (" + " OR ".join(phrases) + ")")


def _phrase(words: list[str], at: int | None, term: str | None) -> str:
    """`words` as an FTS5 phrase, the last as a prefix; word `at` replaced by the whole `term`."""
    parts = []
    for i, word in enumerate(words):
        if i == at and term is not None:
            parts.append(_quote(term))
        elif i == len(words) - 1:
            parts.append(_quote(word) + "*")
        else:
            parts.append(_quote(word))
    return " + ".join(parts)

