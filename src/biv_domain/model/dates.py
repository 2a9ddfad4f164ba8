"""Calendar arithmetic the partnership's rules need: months, month-ends and fiscal years.

The municipality's fiscal year is the calendar year (räkenskapsår = kalenderår).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from attrs import frozen

from biv_domain.errors import InvalidValue

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_iso_date(text: object) -> date:
    """A date written YYYY-MM-DD and nothing else (not 2023-W40-1, not 20231002)."""
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        raise ValueError(f"must be a date written YYYY-MM-DD, got {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date in the calendar") from None


def is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def add_months(day: date, months: int) -> date:
    """Moves a date by whole months; a month-end stays a month-end.

    2023-08-31 + 6 months = 2024-02-29; 2023-09-30 + 6 months = 2024-03-31;
    2024-03-31 - 6 months = 2023-09-30; 2023-08-15 + 6 months = 2024-02-15.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    target_day = last if is_month_end(day) else min(day.day, last)
    return date(year, month0 + 1, target_day)


def refuse_reversed(start: date, end: date, end_field: str = "end") -> None:
    """The one rule that no period ends before it starts, refused with the end's field."""
    if end < start:
        raise InvalidValue(end_field, f"{end} is before the start {start}")


@frozen(order=True)
class Period:
    """A span of days, both ends inclusive (2023-04-01 – 2024-03-31)."""

    start: date
    end: date

    def __attrs_post_init__(self) -> None:
        refuse_reversed(self.start, self.end)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def within(self, other: Period) -> bool:
        return other.start <= self.start and self.end <= other.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def days_by_year(self) -> dict[int, int]:
        """How many of the period's days fall in each calendar year."""
        result: dict[int, int] = {}
        for year in range(self.start.year, self.end.year + 1):
            first = max(self.start, date(year, 1, 1))
            last = min(self.end, date(year, 12, 31))
            result[year] = (last - first).days + 1
        return result

    def months_by_year(self) -> dict[int, int]:
        """How many calendar months of the period fall in each calendar year.

        A month counts when the period covers it from its first day to its last;
        a period that starts or ends inside a month is refused, because the
        partnership's periods are whole months and a guess would be a wrong figure.
        """
        if self.start.day != 1 or not is_month_end(self.end):
            raise ValueError(
                f"period {self.start} – {self.end} is not whole months; split it by days"
            )
        result: dict[int, int] = {}
        for year in range(self.start.year, self.end.year + 1):
            first = 1 if year > self.start.year else self.start.month
            last = 12 if year < self.end.year else self.end.month
            result[year] = last - first + 1
        return result

    def months(self) -> int:
        return sum(self.months_by_year().values())


def day_before(day: date) -> date:
    return day - timedelta(days=1)
