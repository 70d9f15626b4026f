"""The lifecycle funnel over a contacts frame: entered, conversion and time to the next stage.

Input frame columns: `id`, `created_at` and `became_<stage>_at` for the seven forward stages
(`subscriber` … `evangelist`), all Datetime (one time zone), plus an optional group column.
Windows are half-open `[start, end)` datetimes in the frame's time zone.

Percentiles use linear interpolation between closest ranks (numpy's default): for sorted
values x[0..n-1] the q-quantile is x[i] + (x[i+1] - x[i]) * f with i + f = q * (n - 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

# Funnel stages in lifecycle order; evangelists count as customers.
STAGES: tuple[str, ...] = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")
RAW_STAGES: tuple[str, ...] = (*STAGES, "evangelist")
MODES: tuple[str, ...] = ("cohort", "period")
MICROS_PER_DAY = 86_400_000_000


def became(stage: str) -> str:
    """The input column holding a raw first entry into a stage."""
    return f"became_{stage}_at"


def entry(stage: str) -> str:
    """The derived column holding the funnel entry time into a stage."""
    return f"entry_{stage}"


@dataclass(frozen=True)
class StageStats:
    """One stage of one funnel (the whole population or one group)."""

    stage: str
    entered: int
    conversion_to_next: float | None
    median_days_to_next: float | None
    p75_days_to_next: float | None


def with_entry_times(contacts: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Add `entry_<stage>` for the six funnel stages.

    Intuition: reaching a stage means having passed every earlier one, so the entry into s is
    the earliest first entry into s or any later stage. A skipped stage thus takes the entry of
    the next stage reached (zero time spent in it), and entry times never go backwards, so a
    contact that came back to s after passing it counts from when it first passed s.
    """
    lazy = contacts.lazy()
    exprs = []
    for i, stage in enumerate(STAGES):
        later = [pl.col(became(s)) for s in RAW_STAGES[i:]]
        exprs.append(pl.min_horizontal(later).alias(entry(stage)))
    return lazy.with_columns(exprs)


