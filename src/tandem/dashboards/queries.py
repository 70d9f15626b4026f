"""Reads behind the dashboard pages: goals against actuals, and activity counts per week."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from tandem.analytics.compute import funnel as funnel_compute
from tandem.analytics.compute import sales as sales_compute
from tandem.analytics.loaders.contacts import load_contacts
from tandem.analytics.loaders.deals import load_deals
from tandem.analytics.queries.funnel import FunnelStage, funnel, funnel_stages
from tandem.analytics.queries.funnel import bounds as funnel_bounds
from tandem.analytics.queries.sales import sales_metrics
from tandem.crm.models import Activity, ActivityKind
from tandem.dashboards.models import GoalMetric, JointGoal
from tandem.sales.periods import Period

RATES = (GoalMetric.MQL_TO_SQL_RATE.value, GoalMetric.WIN_RATE.value)
MONEY = (GoalMetric.REVENUE.value, GoalMetric.PIPELINE_CREATED.value, GoalMetric.VELOCITY.value)


@dataclass
class GoalLine:
    """One joint goal in one period: what happened against what was aimed for."""

    metric: str
    label: str
    actual: Decimal | None
    target: Decimal | None

    @property
    def is_rate(self) -> bool:
        return self.metric in RATES

    @property
    def progress(self) -> Decimal | None:
        """actual ÷ target in percent to one place (None without a positive target or actual)."""
        if self.target is None or not self.target or self.actual is None:
            return None
        return (self.actual / self.target * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def met(self) -> bool | None:
        progress = self.progress
        return None if progress is None else progress >= 100


@dataclass
class PeriodActuals:
    """The six goal metrics' actual values in one period (rates as fractions), and the
    period-mode funnel they came from."""

    period: Period
    values: dict[str, Decimal | None] = field(default_factory=dict)
    stages: list[FunnelStage] = field(default_factory=list)


def _decimal(value: float | Decimal | int | None, places: str = "0.0001") -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal(places), ROUND_HALF_UP)


def _values(
    *,
    revenue: Decimal,
    pipeline: Decimal,
    win_rate: float | None,
    velocity: Decimal | None,
    stages: list[FunnelStage],
) -> dict[str, Decimal | None]:
    mql = next((s for s in stages if s.stage == "mql"), None)
    return {
        GoalMetric.REVENUE.value: revenue,
        GoalMetric.PIPELINE_CREATED.value: pipeline,
        GoalMetric.MQLS.value: Decimal(mql.entered) if mql else Decimal(0),
        GoalMetric.MQL_TO_SQL_RATE.value: _decimal(mql.conversion_to_next if mql else None),
        GoalMetric.WIN_RATE.value: _decimal(win_rate),
        GoalMetric.VELOCITY.value: _decimal(velocity, "0.01"),
    }


def actuals(*, period: Period) -> PeriodActuals:
    """The goal metrics of a period, from the same query runners the analytics API calls.

    Revenue, pipeline created, win rate and velocity come from sales_metrics over the period;
    MQLs and the MQL → SQL rate from the period-mode funnel (contacts whose entry into MQL
    fell in the period, and the share of them that has reached SQL since).
    """
    total = sales_metrics(start=period.start, end=period.end).total
    stages = funnel(start=period.start, end=period.end, mode="period").stages
    values = _values(
        revenue=total.revenue,
        pipeline=total.pipeline_created,
        win_rate=total.win_rate,
        velocity=total.velocity_per_day,
        stages=stages,
    )
    return PeriodActuals(period, values, stages)


def actuals_over(*, periods: Sequence[Period]) -> dict[str, PeriodActuals]:
    """`actuals` of consecutive periods (by key), reading deals and contacts once.

    Intuition: sales_metrics and the funnel each load their rows for one window and then sum
    them; the sums take any number of windows (buckets) in one pass, so the trailing periods
    of the shared page cost one load of the deals and one of the contacts, not one per period.
    The figures are the same functions' output, so they equal the per-period queries exactly.
    """
    ordered = sorted(periods, key=lambda p: p.start)
    if not ordered:
        return {}
    if any(b.start != a.end + timedelta(days=1) for a, b in pairwise(ordered)):
        return {p.key: actuals(period=p) for p in ordered}
    edges = [funnel_bounds(p.start, p.end)[0] for p in ordered]
    edges.append(funnel_bounds(ordered[-1].start, ordered[-1].end)[1])
    sums = sales_compute.sales_sums(load_deals(start=edges[0], end=edges[-1]), edges=edges)
    figures = {row["bucket"]: sales_compute.figures(row) for row in sums.iter_rows(named=True)}
    contacts = load_contacts(start=edges[0], end=edges[-1], filter_by="period", with_ids=False)
    out = {}
    for i, period in enumerate(ordered):
        stats = funnel_compute.funnel_stats(
            contacts, mode="period", start=edges[i], end=edges[i + 1]
        )
        stages = funnel_stages(stats)
        f = figures[i]
        values = _values(
            revenue=f.revenue,
            pipeline=f.pipeline_created,
            win_rate=f.win_rate,
            velocity=f.velocity_per_day,
            stages=stages,
        )
        out[period.key] = PeriodActuals(period, values, stages)
    return out


def targets(*, periods: Sequence[Period]) -> dict[tuple[str, str], Decimal]:
    """Stored targets keyed (period key, metric), in one query."""
    rows = JointGoal.objects.filter(period__in=[p.key for p in periods]).values_list(
        "period", "metric", "target"
    )
    return {(p, m): t for p, m, t in rows}


def goal_lines(
    *, period: Period, values: PeriodActuals, goals: dict[tuple[str, str], Decimal]
) -> list[GoalLine]:
    """The six goals of a period in GoalMetric order."""
    return [
        GoalLine(
            metric=m.value,
            label=str(m.label),
            actual=values.values.get(m.value),
            target=goals.get((period.key, m.value)),
        )
        for m in GoalMetric
    ]


def trailing_periods(period: Period, count: int = 6) -> list[Period]:
    """The `count` periods of the same kind ending with this one, oldest first."""
    out = [period]
    while len(out) < count:
        out.append(out[-1].previous())
    return out[::-1]


# ---------------------------------------------------------------- activities


@dataclass
class ActivityWeek:
    """Activities logged in one week (Monday), by kind."""

    week: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    lo = timezone.make_aware(datetime.combine(start, time.min), zone)
    hi = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), zone)
    return lo, hi


def activity_weeks(
    *, start: date, end: date, user_ids: Sequence[int] | None = None
) -> list[ActivityWeek]:
    """Activities that happened in [start, end] per week and kind, every week listed (zeros too).

    `user_ids` None counts everyone's; otherwise only activities those users own. Open tasks
    (due, not done) count in the week they were logged, like every other kind.
    """
    lo, hi = _bounds(start, end)
    rows = Activity.objects.filter(occurred_at__gte=lo, occurred_at__lt=hi)
    if user_ids is not None:
        rows = rows.filter(owner_id__in=list(user_ids))
    grouped = (
        rows.annotate(week=TruncWeek("occurred_at", tzinfo=timezone.get_default_timezone()))
        .order_by()
        .values_list("week", "kind")
        .annotate(n=Count("*"))
    )
    found: dict[date, dict[str, int]] = defaultdict(dict)
    for week, kind, n in grouped:
        day = week.date() if isinstance(week, datetime) else week
        found[day][kind] = n
    monday = start - timedelta(days=start.weekday())
    out = []
    while monday <= end:
        counts = {k.value: found.get(monday, {}).get(k.value, 0) for k in ActivityKind}
        out.append(ActivityWeek(monday, counts))
        monday += timedelta(days=7)
    return out


def kind_labels() -> dict[str, str]:
    return {k.value: str(k.label) for k in ActivityKind}
