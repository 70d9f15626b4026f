"""Sales and process metrics per rep, team, month or week of a date window (docs/metrics.md).

Deals count for their owner and the team recorded on the deal (not the owner's current team).
`user_ids` restricts the deals to those owners (the caller's `metric_user_ids`), so a rep's
rows and totals are their own deals and a manager's their members' deals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from tandem.accounts.models import Team, User
from tandem.analytics.compute import sales as compute
from tandem.analytics.loaders.deals import load_deals
from tandem.errors import InvalidInput
from tandem.marketing.models import Channel

GROUPS = ("all", "rep", "team", "month", "week")
_BY = {"rep": "owner_id", "team": "team_id"}
NO_OWNER = "Unassigned"
NO_TEAM = "No team"
NO_REASON = "No reason given"
NO_SOURCE = "Unknown source"


@dataclass
class SalesMetrics:
    """One row of the sales metrics: a rep, team, month, week, everything, or the total."""

    key: str
    label: str
    deals_created: int
    pipeline_created: Decimal
    won: int
    lost: int
    win_rate: float | None
    revenue: Decimal
    average_deal_size: Decimal | None
    cycle_days: float | None
    open_deals: int
    open_amount: Decimal
    velocity_per_day: Decimal | None


@dataclass
class SalesResult:
    start: date
    end: date
    group_by: str
    rows: list[SalesMetrics]
    total: SalesMetrics


@dataclass
class ReasonCount:
    reason: str
    deals: int
    amount: Decimal


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Inclusive days as the half-open range [start 00:00, the day after end 00:00) in the site zone."""
    if end < start:
        raise InvalidInput(f"end {end} is before start {start}", field="end")
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _bucket_starts(first: date, end: date, kind: str) -> list[date]:
    """Starts of the months or weeks (Mondays) from the one holding `first` through `end`,
    the first clipped to `first`."""
    day = first.replace(day=1) if kind == "month" else first - timedelta(days=first.weekday())
    starts = [first]
    while True:
        if kind == "month":
            day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        else:
            day += timedelta(days=7)
        if day > end:
            return starts
        starts.append(day)


def _bucket_key(day: date, kind: str) -> str:
    if kind == "month":
        return f"{day.year}-{day.month:02d}"
    return (day - timedelta(days=day.weekday())).isoformat()


def _metrics(key: str, label: str, sums: dict[str, int]) -> SalesMetrics:
    return SalesMetrics(key=key, label=label, **asdict(compute.figures(sums)))


def _labels(group_by: str, keys: list[str]) -> dict[str, str]:
    ids = [int(k) for k in keys if k != compute.NO_KEY]
    if group_by == "rep":
        users = User.objects.filter(pk__in=ids).only("username", "first_name", "last_name")
        labels = {str(u.pk): u.get_full_name().strip() or u.username for u in users}
        return {compute.NO_KEY: NO_OWNER, **labels}
    teams = Team.objects.filter(pk__in=ids).values_list("pk", "name")
    return {compute.NO_KEY: NO_TEAM, **{str(pk): name for pk, name in teams}}


def clean_group(group_by: str) -> str:
    """The group name from the allow-list, or a 400 naming the allowed ones."""
    if group_by not in GROUPS:
        raise InvalidInput(
            f'group_by must be one of {", ".join(GROUPS)}, not "{group_by[:30]}"', field="group_by"
        )
    return group_by


def sales_metrics(
    *,
    start: date,
    end: date,
    group_by: str = "all",
    user_ids: Sequence[int] | None = None,
    pipeline_id: int | None = None,
) -> SalesResult:
    """Win rate, deal size, cycle, pipeline created, open deals and velocity per group, and in total."""
    clean_group(group_by)
    start_at, end_at = bounds(start, end)
    deals = load_deals(start=start_at, end=end_at, user_ids=user_ids, pipeline_id=pipeline_id)
    total_sums = compute.sales_sums(deals, edges=[start_at, end_at])
    total = _metrics("total", "Total", total_sums.row(0, named=True))
    if group_by == "all":
        return SalesResult(
            start,
            end,
            group_by,
            [_metrics("all", "All deals", total_sums.row(0, named=True))],
            total,
        )
    if group_by in _BY:
        sums = compute.sales_sums(deals, edges=[start_at, end_at], by=_BY[group_by])
        labels = _labels(group_by, sums["key"].to_list())
        rows = [
            _metrics(r["key"], labels.get(r["key"], r["key"]), r)
            for r in sums.iter_rows(named=True)
        ]
        rows.sort(key=lambda m: (m.key == compute.NO_KEY, m.label.lower(), m.key))
        return SalesResult(start, end, group_by, rows, total)
    # Time buckets begin with the first month or week holding a deal: an "all time" window
    # starting in 2000 would otherwise list decades of empty weeks.
    first = start
    if deals.height:
        earliest = deals["created_at"].min()
        if isinstance(earliest, datetime):
            first = max(start, timezone.localtime(earliest).date())
    first = min(first, end)
    starts = _bucket_starts(first, end, group_by)
    edges = [bounds(day, day)[0] for day in starts] + [end_at]
    sums = compute.sales_sums(deals, edges=edges)
    rows = []
    for r in sums.iter_rows(named=True):
        key = _bucket_key(starts[r["bucket"]], group_by)
        rows.append(_metrics(key, key, r))
    return SalesResult(start, end, group_by, rows, total)


def _reasons(
    *, start: date, end: date, user_ids: Sequence[int] | None, status: str, by: str, none: str
) -> list[ReasonCount]:
    start_at, end_at = bounds(start, end)
    deals = load_deals(start=start_at, end=end_at, user_ids=user_ids, details=True)
    counts = compute.closed_by(deals, start=start_at, end=end_at, status=status, by=by)
    return [
        ReasonCount(reason=label or none, deals=n, amount=compute.to_money(cents))
        for label, n, cents in counts.iter_rows()
    ]


def loss_reasons(
    *, start: date, end: date, user_ids: Sequence[int] | None = None
) -> list[ReasonCount]:
    """Lost deals closed in the window per lost reason, most first."""
    return _reasons(
        start=start, end=end, user_ids=user_ids, status="lost", by="lost_reason", none=NO_REASON
    )


def win_sources(
    *, start: date, end: date, user_ids: Sequence[int] | None = None
) -> list[ReasonCount]:
    """Won deals closed in the window per source channel (its label), most first."""
    names = dict(Channel.choices)
    rows = _reasons(
        start=start, end=end, user_ids=user_ids, status="won", by="source_channel", none=NO_SOURCE
    )
    return [ReasonCount(names.get(r.reason, r.reason), r.deals, r.amount) for r in rows]


__all__ = [
    "GROUPS",
    "ReasonCount",
    "SalesMetrics",
    "SalesResult",
    "loss_reasons",
    "sales_metrics",
    "win_sources",
]
