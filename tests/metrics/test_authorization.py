"""Metrics are for admins: every field refuses a guest (UNAUTHENTICATED) and a customer
(FORBIDDEN), and answers an admin."""

from __future__ import annotations

from typing import Any

import pytest

FIELDS = {
    "kpis": "kpis { revenue { amount } }",
    "series": "series(metric: REVENUE, granularity: MONTH) { periodStart value }",
    "topCountries": "topCountries(by: ORDERS) { country }",
    "topProducts": "topProducts(by: UNITS) { stockCode }",
    "country": 'country(name: "France") { kpis { orders } }',
    "transactions": "transactions(first: 1) { totalCount }",
    "funnel": "funnel { steps { step sessions } }",
    "topSearches": "topSearches(limit: 3) { query searches noResults }",
}


@pytest.mark.parametrize("field", list(FIELDS))
async def test_each_field(gql: Any, customer_token: str, admin_token: str, field: str) -> None:
    query = f"{{ metrics {{ {FIELDS[field]} }} }}"
    for token, code in [(None, "UNAUTHENTICATED"), (customer_token, "FORBIDDEN")]:
        body = await gql(query, token=token)
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert field in (await gql.data(query, token=admin_token))["metrics"]
