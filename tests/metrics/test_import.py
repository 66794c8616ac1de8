"""`import-transactions`: returns, guests, bad rows by line, duplicates, encodings, re-imports."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from graphql_api.cli import main
from graphql_api.core.resources import Resources
from graphql_api.metrics import ledger
from graphql_api.metrics.imports import import_file
from graphql_api.metrics.retail_csv import LayoutError, RetailFile, detect_encoding
from tests.metrics.conftest import TABLES, clear_sales
from tests.metrics.retail_data import read_reference, write_file
from tests.metrics.test_rollups_property import _direct, _stored

SMALL = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom
536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom
C536379,D,Discount,-1,12/1/2010 9:41,27.50,14527,United Kingdom
536380,22961,"JAM MAKING SET, PRINTED",24,12/1/2010 9:41,1.45,,France
536381,22961,JAM,24,13/45/2010 9:41,1.45,,France
536382,22961,JAM,abc,12/1/2010 9:41,1.45,,France
536383,22961,JAM,2,12/1/2010 9:41,0,,France
536384,22961,JAM,2,12/1/2010 9:41,0.00001,,France
536385,22962,JAM,-2,2011-01-04 10:00:00,1.00,12000,France
"""


async def _snapshot(resources: Resources) -> list[list[tuple[object, ...]]]:
    async with resources.db.read() as conn:
        return [sorted(tuple(r) for r in await conn.execute(select(t))) for t in TABLES]


async def test_small_file(resources: Resources, tmp_path: Path) -> None:
    await clear_sales(resources)
    path = tmp_path / "small.csv"
    path.write_text(SMALL)
    report = await import_file(resources.db, path, batch_lines=3)
    assert (report.rows, report.imported, report.already_present, report.bad) == (10, 5, 1, 4)
    assert [(b.line, b.reason.split(" ")[0]) for b in report.bad_rows] == [
        (7, "unreadable"), (8, "unreadable"), (9, "unit"), (10, "unit")]
    async with resources.db.read() as conn:
        lines = {(r.invoice, r.stock_code): r for r in await conn.execute(select(ledger.lines_table))}
    assert lines[("536365", "71053")].customer_id == "17850"  # 17850.0 as a spreadsheet writes it
    assert lines[("536380", "22961")].customer_id is None  # a guest
    assert lines[("536380", "22961")].description == "JAM MAKING SET, PRINTED"
    discount = lines[("C536379", "D")]
    assert discount.is_return and discount.quantity == 1 and discount.unit_price == Decimal("27.5")
    negative = lines[("536385", "22962")]  # a negative quantity is a return even without C
    assert negative.is_return and negative.quantity == 2
    assert negative.invoice_date.isoformat() == "2011-01-04T10:00:00+00:00"

    before = await _snapshot(resources)
    again = await import_file(resources.db, path)
    assert (again.imported, again.already_present, again.bad) == (0, 6, 4)
    assert await _snapshot(resources) == before  # a re-import changes nothing, rollups included


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "utf-8-sig"])
async def test_encodings_are_detected(resources: Resources, tmp_path: Path, encoding: str) -> None:
    await clear_sales(resources)
    path = tmp_path / f"retail-{encoding}.csv"
    write_file(path, invoices=40, encoding=encoding)
    assert detect_encoding(path) == encoding
    expected, _ = read_reference(path, encoding)
    report = await import_file(resources.db, path)
    assert report.imported == len(expected)
    async with resources.db.read() as conn:
        names = set((await conn.execute(select(ledger.lines_table.c.country))).scalars())
        descriptions = set((await conn.execute(select(ledger.lines_table.c.description))).scalars())
    assert names <= {line.country for line in expected}
    assert any("É" in d for d in descriptions)


async def test_duplicates_and_bad_rows_of_a_larger_file(resources: Resources, tmp_path: Path) -> None:
    await clear_sales(resources)
    path = tmp_path / "retail.csv"
    counts = write_file(path, invoices=300, encoding="latin-1")
    expected, bad_lines = read_reference(path, "latin-1")
    report = await import_file(resources.db, path, batch_lines=200)
    assert report.bad == counts["bad"] == len(bad_lines)
    assert [b.line for b in report.bad_rows] == bad_lines
    assert report.imported == len(expected)
    assert report.already_present == counts["duplicates"]
    assert report.rows == report.imported + report.already_present + report.bad
    async with resources.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(ledger.lines_table))
                ).scalar_one() == len(expected)


def test_a_file_without_the_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(LayoutError):
        list(RetailFile(path))


@pytest.mark.usefixtures("embedded_cli")
def test_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "small.csv"
    path.write_text(SMALL, encoding="latin-1")
    assert main(["import-transactions", str(path)]) == 0
    out = capsys.readouterr().out
    assert "10 rows read (utf-8): 5 sales lines imported, 1 already present, 4 bad" in out
    assert "line 7: unreadable date '13/45/2010 9:41'" in out
    assert main(["import-transactions", str(path)]) == 0
    assert "0 sales lines imported, 6 already present" in capsys.readouterr().out
    assert main(["import-transactions", str(tmp_path / "missing.csv")]) == 2


@pytest.mark.parametrize("writers", [1, 2])
async def test_a_failed_batch_stops_the_import_and_a_rerun_completes_it(
        resources: Resources, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writers: int
) -> None:
    """A batch that fails (a database fault, injected: the data itself cannot make one) rolls
    back whole, the import raises it rather than reporting success, and the batches that
    committed are exact: running the import again completes it, each line counted once."""
    await clear_sales(resources)
    path = tmp_path / "sales.csv"
    write_file(path, invoices=60, seed=11)
    expected, _ = read_reference(path, "utf-8")
    real_record, calls = ledger.record, 0

    async def failing_third(executor: ledger.Executor, lines: list[ledger.NewLine]) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("injected fault")
        return await real_record(executor, lines)

    monkeypatch.setattr(ledger, "record", failing_third)
    with pytest.raises(RuntimeError, match="injected fault"):
        await import_file(resources.db, path, batch_lines=40, writers=writers)
    monkeypatch.setattr(ledger, "record", real_record)
    async with resources.db.read() as conn:
        partial = (await conn.execute(select(func.count()).select_from(ledger.lines_table))
                   ).scalar_one()
    assert 0 < partial < len(expected)  # the first two batches, and no half of the third
    again = await import_file(resources.db, path, writers=writers)
    assert again.imported == len(expected) - partial
    facts, stored = await _stored(resources)
    assert stored == _direct(facts)
