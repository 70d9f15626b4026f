"""After the sale: the onboarding checklist, referral credit, renewals and upsells."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from tandem.accounts import permissions
from tandem.accounts.models import User
from tandem.crm import services as crm_services
from tandem.crm.models import Contact, LifecycleStage
from tandem.errors import Forbidden, InvalidInput
from tandem.sales.models import (
    Deal,
    DealKind,
    DealStatus,
    LineItem,
    OnboardingStep,
    OnboardingTemplateStep,
    Pipeline,
    StageOutcome,
)
from tandem.sales.queries.deals import deal_contacts

RENEWALS_PIPELINE = "Renewals and upsells"


def _won_day(deal: Deal, at: datetime | None) -> date:
    """The UTC calendar day the deal was won (the given moment, else its closed_at, else now)."""
    when = at or deal.closed_at or timezone.now()
    return when.astimezone(UTC).date()


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def renewals_pipeline() -> Pipeline:
    """The seeded pipeline renewals and upsells open in."""
    return Pipeline.objects.get(name=RENEWALS_PIPELINE)


def _require_won(deal: Deal, what: str) -> None:
    if deal.status != DealStatus.WON:
        raise InvalidInput(f"only a won deal can have {what}", field="deal")


@transaction.atomic
def start_onboarding(*, deal: Deal, at: datetime | None = None) -> int:
    """Copy the active checklist template onto a won deal once; returns the steps created."""
    _require_won(deal, "an onboarding checklist")
    Deal.objects.select_for_update().filter(pk=deal.pk).first()
    if OnboardingStep.objects.filter(deal=deal).exists():
        return 0
    won_on = _won_day(deal, at)
    steps = [
        OnboardingStep(
            deal=deal,
            title=template.title,
            position=template.position,
            due_on=won_on + timedelta(days=template.due_after_days),
        )
        for template in OnboardingTemplateStep.objects.filter(is_active=True)
    ]
    OnboardingStep.objects.bulk_create(steps, ignore_conflicts=True)
    return len(steps)


@transaction.atomic
def complete_onboarding_step(
    *, step: OnboardingStep, by: User, at: datetime | None = None
) -> OnboardingStep:
    """Tick one checklist item (needs the right to edit the deal); ticking twice keeps the first."""
    step = OnboardingStep.objects.select_for_update().select_related("deal").get(pk=step.pk)
    if not permissions.can_edit(by, step.deal):
        raise Forbidden("you may not change this deal's onboarding")
    if step.done_at is None:
        step.done_at = at or timezone.now()
        step.done_by = by
        step.save(update_fields=["done_at", "done_by"])
    return step


@transaction.atomic
def credit_referral(*, deal: Deal, at: datetime | None = None) -> bool:
    """Credit the referrer of a won deal once: a timeline row, and a customer becomes evangelist."""
    if deal.referred_by_id is None or deal.status != DealStatus.WON:
        return False
    referrer = Contact.objects.get(pk=deal.referred_by_id)
    when = at or deal.closed_at or timezone.now()
    _event, created = crm_services.record_event(
        type="referral_credited",
        idempotency_key=f"referral_credited:deal:{deal.pk}",
        occurred_at=when,
        contact=referrer,
        actor_label="Referral",
        properties={
            "deal_id": deal.pk,
            "name": deal.name,
            "amount": str(deal.amount_base),
        },
    )
    if created and referrer.lifecycle_stage == LifecycleStage.CUSTOMER:
        crm_services.change_lifecycle_stage(
            contact=referrer,
            to_stage=LifecycleStage.EVANGELIST,
            rule=f"Referral won: {deal.name}",
            at=when,
        )
    return created


def _recurring_items(deal: Deal) -> list[LineItem]:
    return [
        item
        for item in LineItem.objects.filter(deal=deal).select_related("product")
        if item.product is not None and item.product.term_months
    ]


def _contacts_of(deal: Deal) -> list[tuple[Contact, str]]:
    return [(dc.contact, dc.role) for dc in deal_contacts(deal)]


@transaction.atomic
def create_renewal(*, deal: Deal, at: datetime | None = None) -> Deal | None:
    """Open the renewal of a won deal's recurring items once per deal; None when nothing recurs."""
    from tandem.sales.services import deals as deal_services

    if deal.status != DealStatus.WON:
        return None
    Deal.objects.select_for_update().filter(pk=deal.pk).first()
    existing = Deal.objects.filter(parent=deal, kind=DealKind.RENEWAL).first()
    if existing is not None:
        return None
    items = _recurring_items(deal)
    if not items:
        return None
    term = min(item.product.term_months or 0 for item in items if item.product is not None)
    pipeline = renewals_pipeline()
    return deal_services.create_deal(
        by=None,
        name=f"Renewal: {deal.name}"[:200],
        currency=deal.currency,
        pipeline=pipeline,
        stage=pipeline.stages.filter(outcome=StageOutcome.OPEN).order_by("position").first(),
        company=deal.company,
        owner=deal.owner,
        expected_close_date=add_months(_won_day(deal, at), term),
        contacts=_contacts_of(deal),
        kind=DealKind.RENEWAL,
        parent=deal,
        line_items=[
            {
                "product_id": item.product_id,
                "name": item.name,
                "quantity": item.quantity,
                "unit_price": item.unit_price,
                "discount_percent": item.discount_percent,
            }
            for item in items
        ],
        at=at,
    )


@transaction.atomic
def create_upsell(
    *,
    deal: Deal,
    by: User,
    name: str,
    amount: Decimal,
    expected_close_date: date | None = None,
    owner: User | None = None,
    line_items: list[dict[str, Any]] | None = None,
    at: datetime | None = None,
) -> Deal:
    """Open an upsell deal continuing a won deal, in the renewals and upsells pipeline."""
    from tandem.sales.services import deals as deal_services

    if not permissions.can_view(by, deal):
        raise Forbidden("you may not see this deal")
    _require_won(deal, "an upsell")
    pipeline = renewals_pipeline()
    return deal_services.create_deal(
        by=by,
        name=name,
        amount=amount,
        currency=deal.currency,
        pipeline=pipeline,
        stage=pipeline.stages.filter(outcome=StageOutcome.OPEN).order_by("position").first(),
        company=deal.company,
        owner=owner or (deal.owner if permissions.can_manage_sales(by) else None),
        expected_close_date=expected_close_date,
        contacts=_contacts_of(deal),
        kind=DealKind.UPSELL,
        parent=deal,
        line_items=line_items,
        at=at,
    )
