"""Text folding, the same for what is indexed and what is asked: lower case, no accents, no
punctuation. Elasticsearch's core (CI runs it without analysis-common) cannot fold accents, and
SQLite FTS5 and PostgreSQL fold differently, so every adapter is given folded text."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_SPECIAL = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "þ": "th"})


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """`"Crème Brûlée, 2-Pack!"` -> `"creme brulee 2 pack"`. Cached: the same names, brands
    and categories are folded for every suggestion answer and every indexed batch."""
    if text.isascii():  # nothing to decompose (most text): 4x faster
        return " ".join(_NON_WORD.sub(" ", text.lower()).replace("_", " ").split())
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", stripped).replace("_", " ").split())


def words(text: str) -> list[str]:
    return fold(text).split()
