"""JSON columns are decoded by orjson where it reads a text exactly as the stdlib would
(core/database.py `json_loads`): every value, of every type, comes back as `json.loads` gives
it, including what orjson refuses or reads otherwise."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from graphql_api.core.database import json_loads

_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
            | st.text() | st.integers(min_value=2**62, max_value=2**70))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=5)
                       | st.dictionaries(st.text(max_size=8), inner, max_size=5), max_leaves=20)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


@settings(max_examples=400, deadline=None)
@given(_values, st.booleans())
def test_values_read_as_the_stdlib_reads_them(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert _same(json_loads(text), json.loads(text))


def test_the_texts_orjson_alone_would_read_otherwise() -> None:
    for text in ('{"id": 123456789012345678901234567890}', "[9223372036854775808]",
                 "[NaN, Infinity, -Infinity]", '"\\ud800"', "[1e400]", '{"a": 1, "a": 2}',
                 '["wireless", "audio"]', "[]", "[-0, 0.1, 1e16, 1.5e-07]"):
        assert _same(json_loads(text), json.loads(text)), text
