"""The PostgreSQL text index: `product_search.document` (weighted A name, B brand and category,
C tags, D description) and `product_search.name_document` under GIN, ranked with ts_rank.

Typo candidates come from `search_word`, the vocabulary with live document counts that
statement-level triggers keep (migration 0005), through a trigram index: `search_similar_words`
returns every term within reach, and the exact OSA distance is then checked here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    FromClause,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    bindparam,
    case,
    cast,
    false,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSQUERY, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_api.core.models import MoneyType, TimestampType
from graphql_api.search.matching import SUGGEST_EXACT_LETTERS, Completions, WordPlan, closest

# Kept by triggers (migration 0005), so not in the SQLModel metadata: live products only, their
# documents, and copies of the filter and sort columns.
S = Table(
    "product_search", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("document", TSVECTOR),
    Column("name_document", TSVECTOR),
    Column("category_id", Integer),
    Column("brand", String(120)),
    Column("price", MoneyType),
    Column("stock", Integer),
    Column("rating", Numeric(3, 2)),
    Column("created_at", TimestampType),
    Column("tags", JSONB),
)
_VECTOR = S.c.document
_NAME = S.c.name_document
# ts_rank's weights in {D, C, B, A} order: description, tags, brand and category, name.
_WEIGHTS: ColumnElement[Any] = literal_column("CAST('{0.1, 0.25, 0.5, 1.0}' AS real[])")
_LOOSE_WEIGHT = 0.5  # a word matched through a correction or as a prefix only

_PLAN = text(
    """
    SELECT q.i, s.word, s.ndoc
    FROM unnest(CAST(:words AS text[]), CAST(:edits AS integer[]), CAST(:similarity AS real[]))
         WITH ORDINALITY AS q(w, k, t, i)
    CROSS JOIN LATERAL search_similar_words(q.w, q.k, q.t) AS s
    UNION ALL
    SELECT 0, NULL, count(*) FROM (
        SELECT 1 FROM search_word
        WHERE word >= :prefix AND word < :prefix_end AND ndoc > 0 LIMIT 1) AS known
    """
)
_COMPLETIONS = text(
    """
    SELECT q.i, s.word, s.ndoc, s.nname
    FROM unnest(CAST(:heads AS text[]), CAST(:head_ends AS text[])) WITH ORDINALITY AS q(h, e, i)
    CROSS JOIN LATERAL (
        SELECT word, ndoc, nname FROM search_word
        WHERE word >= q.h AND word < q.e AND ndoc > 0) AS s
    UNION ALL
    SELECT 0, NULL, coalesce(sum(nname), 0), 0 FROM search_word
    WHERE word >= :prefix AND word < :prefix_end
    """
)

# Distinct live brands by index seeks, not a scan: product_search holds live products only.
_LABELS = text(
    """
    WITH RECURSIVE brands(brand) AS (
        SELECT min(brand) FROM product_search
        UNION ALL
        SELECT (SELECT min(s.brand) FROM product_search s WHERE s.brand > b.brand)
        FROM brands b WHERE b.brand IS NOT NULL
    )
    SELECT 'brand', brand FROM brands WHERE brand IS NOT NULL
    UNION ALL
    SELECT 'category', c.name FROM category c
    WHERE EXISTS (SELECT 1 FROM product_search s WHERE s.category_id = c.id)
    """
)


def _after(prefix: str) -> str:
    """The least string above every string starting with `prefix` (code point order, as the
    vocabulary's "C" collation sorts)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _lexeme(term: str, prefix: bool = False) -> str:
    quoted = "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + ":*" if prefix else quoted


def _word_query(plan: WordPlan, fuzzy: bool) -> str:
    terms = [_lexeme(t) for t in (plan.terms if fuzzy else [plan.word])]
    if plan.last:
        terms.append(_lexeme(plan.word, prefix=True))
    return "(" + " | ".join(terms) + ")"


def _tsquery(query: str) -> ColumnElement[Any]:
    return cast(bindparam(None, query, type_=Text), TSQUERY)


def _matches(vector: ColumnElement[Any], query: str) -> ColumnElement[bool]:
    return vector.bool_op("@@")(_tsquery(query))


def _rank(query: str) -> ColumnElement[Any]:
    # ts_rank, not ts_rank_cd: per word there is no proximity for cover density to measure, and
    # ts_rank costs a tenth as much (a common word ranks ten thousand rows).
    return func.ts_rank(_WEIGHTS, _VECTOR, _tsquery(query))


def min_similarity(word: str, edits: int) -> float:
    """The least pg_trgm similarity a term within `edits` OSA edits of `word` can have.

    pg_trgm pads a word with two spaces before and one after, so it has len + 1 trigrams (A, as
    a set); an edit destroys at most four of them (a transposition), so a term within reach
    shares at least A - 4e, and has at most len + e + 1 trigrams itself. Zero: no useful bound.
    """
    padded = f"  {word} "
    grams = len({padded[i : i + 3] for i in range(len(padded) - 2)})
    shared = grams - 4 * edits
    if shared <= 0:
        return 0.0
    return shared / (grams + len(word) + edits + 1 - shared) * 0.999


class PostgresText:
    docs = S
    live: list[ColumnElement[bool]] = []  # product_search holds live products only
    labels = _LABELS

    def invalidate(self) -> None:
        return None  # nothing cached: the vocabulary is read from search_word each time

    async def plan(self, conn: AsyncConnection, plans: list[WordPlan]) -> None:
        last = plans[-1].word
        rows = await conn.execute(_PLAN, {
            "words": [p.word for p in plans],
            "edits": [p.edits for p in plans],
            "similarity": [min_similarity(p.word, p.edits) for p in plans],
            "prefix": last, "prefix_end": _after(last),
        })
        candidates: list[list[tuple[str, int]]] = [[] for _ in plans]
        last_known = False
        for i, word, docs in rows:
            if i == 0:
                last_known = docs > 0
            else:
                candidates[i - 1].append((word, docs))
        for plan, found in zip(plans, candidates, strict=True):
            plan.exact = any(w == plan.word for w, _ in found) or (plan.last and last_known)
            plan.similar = closest(plan.word, found, plan.edits)

    def match(self, plans: Sequence[WordPlan], fuzzy: bool, scored: bool
              ) -> tuple[FromClause, list[ColumnElement[bool]], ColumnElement[float] | None]:
        query = " & ".join(_word_query(p, fuzzy) for p in plans)
        conditions = [_matches(_VECTOR, query)]
        if not scored:
            return S, conditions, None
        # One rank per word, added up: a rank of the whole query would weigh how close the
        # words stand, not in which fields they are. A word found only
        # through a correction or as a prefix counts half: "kettle" ranks kettles above the
        # Kettleworks blender, as an exact term outweighs fuzzy and prefix ones in Lucene.
        parts: list[ColumnElement[Any]] = []
        for plan in plans:
            rank = _rank(_word_query(plan, fuzzy))
            if plan.last or (fuzzy and plan.similar):
                rank = rank * case((_matches(_VECTOR, _lexeme(plan.word)), 1.0), else_=_LOOSE_WEIGHT)
            parts.append(rank)
        score = parts[0]
        for part in parts[1:]:
            score = score + part
        return S, conditions, score

    async def completions(self, conn: AsyncConnection, words: list[str], edits: int
                          ) -> Completions:
        heads = [w[:SUGGEST_EXACT_LETTERS] for w in words]
        last = words[-1]
        rows = await conn.execute(_COMPLETIONS, {
            "heads": heads, "head_ends": [_after(h) for h in heads],
            "prefix": last, "prefix_end": _after(last),
        })
        candidates: list[list[tuple[str, int]]] = [[] for _ in words]
        in_names: dict[str, int] = {}
        estimate = 0.0
        for i, word, docs, names in rows:
            if i == 0:
                estimate = float(docs)
            else:
                candidates[i - 1].append((word, docs))
                in_names[word] = names
        out: list[set[str]] = []
        for i, (word, found) in enumerate(zip(words, candidates, strict=True)):
            is_last = i == len(words) - 1
            alternatives: set[str] = set()
            if edits and len(word) > SUGGEST_EXACT_LETTERS:
                alternatives = {t.text for t in closest(word, found, edits, prefix=is_last)
                                if not (is_last and t.text.startswith(word))}
            out.append(alternatives)
        corrected = sum(in_names.get(t, 0) for t in out[0]) if len(words) == 1 else 0
        return Completions(out, estimate, float(corrected))

    def name_phrase(self, words: list[str], alternatives: list[set[str]] | None,
                    walk: bool) -> ColumnElement[bool]:
        if alternatives is None:
            query = _phrase(words, None, ())
        else:
            phrases = [_phrase(words, i, sorted(alts)) for i, alts in enumerate(alternatives) if alts]
            if not phrases:
                return false()
            query = " | ".join(f"({p})" for p in phrases)
        condition = _matches(_NAME, query)
        # Hidden from the planner behind coalesce, so it walks the rating index instead of
        # fetching every matching row through GIN.
        return func.coalesce(condition, false()) if walk else condition


def _phrase(words: list[str], at: int | None, terms: Sequence[str]) -> str:
    """`words` in a row, the last as a prefix; word `at` replaced by any of the whole `terms`."""
    parts = []
    for i, word in enumerate(words):
        if i == at:
            parts.append("(" + " | ".join(_lexeme(t) for t in terms) + ")")
        else:
            parts.append(_lexeme(word, prefix=i == len(words) - 1))
    return " <-> ".join(parts)
