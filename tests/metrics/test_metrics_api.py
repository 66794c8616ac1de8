"""Every metric of an imported year against an independent computation over the same file."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from graphql_api.core.resources import Resources
from graphql_api.metrics.imports import import_file
from graphql_api.metrics.periods import Granularity
from tests.metrics import retail_data as ref
from tests.metrics.conftest import clear_sales

KPI_FIELDS = """revenue { amount currency } grossSales { amount } returns { amount } orders
  unitsSold customers averageOrderValue { amount } returnsRate rangeFrom rangeTo"""
KPIS = f"""query($range: DateRange, $country: String) {{ metrics {{
  kpis(range: $range, country: $country) {{ {KPI_FIELDS} previous {{ {KPI_FIELDS} }} }} }} }}"""
SERIES = """query($metric: SeriesMetric!, $g: Granularity!, $range: DateRange, $country: String) {
  metrics { series(metric: $metric, granularity: $g, range: $range, country: $country) {
    periodStart value } } }"""
TOP_COUNTRIES = """query($by: SalesMeasure!, $limit: Int!, $range: DateRange) { metrics {
  topCountries(by: $by, limit: $limit, range: $range) { country revenue { amount } unitsSold
    orders share } } }"""
TOP_PRODUCTS = """query($by: SalesMeasure!, $limit: Int!, $range: DateRange, $country: String) {
  metrics { topProducts(by: $by, limit: $limit, range: $range, country: $country) {
    stockCode description revenue { amount } unitsSold orders share } } }"""
TRANSACTIONS = """query($first: Int, $after: String, $filter: TransactionFilter) { metrics {
  transactions(first: $first, after: $after, filter: $filter) { totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { invoice stockCode quantity unitPrice { amount } lineTotal { amount }
      invoiceDate customerId country isReturn source } } } } }"""


def _iso(day: date | None) -> str | None:
    return None if day is None else f"{day.isoformat()}T00:00:00+00:00"


def _range(start: date | None, end: date | None) -> dict[str, str | None]:
    return {"from": _iso(start), "to": _iso(end)}


@pytest.fixture(scope="module")
async def lines(resources: Resources, tmp_path_factory: pytest.TempPathFactory) -> list[ref.Line]:
    await clear_sales(resources)
    path = tmp_path_factory.mktemp("metrics") / "year.csv"
    ref.write_file(path, invoices=500, seed=11, encoding="latin-1")
    await import_file(resources.db, path, batch_lines=700)
    return ref.read_reference(path, "latin-1")[0]


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _kpis_of(data: dict[str, Any]) -> dict[str, object]:
    return {"revenue": Decimal(data["revenue"]["amount"]),
            "grossSales": Decimal(data["grossSales"]["amount"]),
            "returns": Decimal(data["returns"]["amount"]), "orders": data["orders"],
            "unitsSold": data["unitsSold"], "customers": data["customers"],
            "averageOrderValue": _decimal((data["averageOrderValue"] or {}).get("amount")),
            "returnsRate": _decimal(data["returnsRate"])}


SPANS = [
    (None, None, None),
    (date(2011, 3, 1), date(2011, 6, 1), None),
    (date(2011, 3, 1), date(2011, 6, 1), "France"),
    (None, date(2011, 1, 1), "Côte d'Ivoire"),
    (date(2011, 11, 1), None, "EIRE"),
    (date(2011, 5, 5), date(2011, 5, 5), None),  # empty
    (date(2011, 5, 5), date(2011, 5, 1), None),  # backwards: empty too
    (date(2011, 1, 1), date(2012, 1, 1), "Narnia"),  # a country with no sales
    (date(2015, 1, 1), date(2016, 1, 1), None),  # a year with no sales
]


@pytest.mark.parametrize(("start", "end", "country"), SPANS)
async def test_kpis(gql: Any, admin_token: str, lines: list[ref.Line], start: date | None,
                    end: date | None, country: str | None) -> None:
    data = (await gql.data(KPIS, {"range": _range(start, end), "country": country},
                           admin_token))["metrics"]["kpis"]
    assert _kpis_of(data) == ref.kpis(lines, start, end, country)
    assert data["revenue"]["currency"] == "USD"
    assert (data["rangeFrom"], data["rangeTo"]) == (_iso(start), _iso(end))
    if start is None or end is None:
        assert data["previous"] is None
    else:
        earlier = start - (end - start)
        assert _kpis_of(data["previous"]) == ref.kpis(lines, earlier, start, country)


async def test_an_empty_shop_reads_zeros(gql: Any, admin_token: str,
                                         lines: list[ref.Line]) -> None:
    data = (await gql.data(KPIS, {"range": _range(date(2001, 1, 1), date(2001, 2, 1))},
                           admin_token))["metrics"]["kpis"]
    assert data["revenue"]["amount"] == "0.00" and data["orders"] == 0
    assert data["averageOrderValue"] is None and data["returnsRate"] is None


def _period(day: date, granularity: Granularity) -> date:
    """Written again here, not imported: ISO weeks from Monday, calendar months and years."""
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.isoweekday() - 1)
    if granularity is Granularity.MONTH:
        return date(day.year, day.month, 1)
    if granularity is Granularity.YEAR:
        return date(day.year, 1, 1)
    return day


def _expected_series(lines: list[ref.Line], metric: str, granularity: Granularity,
                     start: date, end: date, country: str | None) -> dict[date, Decimal]:
    values = {_period(start + timedelta(days=n), granularity): Decimal(0)
              for n in range((end - start).days)}
    chosen = [x for x in lines if ref.in_range(x, start, end, country)]
    customers: dict[date, set[str]] = defaultdict(set)
    for x in chosen:
        key = _period(x.day, granularity)
        if metric == "REVENUE":
            values[key] += -x.value if x.is_return else x.value
        elif metric == "UNITS" and not x.is_return:
            values[key] += x.quantity
        elif metric == "CUSTOMERS" and not x.is_return and x.customer:
            customers[key].add(x.customer)
    if metric == "CUSTOMERS":
        for key, found in customers.items():
            values[key] = Decimal(len(found))
    if metric == "ORDERS":
        for day, c in ref.first_sales(lines).values():
            if start <= day < end and country in (None, c):
                values[_period(day, granularity)] += 1
    return values


@pytest.mark.parametrize("granularity", list(Granularity))
@pytest.mark.parametrize("metric", ["REVENUE", "ORDERS", "UNITS", "CUSTOMERS"])
async def test_series(gql: Any, admin_token: str, lines: list[ref.Line], metric: str,
                      granularity: Granularity) -> None:
    for start, end, country in [(date(2011, 2, 3), date(2011, 4, 17), None),
                                (date(2010, 12, 1), date(2011, 12, 31), "Germany")]:
        data = (await gql.data(SERIES, {"metric": metric, "g": granularity.value,
                                        "range": _range(start, end), "country": country},
                               admin_token))["metrics"]["series"]
        got = {date.fromisoformat(p["periodStart"][:10]): Decimal(p["value"]) for p in data}
        assert [p["periodStart"][10:] for p in data] == ["T00:00:00+00:00"] * len(data)
        assert got == _expected_series(lines, metric, granularity, start, end, country)
        if metric != "CUSTOMERS":  # these add up to their KPI
            kpis = ref.kpis(lines, start, end, country)
            kpi = {"REVENUE": "revenue", "ORDERS": "orders", "UNITS": "unitsSold"}[metric]
            assert sum(got.values()) == kpis[kpi]


async def test_series_of_an_open_range_spans_the_sales(gql: Any, admin_token: str,
                                                       lines: list[ref.Line]) -> None:
    data = (await gql.data(SERIES, {"metric": "REVENUE", "g": "MONTH"}, admin_token)
            )["metrics"]["series"]
    first, last = min(x.day for x in lines), max(x.day for x in lines)
    assert data[0]["periodStart"][:10] == first.replace(day=1).isoformat()
    assert data[-1]["periodStart"][:10] == last.replace(day=1).isoformat()
    assert sum(Decimal(p["value"]) for p in data) == ref.kpis(lines, None, None, None)["revenue"]
    empty = await gql.data(SERIES, {"metric": "ORDERS", "g": "DAY",
                                    "range": _range(date(2011, 5, 5), date(2011, 5, 5))},
                           admin_token)
    assert empty["metrics"]["series"] == []


@pytest.mark.parametrize("by", ["REVENUE", "UNITS", "ORDERS"])
async def test_top_countries(gql: Any, admin_token: str, lines: list[ref.Line], by: str) -> None:
    for start, end in [(None, None), (date(2011, 6, 1), date(2011, 9, 1))]:
        data = (await gql.data(TOP_COUNTRIES, {"by": by, "limit": 4, "range": _range(start, end)},
                               admin_token))["metrics"]["topCountries"]
        chosen = [x for x in lines if ref.in_range(x, start, end, None)]
        expected = ref.by_country(chosen)
        # orders count at each invoice's first sale: over the whole file, then the range
        orders: dict[str, int] = defaultdict(int)
        for day, country in ref.first_sales(lines).values():
            if (start is None or day >= start) and (end is None or day < end):
                orders[country] += 1
        measure = {"REVENUE": "revenue", "UNITS": "units", "ORDERS": "orders"}[by]
        for country in expected:
            expected[country]["orders"] = Decimal(orders[country])
        ranking = sorted(expected, key=lambda c: (-expected[c][measure], c))[:4]
        whole = sum(e[measure] for e in expected.values())
        assert [row["country"] for row in data] == ranking
        for row in data:
            e = expected[row["country"]]
            assert Decimal(row["revenue"]["amount"]) == e["revenue"]
            assert (row["unitsSold"], row["orders"]) == (e["units"], e["orders"])
            assert Decimal(row["share"]) == (e[measure] / whole).quantize(Decimal("0.000001"))


@pytest.mark.parametrize("by", ["REVENUE", "UNITS", "ORDERS"])
async def test_top_products(gql: Any, admin_token: str, lines: list[ref.Line], by: str) -> None:
    for country in (None, "France"):
        data = (await gql.data(TOP_PRODUCTS, {"by": by, "limit": 5, "country": country,
                                              "range": _range(date(2011, 1, 1), date(2011, 7, 1))},
                               admin_token))["metrics"]["topProducts"]
        chosen = [x for x in lines if ref.in_range(x, date(2011, 1, 1), date(2011, 7, 1), country)]
        revenue: dict[str, Decimal] = defaultdict(Decimal)
        units: dict[str, int] = defaultdict(int)
        first: dict[tuple[str, str], tuple[date, str]] = {}
        for x in lines:
            if not x.is_return:
                place = (x.day, x.country)
                first[(x.invoice, x.stock_code)] = min(first.get((x.invoice, x.stock_code), place),
                                                       place)
        orders: dict[str, int] = defaultdict(int)
        for (_, code), (day, c) in first.items():
            if date(2011, 1, 1) <= day < date(2011, 7, 1) and country in (None, c):
                orders[code] += 1
        for x in chosen:
            revenue[x.stock_code] += -x.value if x.is_return else x.value
            units[x.stock_code] += 0 if x.is_return else x.quantity
        measure: dict[str, Any] = {"REVENUE": revenue, "UNITS": units, "ORDERS": orders}[by]
        ranking = sorted(revenue, key=lambda c: (-measure[c], c))[:5]
        assert [row["stockCode"] for row in data] == ranking
        for row in data:
            code = row["stockCode"]
            assert Decimal(row["revenue"]["amount"]) == revenue[code]
            assert (row["unitsSold"], row["orders"]) == (units[code], orders[code])
            assert row["description"].startswith("ARTICLE ")


async def test_country_report(gql: Any, admin_token: str, lines: list[ref.Line]) -> None:
    query = """query($name: String!) { metrics { country(name: $name) { name
      kpis { revenue { amount } orders } series(metric: UNITS) { periodStart value }
      topProducts(limit: 3) { stockCode } } } }"""
    data = (await gql.data(query, {"name": "Spain"}, admin_token))["metrics"]["country"]
    expected = ref.kpis(lines, None, None, "Spain")
    assert Decimal(data["kpis"]["revenue"]["amount"]) == expected["revenue"]
    assert data["kpis"]["orders"] == expected["orders"]
    assert sum(Decimal(p["value"]) for p in data["series"]) == expected["unitsSold"]
    assert all(p["periodStart"][8:10] == "01" for p in data["series"])  # monthly
    assert len(data["topProducts"]) == 3
    nothing = (await gql.data(query, {"name": "Narnia"}, admin_token))["metrics"]["country"]
    assert nothing["kpis"] == {"revenue": {"amount": "0.00"}, "orders": 0}
    assert nothing["series"] == [] and nothing["topProducts"] == []


async def test_transactions(gql: Any, admin_token: str, lines: list[ref.Line]) -> None:
    flt = {"country": "France", "from": "2011-03-01T00:00:00Z", "to": "2011-09-01T12:30:00Z"}
    expected = sorted((x for x in lines if x.country == "France"
                       and "2011-03-01" <= x.moment.isoformat() < "2011-09-01T12:30"),
                      key=lambda x: x.moment, reverse=True)
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql.data(TRANSACTIONS, {"first": 17, "after": after, "filter": flt},
                               admin_token))["metrics"]["transactions"]
        assert page["totalCount"] == len(expected)
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(expected)
    assert [n["invoiceDate"] for n in seen] == [x.moment.isoformat() for x in expected]
    for node in seen:
        assert Decimal(node["lineTotal"]["amount"]) == (
            node["quantity"] * Decimal(node["unitPrice"]["amount"]))
        assert node["source"] == "IMPORT" and node["country"] == "France"
    invoice = expected[0].invoice
    one = (await gql.data(TRANSACTIONS, {"filter": {"invoice": invoice}}, admin_token)
           )["metrics"]["transactions"]
    assert one["totalCount"] == sum(1 for x in lines if x.invoice == invoice)
    customer = next(x.customer for x in lines if x.customer)
    mine = (await gql.data(TRANSACTIONS, {"first": 100, "filter": {"customerId": customer}},
                           admin_token))["metrics"]["transactions"]
    assert mine["totalCount"] == sum(1 for x in lines if x.customer == customer)
    assert {e["node"]["customerId"] for e in mine["edges"]} == {customer}


@pytest.mark.parametrize(("variables", "field"), [
    ({"range": {"from": "2011-03-01T10:00:00Z"}}, "from"),
    ({"range": {"to": "2011-03-01T00:00:00"}}, "to"),
])
async def test_range_bounds_are_utc_days(gql: Any, admin_token: str, lines: list[ref.Line],
                                         variables: dict[str, Any], field: str) -> None:
    body = await gql(KPIS, variables, admin_token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_limits_are_checked(gql: Any, admin_token: str, lines: list[ref.Line]) -> None:
    for limit in (0, 101):
        body = await gql(TOP_COUNTRIES, {"by": "REVENUE", "limit": limit}, admin_token)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
