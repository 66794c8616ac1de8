"""Elasticsearch request bodies for the search port, and the reading of their answers.

Pure functions of a `SearchRequest` and a response, so the semantics can be read (and tested)
apart from the client. Everything is asked in folded text (`text.fold`), as it was indexed.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from graphql_api.search.elastic_mapping import (
    PREFIXED_FIELDS,
    SHORT_PREFIX,
    TEXT_FIELDS,
    cents,
    cents_at_least,
    facet_parts,
)
from graphql_api.search.port import (
    MAX_OFFSET,
    PRICE_RANGES,
    FacetBucket,
    Facets,
    Highlight,
    PriceBucket,
    SearchFilter,
    SearchHit,
    SearchRequest,
    SearchSort,
    SearchUnavailable,
    Suggestion,
    SuggestionKind,
    distinct_suggestions,
)
from graphql_api.search.text import fold

# A prefix is a weaker sign than a whole word: "head" typed is less sure than "headphones".
_PREFIX_WEIGHT = 0.5
_TIE_BREAKER = 0.2  # how much the other matching fields add to a word's best field
HIGHLIGHT_FIELDS = ("name", "brand", "description")
MAX_SNIPPETS = 3
_BRAND_BUCKETS = 50
_CATEGORY_BUCKETS = 1000  # every category: there are a few dozen
_NEIGHBOURS = 50  # indexed terms near a word, at most (a word has a handful)


def allowed_edits(word: str) -> int:
    """Typo tolerance: one edit in words of 4+ letters, two in 8+; shorter words exact."""
    return 0 if len(word) < 4 else 1 if len(word) < 8 else 2


# Every product (and no label document: see elastic_mapping.labels).
PRODUCTS: dict[str, Any] = {"exists": {"field": "product_id"}}
# The indexed terms near each query word, with their edit distance: the typo tolerance.
Near = dict[str, list[tuple[str, int]]]
# How much a term one or two edits away counts against the word itself.
_TYPO_WEIGHT = {1: 0.5, 2: 0.3}


def word_query(word: str, last: bool, near: Near | None = None) -> dict[str, Any]:
    """The clause one query word must satisfy: in any text field (the best one counts, the
    others a little), as typed or as one of its indexed neighbours within its edit budget
    (`near`); the last word also as an exact prefix.

    The neighbours come from the index's own vocabulary (`vocabulary_body`), not from `fuzzy`
    queries: those build a Levenshtein automaton per word and field and cost 4-5 times the rest
    of the query (measured over 100,000 products); the neighbours are the same terms."""
    queries: list[dict[str, Any]] = []
    for field, boost in TEXT_FIELDS.items():
        queries.append({"match": {field: {"query": word, "operator": "and", "boost": boost}}})
        for term, edits in (near or {}).get(word, ()):
            queries.append({"term": {field: {"value": term, "boost": boost * _TYPO_WEIGHT[edits]}}})
        if last and (field in PREFIXED_FIELDS or len(word) > SHORT_PREFIX):
            # One term of the index_prefixes field for prefixes up to 3 characters; a longer
            # one starts few terms, which the terms dictionary finds cheaply.
            queries.append({"prefix": {field: {"value": word, "boost": boost * _PREFIX_WEIGHT}}})
    return {"dis_max": {"queries": queries, "tie_breaker": _TIE_BREAKER}}


def text_query(words: list[str], near: Near | None = None) -> dict[str, Any]:
    """Every word must match (`near`: with typo tolerance; None: as typed)."""
    if not words:
        return PRODUCTS
    return {"bool": {"must": [word_query(w, i == len(words) - 1, near)
                              for i, w in enumerate(words)]}}


def _price_range(low: Decimal | None, high: Decimal | None, *, inclusive_high: bool
                 ) -> dict[str, Any] | None:
    bounds: dict[str, int] = {}
    if low is not None:
        bounds["gte"] = cents_at_least(low)
    if high is not None:
        # Prices are whole cents: <= 19.999 is <= 19.99, < 25 is < 2500.
        bounds["lte" if inclusive_high else "lt"] = (
            cents(high) if inclusive_high else cents_at_least(high))
    return {"range": {"price_cents": bounds}} if bounds else None


def filter_clauses(f: SearchFilter) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    if f.category_slugs:
        clauses.append({"terms": {"category_slug": list(f.category_slugs)}})
    if f.brands:
        clauses.append({"terms": {"brand_key": sorted({fold(b) for b in f.brands})}})
    price = _price_range(f.min_price, f.max_price, inclusive_high=True)
    if price is not None:
        clauses.append(price)
    if f.in_stock is True:
        clauses.append({"range": {"stock": {"gt": 0}}})
    elif f.in_stock is False:
        clauses.append({"range": {"stock": {"lte": 0}}})
    for tag in dict.fromkeys(t.strip().lower() for t in f.tags):
        clauses.append({"term": {"tag_values": tag}})
    if f.min_rating is not None:
        clauses.append({"range": {"rating_hundredths": {"gte": cents_at_least(f.min_rating)}}})
    return clauses


def _bool_filter(f: SearchFilter) -> dict[str, Any]:
    clauses = filter_clauses(f)
    return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}


def _sort(request: SearchRequest, has_text: bool) -> list[Any]:
    by_id = {"product_id": "desc"}
    if request.sort is SearchSort.PRICE_ASC:
        return [{"price_cents": "asc"}, {"product_id": "asc"}]
    if request.sort is SearchSort.PRICE_DESC:
        return [{"price_cents": "desc"}, by_id]
    if request.sort is SearchSort.RATING:
        return [{"rating_hundredths": "desc"}, by_id]
    if request.sort is SearchSort.NEWEST:
        return [{"created_us": "desc"}, by_id]
    ties = [{"rating_hundredths": "desc"}, {"stock": "desc"}, by_id]
    return ["_score", *ties] if has_text else ties


def _facet_aggs(f: SearchFilter) -> dict[str, Any]:
    """Disjunctive facets: each counted under the filter minus its own field (the hits get the
    whole filter as a post_filter), so a bucket's count is the total its selection would give."""
    by_count = [{"_count": "desc"}, {"_key": "asc"}]
    ranges = []
    for low, high in PRICE_RANGES:
        bucket: dict[str, int] = {}
        if low is not None:
            bucket["from"] = cents_at_least(low)
        if high is not None:
            bucket["to"] = cents_at_least(high)
        ranges.append(bucket)
    return {
        "categories": {
            "filter": _bool_filter(f.without("categories")),
            "aggs": {"values": {"terms": {
                "field": "category_facet", "size": _CATEGORY_BUCKETS, "order": by_count}}},
        },
        "brands": {
            "filter": _bool_filter(f.without("brands")),
            "aggs": {"values": {"terms": {
                # A few more than shown: spellings of one brand are merged after.
                "field": "brand_facet", "size": _BRAND_BUCKETS + 10, "order": by_count,
                "shard_size": 500}}},
        },
        "prices": {
            "filter": _bool_filter(replace(f, min_price=None, max_price=None)),
            "aggs": {"values": {"range": {"field": "price_cents", "ranges": ranges}}},
        },
    }


