"""Schemathesis hooks for tests/test_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

Schemathesis knows only GraphQL's built-in scalars: without these it cannot build any operation
that takes our Decimal (prices) or DateTime.
"""

from __future__ import annotations

from hypothesis import strategies as st
from schemathesis.graphql import nodes, scalar

_decimal_text = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.sampled_from(["NaN", "-Infinity", "1e999999", "0.000001", "-0", "1_000", ""]),
    st.text(max_size=12),
)
scalar("Decimal", st.one_of(
    _decimal_text.map(nodes.String),
    st.integers(min_value=-(2**70), max_value=2**70).map(nodes.Int),
    st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
))
scalar("DateTime", st.one_of(
    st.datetimes().map(lambda moment: nodes.String(moment.isoformat())),
    st.text(max_size=20).map(nodes.String),
))
