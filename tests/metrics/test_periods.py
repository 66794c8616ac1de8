"""How a range is cut for the product rollups: whole years, whole months outside them, days
outside those; the pieces never overlap and always cover the range exactly."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from graphql_api.metrics.periods import DayRange, Split, split_periods, split_years

D = date


def test_examples() -> None:
    assert split_periods(DayRange(None, None)) == Split(DayRange(None, None), [], [])
    assert split_periods(DayRange(D(2023, 3, 15), D(2025, 2, 10))) == Split(
        DayRange(D(2024, 1, 1), D(2025, 1, 1)),
        [DayRange(D(2023, 4, 1), D(2024, 1, 1)), DayRange(D(2025, 1, 1), D(2025, 2, 1))],
        [DayRange(D(2023, 3, 15), D(2023, 4, 1)), DayRange(D(2025, 2, 1), D(2025, 2, 10))])
    assert split_periods(DayRange(D(2024, 1, 1), None)) == Split(DayRange(D(2024, 1, 1), None),
                                                                  [], [])
    assert split_periods(DayRange(None, D(2024, 3, 5))) == Split(
        DayRange(None, D(2024, 1, 1)), [DayRange(D(2024, 1, 1), D(2024, 3, 1))],
        [DayRange(D(2024, 3, 1), D(2024, 3, 5))])
    # No whole month: days only; a whole month but no whole year: months and days.
    assert split_periods(DayRange(D(2024, 5, 2), D(2024, 5, 30))) == Split(
        None, [], [DayRange(D(2024, 5, 2), D(2024, 5, 30))])
    assert split_periods(DayRange(D(2024, 5, 1), D(2024, 7, 1))) == Split(
        None, [DayRange(D(2024, 5, 1), D(2024, 7, 1))], [])
    assert split_periods(DayRange(D(2024, 5, 1), D(2024, 5, 1))) == Split(None, [], [])


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _days(span: DayRange, unit: str) -> set[date]:
    """The days a piece covers: a range of days, of month starts or of year starts."""
    assert span.start is not None and span.end is not None
    out, day = set(), span.start
    while day < span.end:
        following = (day + timedelta(days=1) if unit == "day" else _next_month(day)
                     if unit == "month" else date(day.year + 1, 1, 1))
        out |= {day + timedelta(days=i) for i in range((following - day).days)}
        day = following
    return out


@given(start=st.integers(0, 1500), length=st.integers(0, 1500))
def test_the_pieces_cover_the_range_once(start: int, length: int) -> None:
    first = D(2022, 1, 1) + timedelta(days=start)
    span = DayRange(first, first + timedelta(days=length))
    cut = split_periods(span)
    pieces = [(p, "day") for p in cut.days] + [(p, "month") for p in cut.months]
    if cut.years is not None:
        pieces.append((cut.years, "year"))
    covered = [_days(p, unit) for p, unit in pieces]
    assert sum(len(c) for c in covered) == length  # no day twice
    assert set().union(*covered) == _days(span, "day")
    for months in cut.months:
        assert months.start is not None and months.start.day == 1
    if cut.years is not None:
        assert cut.years.start is not None and cut.years.start.timetuple().tm_yday == 1


def test_years_and_the_days_outside_them() -> None:
    assert split_years(DayRange(D(2023, 3, 15), D(2025, 2, 10))) == Split(
        DayRange(D(2024, 1, 1), D(2025, 1, 1)), [],
        [DayRange(D(2023, 3, 15), D(2024, 1, 1)), DayRange(D(2025, 1, 1), D(2025, 2, 10))])
    assert split_years(DayRange(None, None)) == Split(DayRange(None, None), [], [])
    assert split_years(DayRange(D(2024, 2, 1), D(2024, 9, 1))) == Split(
        None, [], [DayRange(D(2024, 2, 1), D(2024, 9, 1))])