def _highlight(words: list[str], near: Near) -> dict[str, Any]:
    """Marks the words and the indexed terms they stand for, and the last word's prefix as a
    wildcard, which the highlighter can mark in the field itself (a prefix query is answered
    from the hidden `._index_prefix` field, which it cannot)."""
    marks: list[dict[str, Any]] = []
    neighbours = sorted({n for w in words for n, _ in near.get(w, ())})
    for field in HIGHLIGHT_FIELDS:
        marks += [{"match": {field: w}} for w in dict.fromkeys(words)]
        if neighbours:
            marks.append({"terms": {field: neighbours}})
        marks.append({"wildcard": {field: {"value": f"{words[-1]}*"}}})  # folded: \w only
    whole = {"number_of_fragments": 0}  # a name or brand is one snippet, whole
    return {
        "pre_tags": ["<em>"], "post_tags": ["</em>"], "encoder": "html",
        "highlight_query": {"bool": {"should": marks}},
        "fields": {"name": whole, "brand": whole,
                   "description": {"fragment_size": 120, "number_of_fragments": MAX_SNIPPETS}},
    }


def _prefix_anywhere(word: str) -> dict[str, Any]:
    return {"bool": {"should": [{"prefix": {field: word}} for field in TEXT_FIELDS]}}


def vocabulary_body(words: list[str]) -> dict[str, Any]:
    """What the index knows of the query's words, asked before the search: the indexed terms
    near each word, field by field (typo tolerance, highlighting and did_you_mean); whether
    each word is a term of some field as it is; whether the last word is at least a prefix."""
    suggest: dict[str, Any] = {"text": " ".join(words)}
    for field in TEXT_FIELDS:
        suggest[f"near_{field}"] = {"term": {
            "field": field, "suggest_mode": "always", "size": _NEIGHBOURS, "min_word_length": 4,
            "max_edits": 2, "prefix_length": 0, "sort": "score", "accuracy": 0.1,
            # however common the word itself (by default none for one in 1% of the products)
            "max_term_freq": 2**31 - 1}}
    aggs: dict[str, Any] = {
        f"known_{i}": {"filter": {"bool": {"should": [
            {"match": {field: {"query": word, "operator": "and"}}} for field in TEXT_FIELDS]}}}
        for i, word in enumerate(words)}
    aggs["last_word"] = {"filter": _prefix_anywhere(words[-1])}
    return {"size": 0, "track_total_hits": False, "suggest": suggest, "aggs": aggs}


