"""Forecast and quota periods: calendar months and quarters, written `2026-11` and `2026-Q4`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from tandem.errors import InvalidInput

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class Period:
    """A calendar month or quarter; `end` is the inclusive last day."""

    kind: str  # "month" | "quarter"
    start: date
    end: date

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return self.start.strftime("%B %Y")
        return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"

    def next(self) -> Period:
        return period_containing(self.end + timedelta(days=1), kind=self.kind)

    def previous(self) -> Period:
        return period_containing(self.start - timedelta(days=1), kind=self.kind)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def months(self) -> list[Period]:
        """The calendar months inside this period (itself, for a month)."""
        out = [period_containing(self.start, kind="month")]
        while out[-1].end < self.end:
            out.append(out[-1].next())
        return out


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Midnight to midnight of `now`'s day (in the site's time zone)."""
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def _month_end(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def period_containing(day: date, *, kind: str) -> Period:
    """The month or quarter a day falls in."""
    if kind == "month":
        return Period("month", date(day.year, day.month, 1), _month_end(day.year, day.month))
    if kind == "quarter":
        first = 3 * ((day.month - 1) // 3) + 1
        return Period("quarter", date(day.year, first, 1), _month_end(day.year, first + 2))
    raise InvalidInput(f'period kind must be "month" or "quarter", not "{kind}"', field="kind")


def parse_period(text: str) -> Period:
    """`2026-11` (a month) or `2026-Q4` (a quarter); anything else is a 400 naming the format."""
    text = (text or "").strip().upper()
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12 and 1900 < year < 3000:
            return period_containing(date(year, month, 1), kind="month")
    if m := _QUARTER.match(text):
        year, quarter = int(m[1]), int(m[2])
        if 1900 < year < 3000:
            return period_containing(date(year, 3 * quarter - 2, 1), kind="quarter")
    raise InvalidInput(
        f'"{text[:20]}" is not a period; write a month as 2026-11 or a quarter as 2026-Q4',
        field="period",
    )
