"""Marketing page reads: traffic, reach and engagement per week, leads by source, hand-off SLA.

Cost per lead, CAC and ROI come from queries.attribution (campaign_economics and
channel_economics), so the marketing page and the attribution page share one definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tandem.analytics.loaders import engagement
from tandem.crm.models import Source
from tandem.errors import InvalidInput
from tandem.marketing.models import TouchKind

# Engagement: the touch kinds in which a person does something beyond arriving.
ENGAGEMENT_KINDS: tuple[str, ...] = tuple(
    k.value
    for k in (
        TouchKind.EMAIL_OPEN,
        TouchKind.CLICK,
        TouchKind.FORM,
        TouchKind.CONTENT,
        TouchKind.EVENT,
    )
)
KIND_LABELS: dict[str, str] = {str(k): str(label) for k, label in TouchKind.choices}
BUCKETS = engagement.BUCKETS
SOURCE_LABELS: dict[str, str] = {str(k): str(label) for k, label in Source.choices}


def monday(day: date) -> date:
    """The Monday of the week a day falls in."""
    return day - timedelta(days=day.weekday())


def weeks_between(start: date, end: date) -> list[date]:
    """The Mondays of every week that overlaps [start, end], oldest first."""
    first, out = monday(start), []
    while first <= end:
        out.append(first)
        first += timedelta(weeks=1)
    return out


def months_between(start: date, end: date) -> list[date]:
    """The first days of every month that overlaps [start, end], oldest first."""
    first, out = start.replace(day=1), []
    while first <= end:
        out.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    return out


def _check_window(start: date, end: date) -> None:
    if end < start:
        raise InvalidInput(f"end {end} is before start {start}", field="end")


@dataclass(frozen=True)
class TrafficWeek:
    """One week (Monday) of marketing touches inside the window."""

    week: date
    visits: int
    contacts: int  # distinct known contacts touched
    anonymous: int  # distinct anonymous visitors touched (not yet tied to a contact)
    engagement: dict[str, int]  # ENGAGEMENT_KINDS → touches

    @property
    def reach(self) -> int:
        """Distinct people touched: known contacts plus anonymous visitors."""
        return self.contacts + self.anonymous

    @property
    def engaged(self) -> int:
        """Engagement touches of every kind."""
        return sum(self.engagement.values())


@dataclass(frozen=True)
class TrafficResult:
    start: date
    end: date
    weeks: list[TrafficWeek]
    kinds: tuple[str, ...] = ENGAGEMENT_KINDS

    @property
    def visits(self) -> int:
        return sum(w.visits for w in self.weeks)

    def total(self, kind: str) -> int:
        """All weeks' touches of one engagement kind."""
        return sum(w.engagement.get(kind, 0) for w in self.weeks)


def traffic(*, start: date, end: date) -> TrafficResult:
    """Visits, reach and engagement by kind for every week overlapping [start, end], zeros included.

    Only touches inside the window count, so the first and last weeks may be partial.
    """
    _check_window(start, end)
    loaded = engagement.touch_weeks(start=start, end=end)
    weeks = []
    for week in weeks_between(start, end):
        row = loaded.get(week)
        if row is None:
            weeks.append(TrafficWeek(week, 0, 0, 0, dict.fromkeys(ENGAGEMENT_KINDS, 0)))
            continue
        weeks.append(
            TrafficWeek(
                week=week,
                visits=row.kinds.get(TouchKind.VISIT.value, 0),
                contacts=row.contacts,
                anonymous=row.anonymous,
                engagement={k: row.kinds.get(k, 0) for k in ENGAGEMENT_KINDS},
            )
        )
    return TrafficResult(start=start, end=end, weeks=weeks)


@dataclass(frozen=True)
class LeadSource:
    key: str
    label: str
    leads: int


@dataclass(frozen=True)
class LeadsBySource:
    """New leads per week or month and original source; sources ordered by their total, largest first."""

    start: date
    end: date
    bucket: str
    buckets: list[date]
    sources: list[LeadSource]
    counts: dict[tuple[date, str], int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(s.leads for s in self.sources)

    def count(self, bucket: date, source: str) -> int:
        return self.counts.get((bucket, source), 0)


def leads_by_source(*, start: date, end: date, bucket: str = "week") -> LeadsBySource:
    """Contacts that entered the lead stage in [start, end], per week or month and original source.

    Entry into lead is became_lead_at, or for a contact that skipped the stage the earliest
    entry into a later one (the funnel's rule), so a contact created straight as an MQL counts.
    """
    if bucket not in BUCKETS:
        raise InvalidInput(f"bucket must be one of: {', '.join(BUCKETS)}", field="bucket")
    _check_window(start, end)
    counts: dict[tuple[date, str], int] = {}
    totals: dict[str, int] = {}
    for day, source, n in engagement.lead_entries(start=start, end=end, bucket=bucket):
        counts[(day, source)] = counts.get((day, source), 0) + n
        totals[source] = totals.get(source, 0) + n
    sources = [
        LeadSource(key=key, label=SOURCE_LABELS.get(key, key), leads=n)
        for key, n in sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    ]
    buckets = weeks_between(start, end) if bucket == "week" else months_between(start, end)
    return LeadsBySource(
        start=start, end=end, bucket=bucket, buckets=buckets, sources=sources, counts=counts
    )


@dataclass(frozen=True)
class SlaPoint:
    week: date
    handoffs: int
    met: int

    @property
    def rate(self) -> float | None:
        """Share of hand-offs that met their SLA; None for a week without any."""
        return round(self.met / self.handoffs, 4) if self.handoffs else None


@dataclass(frozen=True)
class SlaResult:
    start: date
    end: date
    weeks: list[SlaPoint]

    @property
    def handoffs(self) -> int:
        return sum(w.handoffs for w in self.weeks)

    @property
    def met(self) -> int:
        return sum(w.met for w in self.weeks)

    @property
    def rate(self) -> float | None:
        return round(self.met / self.handoffs, 4) if self.handoffs else None


def handoff_sla(*, start: date, end: date, now: datetime | None = None) -> SlaResult:
    """Hand-offs to reps assigned in [start, end] with a known SLA outcome, and the share met, per week."""
    _check_window(start, end)
    loaded = engagement.sla_weeks(start=start, end=end, now=now)
    weeks = []
    for week in weeks_between(start, end):
        row = loaded.get(week)
        weeks.append(SlaPoint(week, row.handoffs, row.met) if row else SlaPoint(week, 0, 0))
    return SlaResult(start=start, end=end, weeks=weeks)