def search_body(request: SearchRequest, near: Near | None = None) -> dict[str, Any]:
    """`near`: the indexed terms near each word (`near_terms` of a vocabulary answer)."""
    words = fold(request.query).split()
    offset = min(max(request.offset, 0), MAX_OFFSET)
    size = max(0, min(request.limit, MAX_OFFSET - offset))
    body: dict[str, Any] = {
        "from": offset, "size": size, "_source": False, "track_total_hits": True,
        "sort": _sort(request, bool(words)),
    }
    query = text_query(words, near or {})
    if request.facets:
        body["query"] = query
        body["post_filter"] = _bool_filter(request.filter)
        body["aggs"] = _facet_aggs(request.filter)
    else:
        clauses = filter_clauses(request.filter)
        body["query"] = {"bool": {"must": [query], "filter": clauses}} if clauses else query
    if words:
        body["track_scores"] = True
        if request.highlights:
            body["highlight"] = _highlight(words, near or {})
    return body


def exists_body(words: list[str], f: SearchFilter) -> dict[str, Any]:
    """Does this query find anything without typo tolerance (a did_you_mean candidate's test)."""
    clauses = filter_clauses(f)
    return {"size": 0, "terminate_after": 1, "track_total_hits": True,
            "query": {"bool": {"must": [text_query(words)], "filter": clauses}}}


# --- answers ------------------------------------------------------------------------------------

def hits(response: dict[str, Any]) -> tuple[SearchHit, ...]:
    found = []
    for hit in response["hits"]["hits"]:
        marked = hit.get("highlight") or {}
        highlights = tuple(Highlight(field, tuple(marked[field][:MAX_SNIPPETS]))
                           for field in HIGHLIGHT_FIELDS if marked.get(field))
        found.append(SearchHit(int(hit["_id"]), float(hit.get("_score") or 0.0), highlights))
    return tuple(found)


def _by_count(buckets: list[FacetBucket]) -> tuple[FacetBucket, ...]:
    return tuple(sorted(buckets, key=lambda b: (-b.count, b.value)))


def facets(response: dict[str, Any]) -> Facets:
    aggs = response["aggregations"]
    categories = []
    for b in aggs["categories"]["values"]["buckets"]:
        slug, name = facet_parts(b["key"])
        categories.append(FacetBucket(slug, b["doc_count"], name))
    # Brands are compared folded: the spellings of one are one bucket, labelled as most of its
    # products spell it.
    spellings: dict[str, list[tuple[int, str]]] = {}
    for b in aggs["brands"]["values"]["buckets"]:
        key, brand = facet_parts(b["key"])
        spellings.setdefault(key, []).append((b["doc_count"], brand))
    brands = [FacetBucket(min(found, key=lambda s: (-s[0], s[1]))[1], sum(n for n, _ in found))
              for found in spellings.values()]
    prices = aggs["prices"]["values"]["buckets"]
    return Facets(
        categories=_by_count(categories),
        brands=_by_count(brands)[:_BRAND_BUCKETS],
        price_ranges=tuple(PriceBucket(low, high, b["doc_count"])
                           for (low, high), b in zip(PRICE_RANGES, prices, strict=True)),
    )


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent transpositions counted as one edit (the optimal
    string alignment distance), as Elasticsearch's fuzzy queries count by default."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, previous2[j - 2] + 1)
            current.append(best)
        previous2, previous = previous, current
    return previous[-1]


def near_terms(response: dict[str, Any], words: list[str]) -> Near:
    """Each word's indexed neighbours within its edit budget, nearest first, then the most
    frequent (a vocabulary_body answer; a term's frequency is its largest in one field)."""
    starts: dict[int, int] = {}  # a word's offset in the suggested text -> its position
    offset = 0
    for i, word in enumerate(words):
        starts[offset] = i
        offset += len(word) + 1
    freq: dict[int, dict[str, int]] = {}
    for field in TEXT_FIELDS:
        for entry in response.get("suggest", {}).get(f"near_{field}", []):
            at = starts.get(entry["offset"])
            if at is None or entry["length"] != len(words[at]):
                continue  # an analyzer token that is not a whole word
            terms = freq.setdefault(at, {})
            for option in entry["options"]:
                terms[option["text"]] = max(terms.get(option["text"], 0), option["freq"])
    near: Near = {}
    for at, terms in freq.items():
        word = words[at]
        budget = allowed_edits(word)
        ranked = sorted((edit_distance(word, t), -n, t) for t, n in terms.items())
        near[word] = [(t, edits) for edits, _, t in ranked if 0 < edits <= budget][:_NEIGHBOURS]
    return near


