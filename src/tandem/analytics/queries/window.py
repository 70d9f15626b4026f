"""The one date-window parser of the analytics API and dashboards: `?period=` or `?start=&end=`."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from tandem.errors import InvalidInput
from tandem.sales.periods import parse_period, period_containing

ALL_TIME_START = date(2000, 1, 1)
DEFAULTS = ("quarter", "month", "all")
MAX_YEARS = 10  # longer typed windows are refused; the "all" default is exempt


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f'{field} "{text[:20]}" is not a date; write it as YYYY-MM-DD', field=field
        ) from None


def _default_window(default: str, today: date) -> tuple[date, date]:
    if default == "all":
        return ALL_TIME_START, today
    if default in ("quarter", "month"):
        period = period_containing(today, kind=default)
        return period.start, period.end
    raise InvalidInput(
        f'default window must be one of {", ".join(DEFAULTS)}, not "{default}"', field="default"
    )


def window_from(
    *,
    period: str | None,
    start: str | None,
    end: str | None,
    default: str = "quarter",
    today: date | None = None,
) -> tuple[date, date]:
    """Inclusive (start, end) days from `period` ("2026-11", "2026-Q4") or ISO `start`/`end`; else `default`.

    A lone `start` runs to today; a lone `end` is refused (no natural beginning). Empty strings
    count as absent, so blank form fields fall back to the default.
    """
    today = today or timezone.localdate()
    period, start, end = (v.strip() if v else None for v in (period, start, end))
    if period:
        if start or end:
            raise InvalidInput("give either period or start/end, not both", field="period")
        p = parse_period(period)
        return p.start, p.end
    if not start and not end:
        return _default_window(default, today)
    if not start:
        raise InvalidInput("start is required when end is given", field="start")
    first = _day(start, "start")
    last = _day(end, "end") if end else today
    if last < first:
        raise InvalidInput(f"end {last} is before start {first}", field="end")
    # Ten calendar years: the window must end before the same day ten years on (Feb 29 → Mar 1).
    limit = (
        date(first.year + MAX_YEARS, 3, 1)
        if (first.month, first.day) == (2, 29)
        else first.replace(year=first.year + MAX_YEARS)
    )
    if last >= limit:
        raise InvalidInput("the window may span at most 10 years", field="end")
    return first, last
