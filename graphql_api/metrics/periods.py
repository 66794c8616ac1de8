"""Date ranges and calendar periods of the metrics: UTC days, ISO weeks (from Monday), months
and years."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, Integer, cast, func

from graphql_api.core.errors import BadUserInput

MAX_PERIODS = 10_000  # a DAY series of 27 years; more is a mistake, not a chart


class Granularity(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


@dataclass(frozen=True, slots=True)
class DayRange:
    """Half-open [start, end) of UTC days; None: unbounded on that side."""

    start: date | None = None
    end: date | None = None

    @property
    def empty(self) -> bool:
        return self.start is not None and self.end is not None and self.start >= self.end

    def previous(self) -> DayRange | None:
        """The period of equal length just before; None for an unbounded range."""
        if self.start is None or self.end is None:
            return None
        return DayRange(self.start - (self.end - self.start), self.start)

    def cache_key(self) -> str:
        return f"{self.start}:{self.end}"


def _split(span: DayRange, unit: Granularity) -> tuple[DayRange | None, list[DayRange]]:
    """The range's whole periods (as the range of their first days; None when it holds none)
    and what lies outside them (at most one run at each end)."""
    if span.empty:
        return None, []
    first = span.start
    if first is not None and period_start(first, unit) != first:
        first = next_period(first, unit)
    last = span.end if span.end is None else period_start(span.end, unit)
    if first is not None and last is not None and first >= last:
        return None, [span]
    edges = []
    if span.start is not None and first != span.start:
        edges.append(DayRange(span.start, first))
    if span.end is not None and last != span.end:
        edges.append(DayRange(last, span.end))
    return DayRange(first, last), edges


@dataclass(frozen=True)
class Split:
    """A range cut for the product rollups: whole years, whole months outside them (ranges of
    month starts) and days outside those."""

    years: DayRange | None
    months: list[DayRange]
    days: list[DayRange]


def split_years(span: DayRange) -> Split:
    """Whole years, and the days outside them (no months)."""
    years, days = _split(span, Granularity.YEAR)
    return Split(years, [], days)


def split_periods(span: DayRange) -> Split:
    months, days = _split(span, Granularity.MONTH)
    if months is None:
        return Split(None, [], days)
    years, month_edges = _split(months, Granularity.YEAR)
    return Split(years, month_edges, days)


def _day(moment: datetime | None, name: str) -> date | None:
    """A range bound as a UTC day: the rollups are daily, so a bound must fall on midnight UTC
    (anything else would be answered inexactly, so it is refused)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise BadUserInput("Give times with a UTC offset.", field=name)
    moment = moment.astimezone(UTC)
    if moment.timetz().replace(tzinfo=None) != time():
        raise BadUserInput(f"`{name}` must be a UTC midnight: metrics are kept by UTC day.",
                           field=name)
    return moment.date()


def day_range(start: datetime | None, end: datetime | None) -> DayRange:
    return DayRange(_day(start, "from"), _day(end, "to"))


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def period_start(day: date, granularity: Granularity) -> date:
    if granularity is Granularity.DAY:
        return day
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if granularity is Granularity.MONTH:
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def next_period(start: date, granularity: Granularity) -> date:
    if granularity is Granularity.DAY:
        return start + timedelta(days=1)
    if granularity is Granularity.WEEK:
        return start + timedelta(days=7)
    if granularity is Granularity.MONTH:
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date(start.year + 1, 1, 1)


def periods(start: date, end: date, granularity: Granularity) -> list[date]:
    """The starts of the periods that overlap [start, end)."""
    found: list[date] = []
    current = period_start(start, granularity)
    while current < end:
        found.append(current)
        if len(found) > MAX_PERIODS:
            raise BadUserInput(f"More than {MAX_PERIODS} periods: choose a coarser granularity "
                               "or a shorter range.")
        current = next_period(current, granularity)
    return found


def sql_period_start(column: Any, granularity: Granularity, dialect: str) -> Any:
    """`period_start` in SQL, for the counts that must be distinct per period (customers)."""
    if granularity is Granularity.DAY:
        return column
    if dialect == "postgresql":
        unit = {"WEEK": "week", "MONTH": "month", "YEAR": "year"}[granularity.value]
        return cast(func.date_trunc(unit, column), Date)  # date_trunc's weeks are ISO weeks
    if granularity is Granularity.WEEK:
        # SQLite: strftime('%w') is 0 on Sunday; step back to the Monday.
        back = (cast(func.strftime("%w", column), Integer) + 6) % 7
        return func.date(column, func.printf("-%d days", back))
    pattern = "%Y-%m-01" if granularity is Granularity.MONTH else "%Y-01-01"
    return func.strftime(pattern, column)