def corrections(response: dict[str, Any], words: list[str], near: Near) -> list[str] | None:
    """The query with each word that matches nothing exactly (no term of any field; the last
    word not even a prefix) replaced by its nearest indexed term within its edit budget, the
    most frequent on ties; None when no word needs (or has) a replacement."""
    aggs = response["aggregations"]
    corrected, changed = list(words), False
    for i, word in enumerate(words):
        if aggs[f"known_{i}"]["doc_count"] > 0:
            continue
        if i == len(words) - 1 and aggs["last_word"]["doc_count"] > 0:
            continue  # still being typed
        if near.get(word):
            corrected[i] = near[word][0][0]
            changed = True
    return corrected if changed else None


# --- suggestions --------------------------------------------------------------------------------

_SUGGEST_FIELDS = {
    SuggestionKind.PRODUCT: "suggest_name",
    SuggestionKind.BRAND: "suggest_brand",
    SuggestionKind.CATEGORY: "suggest_category",
}


def suggest_body(prefix: str, limit: int) -> dict[str, Any]:
    """Exact and (for prefixes of 4+) fuzzy completions of each kind, asked separately so that
    typo matches never crowd out exact ones. Typos only after the first two letters."""
    suggest: dict[str, Any] = {}
    for kind, field in _SUGGEST_FIELDS.items():
        # Product names repeat (de-duplicated after), so products ask for more; a brand or a
        # category is one label document per key, one more only in case two fold alike.
        size = max(limit * 3, 10) if kind is SuggestionKind.PRODUCT else limit + 1
        completion: dict[str, Any] = {"field": field, "size": size}
        suggest[kind.value] = {"prefix": prefix, "completion": completion}
        if len(prefix) >= 4:
            suggest[f"{kind.value}_fuzzy"] = {"prefix": prefix, "completion": {
                **completion, "fuzzy": {"fuzziness": 1, "prefix_length": 2}}}
    return {"_source": ["shown", "rating_hundredths"], "suggest": suggest}


# All `suggestions` reads of an answer: a third of the bytes to send and decode.
SUGGEST_FILTER = "suggest.*.options._id,suggest.*.options._source"


def suggestions(response: dict[str, Any], prefix: str, limit: int) -> list[Suggestion]:
    """Ranked: a text that starts with the prefix, then one with a word that does, then typo
    matches; within a rank brands and categories before products, products by rating."""
    ranked: list[tuple[tuple[Any, ...], Suggestion]] = []
    for kind in _SUGGEST_FIELDS:
        for key in (kind.value, f"{kind.value}_fuzzy"):
            for entry in response.get("suggest", {}).get(key, ()):
                for option in entry.get("options", ()):  # `SUGGEST_FILTER` drops empty ones
                    source = option["_source"]
                    text = source["shown"][_SHOWN[kind]]
                    if not text:
                        continue
                    folded = fold(text)
                    tier = (0 if folded.startswith(prefix)
                            else 1 if f" {prefix}" in f" {folded}" else 2)
                    product = kind is SuggestionKind.PRODUCT
                    rating = source.get("rating_hundredths", 0) if product else 0
                    product_id = int(option["_id"]) if product else None
                    order = (tier, product, -rating, folded, text, product_id or 0)
                    ranked.append((order, Suggestion(text, kind, product_id)))
    return distinct_suggestions(ranked, limit)


_SHOWN = {SuggestionKind.PRODUCT: "name", SuggestionKind.BRAND: "brand",
          SuggestionKind.CATEGORY: "category"}


# --- failures inside a 200 ------------------------------------------------------------------

def msearch_answer(response: dict[str, Any]) -> dict[str, Any]:
    """One answer of an msearch, whose failures come inside a 200."""
    if "error" not in response:
        return response
    status = response.get("status", 500)
    message = f"elasticsearch msearch: {status} {response['error']}"
    if status >= 500 or status in (404, 408, 429):
        raise SearchUnavailable(message)
    raise RuntimeError(message)


def check_bulk(body: dict[str, Any]) -> None:
    """A bulk answers 200 with per-item errors: a deleted product that was not indexed, or a
    label that exists already, is fine; a rejection or a missing alias means the index is not
    usable now."""
    if not body.get("errors"):
        return
    failures = []
    for item in body["items"]:
        action, result = next(iter(item.items()))
        status = result.get("status", 500)
        if status >= 300 and (action, status) not in (("delete", 404), ("create", 409)):
            failures.append((status, result.get("error")))
    if not failures:
        return
    status, error = failures[0]
    message = f"elasticsearch bulk: {len(failures)} items failed, first {status}: {error}"
    # The alias on two indexes for a moment (two builds swapping at once, the second then
    # removing the older) has no write index: transient, like an outage.
    if status >= 500 or status in (404, 429) or "no write index" in str(error):
        raise SearchUnavailable(message)
    raise RuntimeError(message)