def _days(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_microseconds() / MICROS_PER_DAY


def _stage_aggs(mode: str, start: datetime, end: datetime) -> list[pl.Expr]:
    aggs: list[pl.Expr] = []
    for i, stage in enumerate(STAGES):
        here = pl.col(entry(stage))
        counted = here.is_not_null() if mode == "cohort" else (here >= start) & (here < end)
        aggs.append(counted.sum().alias(f"{stage}__entered"))
        if i + 1 == len(STAGES):
            continue
        nxt = pl.col(entry(STAGES[i + 1]))
        both = counted & nxt.is_not_null()
        aggs.append(both.sum().alias(f"{stage}__converted"))
        days = _days(nxt, here).filter(both)
        aggs.append(days.quantile(0.5, "linear").alias(f"{stage}__median"))
        aggs.append(days.quantile(0.75, "linear").alias(f"{stage}__p75"))
    return aggs


def _stats(row: dict[str, object]) -> list[StageStats]:
    out = []
    for i, stage in enumerate(STAGES):
        entered = int(row[f"{stage}__entered"] or 0)  # type: ignore[call-overload]
        if i + 1 == len(STAGES):
            out.append(StageStats(stage, entered, None, None, None))
            continue
        converted = int(row[f"{stage}__converted"] or 0)  # type: ignore[call-overload]
        median, p75 = row[f"{stage}__median"], row[f"{stage}__p75"]
        out.append(
            StageStats(
                stage=stage,
                entered=entered,
                conversion_to_next=converted / entered if entered else 0.0,
                median_days_to_next=None if median is None else float(median),  # type: ignore[arg-type]
                p75_days_to_next=None if p75 is None else float(p75),  # type: ignore[arg-type]
            )
        )
    return out


def _population(
    contacts: pl.DataFrame | pl.LazyFrame, mode: str, start: datetime, end: datetime
) -> pl.LazyFrame:
    if mode not in MODES:
        raise ValueError(f'mode must be one of {", ".join(MODES)}, not "{mode}"')
    lazy = with_entry_times(contacts)
    if mode == "cohort":
        lazy = lazy.filter((pl.col("created_at") >= start) & (pl.col("created_at") < end))
    return lazy


def funnel_stats(
    contacts: pl.DataFrame | pl.LazyFrame, *, mode: str, start: datetime, end: datetime
) -> list[StageStats]:
    """The funnel of the whole population, in lifecycle order.

    cohort: the contacts created in [start, end); entered[s] = those that ever entered s.
    period: entered[s] = contacts whose entry into s fell in [start, end).
    conversion_to_next[s] = (counted for s and ever entered s+1) / entered[s] (0.0 when
    entered[s] is 0, None for the last stage); median/p75 days over those same contacts.
    """
    row = _population(contacts, mode, start, end).select(_stage_aggs(mode, start, end)).collect()
    return _stats(row.row(0, named=True))


def funnel_breakdown(
    contacts: pl.DataFrame | pl.LazyFrame,
    *,
    mode: str,
    start: datetime,
    end: datetime,
    group: str = "group",
) -> dict[str, list[StageStats]]:
    """The same funnel per value of the `group` column, in one pass; keys sorted, nulls dropped.

    A contact may sit in several groups (e.g. segments) by appearing once per group.
    """
    lazy = _population(contacts, mode, start, end).filter(pl.col(group).is_not_null())
    frame = lazy.group_by(group).agg(_stage_aggs(mode, start, end)).collect()
    rows = sorted(frame.iter_rows(named=True), key=lambda r: str(r[group]))
    return {str(r[group]): _stats(r) for r in rows}


def week_start(day: date) -> date:
    """The Monday of a day's ISO week."""
    return day - timedelta(days=day.weekday())


def weekly_entries(
    contacts: pl.DataFrame | pl.LazyFrame,
    *,
    stages: tuple[str, ...] = ("mql", "sql"),
    start: datetime,
    end: datetime,
    time_zone: str = "UTC",
) -> pl.DataFrame:
    """Contacts entering each stage per ISO week (Monday, in `time_zone`), zero weeks included.

    Columns: `week` (Date, the Monday) and one count per stage, for every week from the one
    holding `start` to the one holding the last instant before `end`; only entries inside
    [start, end) count, so the first and last weeks may be partial.
    """
    first = week_start(start.date() if start.tzinfo is None else _local_day(start, time_zone))
    last_instant = end - timedelta(microseconds=1)
    last = week_start(
        last_instant.date() if end.tzinfo is None else _local_day(last_instant, time_zone)
    )
    weeks = pl.DataFrame({"week": pl.date_range(first, last, "1w", eager=True)})
    entries = with_entry_times(contacts)
    counts: list[pl.DataFrame] = []
    for stage in stages:
        col = pl.col(entry(stage))
        local = col.dt.convert_time_zone(time_zone) if _aware(contacts, stage) else col
        day = local.dt.date()
        per_week = (
            entries.filter((col >= start) & (col < end))
            .select((day - pl.duration(days=day.dt.weekday() - 1)).alias("week"))
            .group_by("week")
            .agg(pl.len().alias(stage))
        )
        counts.append(per_week.collect())
    out = weeks
    for stage, counted in zip(stages, counts, strict=True):
        out = out.join(counted, on="week", how="left").with_columns(
            pl.col(stage).fill_null(0).cast(pl.Int64)
        )
    return out.sort("week")


def _aware(contacts: pl.DataFrame | pl.LazyFrame, stage: str) -> bool:
    dtype = contacts.collect_schema()[became(stage)]
    return isinstance(dtype, pl.Datetime) and dtype.time_zone is not None


def _local_day(moment: datetime, time_zone: str) -> date:
    return moment.astimezone(ZoneInfo(time_zone)).date()
