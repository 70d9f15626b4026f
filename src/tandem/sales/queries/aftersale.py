"""Reads for after the sale: a deal's onboarding checklist and the referrals leaderboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.crm.models import Contact
from tandem.sales.models import Deal, DealStatus, OnboardingStep


@dataclass
class Progress:
    steps: list[OnboardingStep]
    done: int
    total: int
    overdue: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def onboarding(deal: Deal, *, today: date | None = None) -> Progress:
    """The deal's checklist in order, with how many steps are done and overdue."""
    today = today or timezone.now().date()
    steps = list(OnboardingStep.objects.filter(deal=deal).select_related("done_by"))
    return Progress(
        steps=steps,
        done=sum(1 for s in steps if s.done_at is not None),
        total=len(steps),
        overdue=sum(1 for s in steps if s.done_at is None and s.due_on < today),
    )


@dataclass
class ReferralRow:
    referrer: Contact
    deals: int
    won: int
    won_revenue: Decimal
    open: int


def referrals(*, user: User, limit: int = 100) -> list[ReferralRow]:
    """Referrers of the deals the user can see, most won revenue first (two queries)."""
    rows: list[dict[str, Any]] = list(
        permissions.visible(user, Deal.objects.filter(referred_by__isnull=False))
        .values("referred_by_id")
        .annotate(
            deals=Count("id"),
            won=Count("id", filter=Q(status=DealStatus.WON)),
            open=Count("id", filter=Q(status=DealStatus.OPEN)),
            won_revenue=Sum("amount_base", filter=Q(status=DealStatus.WON)),
        )
        .order_by("-won_revenue", "-deals", "referred_by_id")[:limit]
    )
    contacts = Contact.objects.select_related("company").in_bulk(
        [row["referred_by_id"] for row in rows]
    )
    return [
        ReferralRow(
            referrer=contacts[row["referred_by_id"]],
            deals=row["deals"],
            won=row["won"],
            won_revenue=row["won_revenue"] or Decimal("0.00"),
            open=row["open"],
        )
        for row in rows
        if row["referred_by_id"] in contacts
    ]


def referred_deals(*, user: User, referrer_ids: list[int]) -> dict[int, list[Deal]]:
    """The visible deals each referrer brought, newest first, in one query."""
    out: dict[int, list[Deal]] = {i: [] for i in referrer_ids}
    for deal in (
        permissions.visible(user, Deal.objects.filter(referred_by_id__in=referrer_ids))
        .select_related("stage")
        .order_by("-created_at", "-id")
    ):
        if deal.referred_by_id is not None:
            out[deal.referred_by_id].append(deal)
    return out
