"""Monthly creation cohorts: how many of each month's new contacts entered each funnel stage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from tandem.analytics.compute.funnel import STAGES, entry, with_entry_times


@dataclass(frozen=True)
class Cohort:
    """One creation month: its size and, per stage, how many entered it (ever) and the share."""

    month: str  # "2026-03"
    size: int
    entered: dict[str, int]
    rates: dict[str, float]


def _months(first: date, last: date) -> list[str]:
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year}-{month:02d}")
        year, month = year + (month == 12), month % 12 + 1
    return out


def monthly_cohorts(
    contacts: pl.DataFrame | pl.LazyFrame,
    *,
    start: datetime,
    end: datetime,
    time_zone: str = "UTC",
) -> list[Cohort]:
    """One cohort per calendar month (in `time_zone`) touched by [start, end), empty ones included.

    Only contacts created in [start, end) count; rate[s] = entered[s] / size (0.0 for an empty
    month). Entry follows the funnel rule, so a contact that skipped a stage still entered it.
    """
    lazy = with_entry_times(contacts).filter(
        (pl.col("created_at") >= start) & (pl.col("created_at") < end)
    )
    created = pl.col("created_at")
    if lazy.collect_schema()["created_at"].time_zone is not None:  # type: ignore[attr-defined]
        created = created.dt.convert_time_zone(time_zone)
    frame = (
        lazy.group_by(created.dt.strftime("%Y-%m").alias("month"))
        .agg(
            pl.len().alias("size"),
            *[pl.col(entry(s)).is_not_null().sum().alias(s) for s in STAGES],
        )
        .collect()
    )
    found = {r["month"]: r for r in frame.iter_rows(named=True)}
    zone = ZoneInfo(time_zone)
    last_instant = end - timedelta(microseconds=1)
    first_day = start.astimezone(zone).date() if start.tzinfo else start.date()
    last_day = last_instant.astimezone(zone).date() if end.tzinfo else last_instant.date()
    out = []
    for month in _months(first_day, last_day):
        row = found.get(month)
        size = int(row["size"]) if row else 0
        entered = {s: int(row[s]) if row else 0 for s in STAGES}
        rates = {s: entered[s] / size if size else 0.0 for s in STAGES}
        out.append(Cohort(month=month, size=size, entered=entered, rates=rates))
    return out
