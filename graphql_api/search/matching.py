"""The database adapter's text rules in plain Python, the same on SQLite and PostgreSQL: edit limits,
edit distances, which vocabulary terms a query word stands for, and highlighting.

Distances are optimal string alignment (Damerau-Levenshtein where no substring is edited twice, as
Lucene's fuzzy queries count them), so the database adapter and Elasticsearch accept the same typos.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from graphql_api.search.text import fold

MAX_EXPANSIONS = 50  # terms a misspelt word may stand for (Elasticsearch's default for fuzziness)
SUGGEST_EXACT_LETTERS = 2  # a suggestion's first letters are never corrected
MAX_SNIPPETS = 3
_SNIPPET_CHARS = 160


def max_edits(word: str) -> int:
    """Typos tolerated in a query word: none below 4 letters, one from 4, two from 8."""
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


def suggest_edits(prefix: str) -> int:
    return 1 if len(prefix) >= 4 else 0


def edit_distance(a: str, b: str, limit: int) -> int:
    """The OSA distance of `a` and `b`, or `limit + 1` as soon as it must exceed `limit`."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    row = _rows(a, b, limit)
    return min(row[-1], limit + 1) if row is not None else limit + 1


def prefix_distance(prefix: str, term: str, limit: int) -> int:
    """The fewest edits turning `prefix` into some prefix of `term` (capped at `limit + 1`)."""
    if term.startswith(prefix):
        return 0
    row = _rows(prefix, term[: len(prefix) + limit], limit)
    return min(min(row), limit + 1) if row is not None else limit + 1


def _rows(a: str, b: str, limit: int) -> list[int] | None:
    """The last row of the OSA table of `a` against `b`; None once every cell exceeds `limit`
    (a row's minimum never decreases further down, transpositions included)."""
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, before[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return None
        before, previous = previous, current
    return previous


@dataclass(frozen=True)
class Term:
    text: str
    distance: int
    docs: int  # live products holding it


def closest(word: str, candidates: Iterable[tuple[str, int]], limit: int,
            prefix: bool = False) -> list[Term]:
    """The candidates within `limit` edits of `word` (other than `word` itself), closest first,
    then the most frequent, at most MAX_EXPANSIONS."""
    if limit <= 0:
        return []
    measure = prefix_distance if prefix else edit_distance
    found = []
    for text, docs in candidates:
        if text != word and (distance := measure(word, text, limit)) <= limit:
            found.append(Term(text, distance, docs))
    found.sort(key=lambda t: (t.distance, -t.docs, t.text))
    return found[:MAX_EXPANSIONS]


@dataclass(frozen=True)
class Completions:
    """A suggestion prefix against the index's vocabulary (see `TextIndex.completions`)."""

    alternatives: list[set[str]]  # each word's corrections
    estimate: float  # names holding the last word as a prefix, at most
    corrected_estimate: float = 0.0  # names holding one of a single word's corrections, at most


@dataclass
class WordPlan:
    """One query word: the terms it matches in the index."""

    word: str
    last: bool  # the last word also matches as a prefix (search as you type)
    exact: bool = False  # a vocabulary term itself (the last word: or the start of one)
    similar: list[Term] = field(default_factory=list)  # typo corrections, closest first

    @property
    def edits(self) -> int:
        return max_edits(self.word)

    @property
    def terms(self) -> list[str]:
        return [self.word, *(t.text for t in self.similar)]


def plan_words(query: str) -> list[WordPlan]:
    words = fold(query).split()
    return [WordPlan(w, last=i == len(words) - 1) for i, w in enumerate(words)]


def correction(plans: Sequence[WordPlan]) -> list[str] | None:
    """The query with each word the index lacks replaced by its closest term; None when every word
    is known or some unknown word has no term within reach."""
    if all(p.exact for p in plans):
        return None
    words = []
    for plan in plans:
        if plan.exact:
            words.append(plan.word)
        elif plan.similar:
            words.append(plan.similar[0].text)
        else:
            return None
    return words


# --- highlighting -------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+")
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


class Highlighter:
    """Wraps the words of a display text that a query matched in <em>, escaping the rest."""

    def __init__(self, plans: Sequence[WordPlan]) -> None:
        self.terms = {t for p in plans for t in p.terms}
        self.prefix = next((p.word for p in plans if p.last), None)

    def _hit(self, token: str) -> bool:
        return any(w in self.terms or (self.prefix is not None and w.startswith(self.prefix))
                   for w in fold(token).split())

    def mark(self, text: str) -> str | None:
        """`text` with its matched words marked; None when none matched."""
        out: list[str] = []
        at = 0
        hit = False
        for m in _TOKEN.finditer(text):
            if self._hit(m.group()):
                out.append(html.escape(text[at : m.start()]))
                out.append(f"<em>{html.escape(m.group())}</em>")
                at = m.end()
                hit = True
        if not hit:
            return None
        out.append(html.escape(text[at:]))
        return "".join(out)

    def snippets(self, text: str, whole: bool) -> tuple[str, ...]:
        """The whole text (short fields) or up to MAX_SNIPPETS matching sentences of it."""
        if whole:
            marked = self.mark(text)
            return () if marked is None else (marked,)
        found = []
        for m in _SENTENCE.finditer(text):
            sentence = _clip(m.group().strip(), self)
            if sentence and (marked := self.mark(sentence)) is not None:
                found.append(marked)
                if len(found) == MAX_SNIPPETS:
                    break
        return tuple(found)


def _clip(sentence: str, highlighter: Highlighter) -> str:
    """A long sentence cut to a window around its first match, at word boundaries."""
    if len(sentence) <= _SNIPPET_CHARS:
        return sentence
    first = next((m.start() for m in _TOKEN.finditer(sentence) if highlighter._hit(m.group())), 0)
    start = max(0, first - _SNIPPET_CHARS // 3)
    window = sentence[start : start + _SNIPPET_CHARS]
    if start > 0:
        window = window.split(" ", 1)[-1]
    if start + _SNIPPET_CHARS < len(sentence):
        window = window.rsplit(" ", 1)[0]
    return window


# --- suggestions --------------------------------------------------------------------------------


def suggestion_match(words: Sequence[str], prefix_words: Sequence[str],
                     alternatives: Sequence[set[str]]) -> int | None:
    """0 when `words` (a folded display text) hold the prefix's words in a row, the last as a
    prefix; 1 when they do with one of them corrected (`alternatives[i]`: corrections of word i,
    each a whole term, or for the last word a term it begins); None when they do not."""
    n = len(prefix_words)
    best: int | None = None
    for start in range(len(words) - n + 1):
        edits = 0
        for i, want in enumerate(prefix_words):
            have = words[start + i]
            last = i == n - 1
            if have == want or (last and have.startswith(want)):
                continue
            if have in alternatives[i] and edits == 0:
                edits = 1
                continue
            edits = 2
            break
        if edits <= 1:
            best = edits if best is None else min(best, edits)
            if best == 0:
                return 0
    return best
