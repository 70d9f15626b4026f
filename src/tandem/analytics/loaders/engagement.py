"""Loaders of the marketing page: touches per week by kind and reach, lead entries per source.

Each loader is one grouped query: the database counts, Python only fills the calendar.
Touchpoints are the one table that holds every marketing touch of known contacts and of
anonymous visitors alike (tracking turns page views, clicks, opens and form fills into them;
raw tracking events are kept for a few days only), so traffic and engagement read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, DateField, DateTimeField, F, Func, Q, Value
from django.db.models.functions import Coalesce, Least, Trunc
from django.utils import timezone

from tandem.crm.models import STAGE_ORDER, Contact, became_field
from tandem.leads.models import AssignmentStatus, LeadAssignment
from tandem.marketing.models import TouchKind, Touchpoint

# Touch kinds counted per week (an allow-list: each becomes one filtered COUNT).
TOUCH_KINDS: tuple[str, ...] = tuple(TouchKind.values)
BUCKETS = ("week", "month")
# Stands in for "never" so that LEAST picks the earliest real date on every database
# (SQLite's MIN() of a NULL is NULL, PostgreSQL's LEAST skips it).
NEVER = datetime(9999, 1, 1, tzinfo=UTC)


class _SqliteBucket(Func):
    """The Monday of a UTC timestamp's week, or its month's first day, in SQLite's own date().

    Django's Trunc runs a Python function per row on SQLite (0.2 s over 70,000 touches);
    date() is native. Used only when the site's time zone is UTC, which is how SQLite stores
    timestamps, so the two agree; elsewhere Trunc (native on PostgreSQL) does the work.
    """

    output_field = DateField()
    MODIFIERS = {"week": "'weekday 0', '-6 days'", "month": "'start of month'"}

    def __init__(self, expression: Any, kind: str) -> None:
        super().__init__(expression)
        self.template = f"date(%(expressions)s, {self.MODIFIERS[kind]})"


def bucket_of(expression: Any, kind: str) -> Any:
    """The week (Monday) or month (first day) of a timestamp expression, as a date."""
    if connection.vendor == "sqlite" and timezone.get_current_timezone_name() == "UTC":
        return _SqliteBucket(expression, kind)
    return Trunc(expression, kind, output_field=DateField())


def day_range(start: date, end: date) -> tuple[datetime, datetime]:
    """The inclusive days [start, end] as a half-open range of aware datetimes."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, str):  # SQLite's date() comes back as text
        return date.fromisoformat(value)
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class TouchWeek:
    """One week's touch counts (kind → count) and distinct people touched."""

    week: date
    kinds: dict[str, int]
    contacts: int
    anonymous: int


def touch_weeks(*, start: date, end: date) -> dict[date, TouchWeek]:
    """Touches in [start, end] per week (Monday): a count per kind, distinct contacts and visitors.

    Anonymous visitors are the distinct anonymous ids of touches no contact is tied to yet
    (identity stitching moves a visitor's touches to its contact, so nobody counts twice).
    """
    low, high = day_range(start, end)
    # One filtered COUNT per kind; the names come from TouchKind, never from input.
    counts = {kind: Count("id", filter=Q(kind=kind)) for kind in TOUCH_KINDS}
    rows = (
        Touchpoint.objects.filter(occurred_at__gte=low, occurred_at__lt=high)
        .annotate(week=bucket_of(F("occurred_at"), "week"))
        .order_by()
        .values("week")
        .annotate(
            n_contacts=Count("contact", distinct=True),
            n_anonymous=Count(
                "anonymous_id",
                distinct=True,
                filter=Q(contact__isnull=True) & ~Q(anonymous_id=""),
            ),
            **{f"n_{kind}": expr for kind, expr in counts.items()},
        )
    )
    out: dict[date, TouchWeek] = {}
    for values in rows:
        row: dict[str, Any] = dict(values)
        week = _as_date(row["week"])
        out[week] = TouchWeek(
            week=week,
            kinds={kind: row[f"n_{kind}"] for kind in TOUCH_KINDS},
            contacts=row["n_contacts"],
            anonymous=row["n_anonymous"],
        )
    return out


def lead_entry_expression() -> Least:
    """When a contact entered the lead stage: became_lead_at, or for a contact that skipped it,
    the earliest date it entered a later stage (the funnel's rule for skipped stages)."""
    later = [stage for stage, i in STAGE_ORDER.items() if i >= STAGE_ORDER["lead"]]
    never = Value(NEVER, output_field=DateTimeField())
    return Least(*(Coalesce(became_field(stage), never) for stage in later))


def lead_entries(*, start: date, end: date, bucket: str = "week") -> list[tuple[date, str, int]]:
    """Contacts that entered the lead stage in [start, end]: (week or month start, source, count)."""
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}")
    low, high = day_range(start, end)
    rows = (
        Contact.objects.annotate(entered=lead_entry_expression())
        .filter(entered__gte=low, entered__lt=high)
        .annotate(bucket=bucket_of(F("entered"), bucket))
        .order_by()
        .values("bucket", "original_source")
        .annotate(n=Count("id"))
        .values_list("bucket", "original_source", "n")
    )
    return [(_as_date(b), source, n) for b, source, n in rows]


@dataclass(frozen=True)
class SlaWeek:
    """Hand-offs assigned to a rep in one week whose SLA outcome is known, and how many met it."""

    week: date
    handoffs: int
    met: int


def sla_weeks(*, start: date, end: date, now: datetime | None = None) -> dict[date, SlaWeek]:
    """Per week of assignment in [start, end]: hand-offs with a known SLA outcome, and those met.

    A hand-off (one assignment to a rep) met its SLA when it was never flagged for an accept
    or first-touch breach and is not past either deadline undone (still pending past its
    accept deadline; accepted, untouched, past its first-touch deadline). Its outcome is known
    once it left pending or its accept deadline passed; a lead still pending inside its
    deadline is left out (it may yet meet it).
    """
    low, high = day_range(start, end)
    now = now or timezone.now()
    pending = Q(status=AssignmentStatus.PENDING)
    known = ~pending | Q(accept_breached_at__isnull=False) | Q(accept_due_at__lt=now)
    # Past a deadline counts as breached even before the sweeper has flagged it.
    breached = (
        Q(accept_breached_at__isnull=False)
        | Q(touch_breached_at__isnull=False)
        | (pending & Q(accept_due_at__lt=now))
        | Q(
            status=AssignmentStatus.ACCEPTED,
            first_touch_at__isnull=True,
            first_touch_due_at__lt=now,
        )
    )
    rows = (
        LeadAssignment.objects.filter(known, rep__isnull=False)
        .filter(assigned_at__gte=low, assigned_at__lt=high)
        .annotate(week=bucket_of(F("assigned_at"), "week"))
        .order_by()
        .values("week")
        .annotate(total=Count("id"), bad=Count("id", filter=breached))
        .values_list("week", "total", "bad")
    )
    out: dict[date, SlaWeek] = {}
    for week, total, bad in rows:
        day = _as_date(week)
        out[day] = SlaWeek(week=day, handoffs=total, met=total - bad)
    return out
