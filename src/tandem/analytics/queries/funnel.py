"""The lifecycle funnel, monthly cohorts and MQL/SQL throughput for a window of days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from tandem.analytics.compute import cohorts as cohort_compute
from tandem.analytics.compute import funnel as compute
from tandem.analytics.loaders import contacts as loader
from tandem.crm.models import LifecycleStage
from tandem.errors import InvalidInput
from tandem.leads.models import Segment

STAGES = compute.STAGES
MODES = compute.MODES
BREAKDOWNS = ("channel", "campaign", "persona", "segment")
MAX_SEGMENTS = 20
STAGE_LABELS: dict[str, str] = {s: str(LifecycleStage(s).label) for s in STAGES}


@dataclass
class FunnelStage:
    stage: str
    label: str
    entered: int
    conversion_to_next: float | None
    median_days_to_next: float | None
    p75_days_to_next: float | None


@dataclass
class FunnelGroup:
    key: str
    label: str
    stages: list[FunnelStage]


@dataclass
class FunnelResult:
    mode: str
    start: date
    end: date
    stages: list[FunnelStage]
    breakdown: str | None
    groups: list[FunnelGroup]


@dataclass
class CohortRow:
    month: str
    size: int
    entered: dict[str, int]
    rates: dict[str, float]


@dataclass
class CohortResult:
    stages: list[str]
    rows: list[CohortRow]


@dataclass
class WeekCount:
    week: date
    mqls: int
    sqls: int


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The half-open instants of an inclusive day window, in the site's time zone."""
    if end < start:
        raise InvalidInput(f"end {end} is before start {start}", field="end")
    zone = timezone.get_current_timezone()
    # Frames hold UTC; the same instants in UTC keep Polars comparisons in one time zone.
    return (
        datetime.combine(start, time.min, tzinfo=zone).astimezone(UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC),
    )


def funnel_stages(stats: list[compute.StageStats]) -> list[FunnelStage]:
    """The computation's stage figures as the typed result, with their labels."""
    return [
        FunnelStage(
            stage=s.stage,
            label=STAGE_LABELS[s.stage],
            entered=s.entered,
            conversion_to_next=s.conversion_to_next,
            median_days_to_next=s.median_days_to_next,
            p75_days_to_next=s.p75_days_to_next,
        )
        for s in stats
    ]


def _check(mode: str, breakdown: str | None, segment_ids: Sequence[int]) -> None:
    if mode not in MODES:
        raise InvalidInput(
            f'mode must be one of {", ".join(MODES)}, not "{mode[:40]}"', field="mode"
        )
    if breakdown is not None and breakdown not in BREAKDOWNS:
        raise InvalidInput(
            f'breakdown must be one of {", ".join(BREAKDOWNS)}, not "{breakdown[:40]}"',
            field="breakdown",
        )
    if breakdown == "segment" and not segment_ids:
        raise InvalidInput("a segment breakdown needs at least one segment id", field="segment")
    if len(segment_ids) > MAX_SEGMENTS:
        raise InvalidInput(f"at most {MAX_SEGMENTS} segments at a time", field="segment")


def funnel(
    *,
    start: date,
    end: date,
    mode: str = "cohort",
    breakdown: str | None = None,
    segment_ids: Sequence[int] = (),
) -> FunnelResult:
    """The funnel over [start, end] (inclusive days) and, with a breakdown, the same per group."""
    _check(mode, breakdown, segment_ids)
    lo, hi = bounds(start, end)
    groups: list[FunnelGroup] = []
    if breakdown == "segment":
        # Segments overlap: the whole funnel comes from every contact, the groups from members.
        frame = loader.load_contacts(start=lo, end=hi, filter_by=mode)
        total = compute.funnel_stats(frame, mode=mode, start=lo, end=hi)
        members = loader.with_segments(frame, segment_ids=segment_ids)
        per_group = compute.funnel_breakdown(members, mode=mode, start=lo, end=hi)
        # Every requested segment gets a row, even one without members in the window.
        names = dict(Segment.objects.filter(pk__in=segment_ids).values_list("pk", "name"))
        for segment_id in segment_ids:
            if segment_id not in names:
                raise InvalidInput(f"no segment with id {segment_id}", field="segment")
        empty = compute.funnel_stats(frame.clear(), mode=mode, start=lo, end=hi)
        groups = [
            FunnelGroup(
                key=str(pk), label=name, stages=funnel_stages(per_group.get(str(pk), empty))
            )
            for pk, name in sorted(names.items(), key=lambda item: item[1].lower())
        ]
    else:
        frame = loader.load_contacts(
            start=lo, end=hi, filter_by=mode, group=breakdown, with_ids=False
        )
        total = compute.funnel_stats(frame, mode=mode, start=lo, end=hi)
        if breakdown:
            per_group = compute.funnel_breakdown(frame, mode=mode, start=lo, end=hi)
            labels = loader.group_labels(breakdown, list(per_group))
            groups = [
                FunnelGroup(key=k, label=labels[k], stages=funnel_stages(stats))
                for k, stats in per_group.items()
                if any(s.entered for s in stats)  # period mode loads a superset
            ]
            # Named groups first (alphabetically), the catch-all "none" group last.
            groups.sort(key=lambda g: (g.key == loader.NONE_KEY, g.label.lower()))
    return FunnelResult(
        mode=mode,
        start=start,
        end=end,
        stages=funnel_stages(total),
        breakdown=breakdown,
        groups=groups,
    )


def cohorts(*, start: date, end: date) -> CohortResult:
    """Contacts by month of creation: size and how many entered each stage (ever), with rates."""
    lo, hi = bounds(start, end)
    frame = loader.load_contacts(start=lo, end=hi, filter_by="cohort", with_ids=False)
    rows = cohort_compute.monthly_cohorts(
        frame, start=lo, end=hi, time_zone=timezone.get_current_timezone_name()
    )
    return CohortResult(
        stages=list(STAGES),
        rows=[
            CohortRow(month=r.month, size=r.size, entered=r.entered, rates=r.rates) for r in rows
        ],
    )


def throughput(*, start: date, end: date) -> list[WeekCount]:
    """MQLs and SQLs entered per ISO week (Monday first), every week of the window, zeros included."""
    lo, hi = bounds(start, end)
    frame = loader.load_contacts(start=lo, end=hi, filter_by="period", with_ids=False)
    weeks = compute.weekly_entries(
        frame,
        stages=("mql", "sql"),
        start=lo,
        end=hi,
        time_zone=timezone.get_current_timezone_name(),
    )
    return [
        WeekCount(week=r["week"], mqls=int(r["mql"]), sqls=int(r["sql"]))
        for r in weeks.iter_rows(named=True)
    ]
