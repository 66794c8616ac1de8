"""`seed --orders N`: a deterministic, idempotent sales history with the advertised shape, whose
rollups equal the facts like any import's."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from graphql_api.cli import main
from graphql_api.core.resources import Resources
from graphql_api.metrics.history import COUNTRIES, DAYS, generate, load_catalog, seed_sales
from tests.metrics.conftest import clear_sales
from tests.metrics.test_rollups_property import _direct, _stored

UNTIL = date(2026, 6, 30)


async def test_generated_history(resources: Resources) -> None:
    catalog = await load_catalog(resources.db)
    lines = list(generate(catalog, 3000, seed=7, until=UNTIL))
    assert lines == list(generate(catalog, 3000, seed=7, until=UNTIL))  # deterministic
    smaller = list(generate(catalog, 1000, seed=7, until=UNTIL))
    assert lines[:len(smaller)] == smaller  # a bigger history starts with the smaller one
    assert list(generate(catalog, 1000, seed=8, until=UNTIL)) != smaller

    sales = [x for x in lines if not x.is_return]
    days = [x.invoice_date.date() for x in lines]
    assert UNTIL - timedelta(days=DAYS - 1) <= min(days) and max(days) <= UNTIL
    assert {x.invoice_date.year for x in sales} == {2024, 2025, 2026}  # two years
    assert len({x.country for x in sales}) == len(COUNTRIES) >= 30
    guests = sum(x.customer_id is None for x in sales) / len(sales)
    assert 0.1 < guests < 0.2
    returned = {x.invoice for x in lines if x.is_return}
    assert 0.02 < len(returned) / len({x.invoice for x in sales}) < 0.06
    assert all(x.invoice.startswith("C") for x in lines if x.is_return)
    # Customers come back: fewer known customers than orders with one.
    known = Counter(x.customer_id for x in sales if x.customer_id is not None)
    assert len(known) < 0.9 * len({x.invoice for x in sales if x.customer_id is not None})
    # Weekly and seasonal patterns (per day of each kind, so unequal counts of days don't count).
    weekday = Counter(x.invoice_date.weekday() for x in sales)
    assert min(weekday[d] for d in range(5)) > max(weekday[5], weekday[6])
    months = Counter(x.invoice_date.month for x in sales)
    assert months[12] / 31 > 1.5 * months[7] / 31
    by_sku = {p.sku: p for p in catalog}
    assert all(by_sku[x.stock_code].id == x.product_id and by_sku[x.stock_code].unit_price ==
               x.unit_price for x in lines)



async def test_seeding_is_idempotent(resources: Resources) -> None:
    await clear_sales(resources)
    report = await seed_sales(resources.db, 400, seed=3, until=UNTIL, batch_lines=300)
    assert report.orders == 400 and report.imported == report.lines > 400
    facts, stored = await _stored(resources)
    assert len(facts) == report.lines and all(f.source == "seed" for f in facts)
    assert stored == _direct(facts)

    again = await seed_sales(resources.db, 400, seed=3, until=UNTIL)
    assert (again.imported, again.already_present) == (0, report.lines)
    # Another day: the same orders (already there, whatever their new dates), plus the returns
    # that have come due since.
    later = await seed_sales(resources.db, 400, seed=3, until=UNTIL + timedelta(days=20))
    assert later.already_present == report.lines - (report.lines + later.imported - later.lines)
    assert later.imported == later.lines - report.lines >= 0
    more = await seed_sales(resources.db, 500, seed=3, until=UNTIL + timedelta(days=20))
    assert more.already_present == later.lines
    assert more.imported == more.lines - later.lines > 0
    facts, stored = await _stored(resources)
    assert len(facts) == more.lines
    assert stored == _direct(facts)


@pytest.mark.usefixtures("embedded_cli")
def test_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command = ["seed", "--products", "30", "--orders", "60", "--until", "2026-03-01"]
    assert main(command) == 0
    out = capsys.readouterr().out
    assert "products created: 30" in out and "sales history: 60 orders" in out
    assert main(command) == 0
    assert " 0 new, " in capsys.readouterr().out
