"""Campaign reads: the filtered, sortable list, and each campaign's figures from stored data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Count,
    DecimalField,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from tandem.marketing.models import (
    Campaign,
    CampaignCost,
    CampaignStatus,
    Channel,
    JourneyStage,
    TouchKind,
    Touchpoint,
    TrackedLink,
)

# Sort keys users may ask for, mapped to columns or annotations: nothing else reaches order_by().
CAMPAIGN_SORTS: dict[str, str] = {
    "name": "name",
    "starts_on": "starts_on",
    "budget": "budget",
    "spent": "spent",
    "created_at": "created_at",
    "id": "id",
}
DEFAULT_SORT = "-created_at"
ENGAGEMENT_KINDS = (TouchKind.CLICK, TouchKind.FORM, TouchKind.CONTENT, TouchKind.EMAIL_OPEN)
WEEKS = 12
CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=16, decimal_places=2)


@dataclass(frozen=True)
class CampaignFilter:
    """What a campaign list may be narrowed by (values outside the choices are ignored)."""

    channel: str = ""
    status: str = ""
    journey_stage: str = ""
    q: str = ""


def spent_subquery() -> Subquery:
    """The sum of a campaign's cost entries in its own currency (other currencies are apart)."""
    costs = (
        CampaignCost.objects.filter(campaign=OuterRef("pk"), currency=OuterRef("currency"))
        .order_by()
        .values("campaign")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Subquery(costs, output_field=MONEY)


# The touches that capture a lead: a form submitted, or attendance (a booth scan, a check-in).
CAPTURE_KINDS = (TouchKind.FORM, TouchKind.EVENT)


def leads_subquery() -> Subquery:
    """The number of distinct contacts a campaign captured (a form or attendance)."""
    leads = (
        Touchpoint.objects.filter(
            campaign=OuterRef("pk"), contact__isnull=False, kind__in=CAPTURE_KINDS
        )
        .order_by()
        .values("campaign")
        .annotate(n=Count("contact", distinct=True))
        .values("n")
    )
    return Subquery(leads, output_field=IntegerField())


def campaigns_for(flt: CampaignFilter = CampaignFilter()) -> QuerySet[Campaign]:
    """Campaigns narrowed by the filter, each with `spent` and `leads` (one query, no N+1)."""
    qs = Campaign.objects.select_related("owner").annotate(
        spent=Coalesce(spent_subquery(), Value(Decimal(0)), output_field=MONEY),
        leads=Coalesce(leads_subquery(), Value(0)),
    )
    if flt.channel in Channel.values:
        qs = qs.filter(channel=flt.channel)
    if flt.status in CampaignStatus.values:
        qs = qs.filter(status=flt.status)
    if flt.journey_stage in JourneyStage.values:
        qs = qs.filter(journey_stage=flt.journey_stage)
    term = flt.q.strip()[:100].replace("\x00", "")
    if term:
        qs = qs.filter(name__istartswith=term)
    return qs


def costs_of(campaign: Campaign) -> QuerySet[CampaignCost]:
    """A campaign's cost entries, latest day first."""
    return CampaignCost.objects.filter(campaign=campaign).order_by("-incurred_on", "-id")


def links_of(campaign: Campaign) -> QuerySet[TrackedLink]:
    """A campaign's registered tracked links, newest first."""
    return TrackedLink.objects.filter(campaign=campaign).order_by("-created_at", "-id")


# ---------------------------------------------------------------- figures


@dataclass(frozen=True)
class WeekRow:
    starts_on: date
    visits: int
    leads: int


@dataclass(frozen=True)
class MonthRow:
    month: date
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class CampaignStats:
    """A campaign's figures, all computed from stored touches, submissions and costs.

    reach: distinct people touched: distinct contacts among its touchpoints, plus distinct
        anonymous ids among its touchpoints not (yet) tied to a contact, leaving out ids
        already seen on one of its touchpoints with a contact (that visitor is counted).
    visits: touchpoints of kind visit.
    engagement: touchpoints of kinds click, form_submit, content_view and email_open.
    leads: distinct contacts the campaign captured: touches of kind form_submit (a form
        submission credited to it) or event (attendance: a booth scan, a check-in).
    cost: the sum of its cost entries in the campaign's currency; entries in other currencies
        are listed in `other_costs` and never added in.
    cost_per_lead: cost ÷ leads, to the cent; None without leads.
    budget_used_pct: cost ÷ budget * 100, to one decimal; None without a positive budget.
    weekly: the last 12 weeks (Monday to Sunday, UTC, the current one last): visits in the
        week, and leads whose first capture by this campaign fell in the week.
    monthly_spend: cost entries summed per month and currency, oldest first.
    """

    reach: int
    visits: int
    engagement: int
    leads: int
    cost: Decimal
    currency: str
    other_costs: list[tuple[str, Decimal]]
    cost_per_lead: Decimal | None
    budget_used_pct: Decimal | None
    weekly: list[WeekRow]
    monthly_spend: list[MonthRow]

    @property
    def visits_max(self) -> int:
        """The busiest week's visits (at least 1): the scale of the visits bars."""
        return max([1, *(w.visits for w in self.weekly)])

    @property
    def leads_max(self) -> int:
        """The busiest week's leads (at least 1): the scale of the leads bars."""
        return max([1, *(w.leads for w in self.weekly)])


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def campaign_stats(campaign: Campaign, *, today: date | None = None) -> CampaignStats:
    """The campaign's figures (see CampaignStats for each definition)."""
    touches = Touchpoint.objects.filter(campaign=campaign)
    identified_ids = touches.filter(contact__isnull=False).exclude(anonymous_id="")
    anonymous = (
        Q(contact__isnull=True)
        & ~Q(anonymous_id="")
        & ~Q(anonymous_id__in=identified_ids.values("anonymous_id"))
    )
    counts = touches.aggregate(
        contacts=Count("contact", distinct=True),
        anonymous=Count("anonymous_id", distinct=True, filter=anonymous),
        visits=Count("id", filter=Q(kind=TouchKind.VISIT)),
        engagement=Count("id", filter=Q(kind__in=ENGAGEMENT_KINDS)),
    )
    captures = touches.filter(contact__isnull=False, kind__in=CAPTURE_KINDS)
    leads = captures.aggregate(n=Count("contact", distinct=True))["n"]

    by_currency = dict(
        CampaignCost.objects.filter(campaign=campaign)
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount"))
        .values_list("currency", "total")
    )
    cost = by_currency.pop(campaign.currency, None) or Decimal("0.00")
    cost_per_lead = (cost / leads).quantize(CENT, rounding=ROUND_HALF_UP) if leads else None
    budget_used = None
    if campaign.budget:
        budget_used = (cost * 100 / campaign.budget).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

    return CampaignStats(
        reach=counts["contacts"] + counts["anonymous"],
        visits=counts["visits"],
        engagement=counts["engagement"],
        leads=leads,
        cost=cost,
        currency=campaign.currency,
        other_costs=sorted(by_currency.items()),
        cost_per_lead=cost_per_lead,
        budget_used_pct=budget_used,
        weekly=_weekly(campaign, touches, captures, today or timezone.now().date()),
        monthly_spend=_monthly_spend(campaign),
    )


def _weekly(
    campaign: Campaign, touches: QuerySet, captures: QuerySet, today: date
) -> list[WeekRow]:
    """Visits and new leads per week over the last WEEKS weeks, oldest first."""
    first_week = today - timedelta(days=today.weekday()) - timedelta(weeks=WEEKS - 1)
    start, end = _start_of_day(first_week), _start_of_day(today + timedelta(days=1))
    visits = [0] * WEEKS
    leads = [0] * WEEKS
    daily = (
        touches.filter(kind=TouchKind.VISIT, occurred_at__gte=start, occurred_at__lt=end)
        .annotate(day=TruncDate("occurred_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    for day, n in daily:
        visits[(day - first_week).days // 7] += n
    firsts = (
        captures.order_by()
        .values("contact")
        .annotate(first=Min("occurred_at"))
        .filter(first__gte=start, first__lt=end)
        .values_list("first", flat=True)
    )
    for first in firsts:
        day = timezone.localtime(first).date()
        leads[(day - first_week).days // 7] += 1
    return [
        WeekRow(starts_on=first_week + timedelta(weeks=i), visits=visits[i], leads=leads[i])
        for i in range(WEEKS)
    ]


def _monthly_spend(campaign: Campaign) -> list[MonthRow]:
    rows = (
        CampaignCost.objects.filter(campaign=campaign)
        .annotate(month=TruncMonth("incurred_on"))
        .order_by()
        .values("month", "currency")
        .annotate(total=Sum("amount"))
        .order_by("month", "currency")
        .values_list("month", "currency", "total")
    )
    return [MonthRow(month=m, currency=c, amount=t) for m, c, t in rows]
