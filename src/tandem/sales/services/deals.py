"""Deals: create, edit, move through stages, win, lose, reopen; contacts and line items."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tandem import bus
from tandem.accounts.models import User
from tandem.accounts.permissions import assignable_owners, can_edit, can_sell
from tandem.crm import services as crm
from tandem.crm.models import Company, Contact, LifecycleStage
from tandem.crm.normalise import (
    clean_choice,
    clean_currency,
    clean_date,
    clean_datetime,
    clean_decimal,
    clean_text,
)
from tandem.errors import Forbidden, InvalidInput
from tandem.marketing.models import Touchpoint
from tandem.sales.models import (
    Deal,
    DealContact,
    DealKind,
    DealRole,
    DealStatus,
    ExchangeRate,
    LineItem,
    LostReason,
    Pipeline,
    Product,
    Stage,
    StageChange,
    StageChangeKind,
    StageOutcome,
)
from tandem.sales.queries import deals as deal_queries
from tandem.sales.services import aftersale, pipelines

CENT = Decimal("0.01")
# Deal.amount holds 12 digits before the point, amount_base 14.
MAX_AMOUNT = Decimal(10) ** 12
MAX_BASE = Decimal(10) ** 14
# Contacts a new deal makes opportunities: SQL and anyone earlier in the lifecycle.
BEFORE_OPPORTUNITY = (
    LifecycleStage.SUBSCRIBER,
    LifecycleStage.LEAD,
    LifecycleStage.MQL,
    LifecycleStage.SQL,
)
# Contacts a won deal leaves alone: already customers or beyond.
CUSTOMER_OR_BEYOND = (LifecycleStage.CUSTOMER, LifecycleStage.EVANGELIST)
UPDATABLE = {
    "name",
    "amount",
    "currency",
    "expected_close_date",
    "owner",
    "company",
    "next_step",
    "next_step_due",
    "competitor",
}
STAGE_KEYS = {"stage", "stage_id", "status", "pipeline", "pipeline_id"}


# ---------------------------------------------------------------- money


def to_base(*, amount: Decimal, currency: str) -> Decimal:
    """The amount in the reporting currency, rounded to cents (unknown currency → 400)."""
    currency = clean_currency(currency)
    if currency == settings.REPORTING_CURRENCY:
        rate = Decimal(1)
    else:
        found = (
            ExchangeRate.objects.filter(currency=currency).values_list("rate", flat=True).first()
        )
        if found is None:
            raise InvalidInput(f"currency {currency} has no exchange rate", field="currency")
        rate = found
    base = (Decimal(amount) * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    if base >= MAX_BASE:
        raise InvalidInput("amount is too large in the reporting currency", field="amount")
    return base


def _clean_amount(value: Any) -> Decimal:
    amount = clean_decimal(value, field="amount")
    if amount is None:
        return Decimal("0.00")
    if amount >= MAX_AMOUNT:
        raise InvalidInput(f"amount must be below {MAX_AMOUNT:,}", field="amount")
    return amount


def line_total(*, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """One line's value before rounding: quantity * unit price * (1 - discount/100)."""
    return quantity * unit_price * (1 - discount_percent / 100)


def items_total(items: Iterable[LineItem]) -> Decimal:
    """The deal amount its line items make, rounded to cents."""
    total = sum(
        (
            line_total(
                quantity=i.quantity, unit_price=i.unit_price, discount_percent=i.discount_percent
            )
            for i in items
        ),
        Decimal(0),
    )
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- small helpers


def _now(at: datetime | None) -> datetime:
    return clean_datetime(at, field="at") or timezone.now()


def _check_edit(by: User | None, deal: Deal) -> None:
    """A deal write by a person needs the right to change the deal (None = the system)."""
    if by is not None and not can_edit(by, deal):
        raise Forbidden("you may not change this deal")


def _check_owner(by: User | None, owner: User | None) -> None:
    if by is None or owner is None:
        return
    if not assignable_owners(by).filter(pk=owner.pk).exists():
        raise Forbidden(f"you may not give deals to {owner.username}")


def _locked(deal: Deal) -> Deal:
    """The deal's current row, locked for this transaction (updates the caller's object)."""
    Deal.objects.select_for_update().filter(pk=deal.pk).values_list("pk", flat=True).first()
    deal.refresh_from_db()
    return deal


def _contacts(deal: Deal) -> list[Contact]:
    return [dc.contact for dc in deal_queries.deal_contacts(deal)]


def _record_on_contacts(
    deal: Deal, *, type: str, key: str, by: User | None, at: datetime, **extra: Any
) -> None:
    for contact in _contacts(deal):
        crm.record_event(
            type=type,
            idempotency_key=f"{type}:{deal.pk}:{contact.pk}:{key}",
            contact=contact,
            company=deal.company,
            actor=by,
            occurred_at=at,
            properties={
                "deal_id": deal.pk,
                "name": deal.name,
                "amount": str(deal.amount),
                "currency": deal.currency,
                **extra,
            },
        )


def _promote(contact: Contact, *, to_stage: str, by: User | None, rule: str, at: datetime) -> None:
    crm.change_lifecycle_stage(
        contact=contact,
        to_stage=to_stage,
        by=by,
        rule=rule[:120],
        # Out of Disqualified counts as a backward move: the deal is the reason.
        reason=rule if contact.lifecycle_stage == LifecycleStage.DISQUALIFIED else "",
        at=at,
    )


def _make_opportunities(
    contacts: Iterable[Contact], *, deal: Deal, by: User | None, at: datetime
) -> None:
    for contact in contacts:
        if contact.lifecycle_stage in BEFORE_OPPORTUNITY:
            _promote(
                contact,
                to_stage=LifecycleStage.OPPORTUNITY,
                by=by,
                rule=f"Deal created: {deal.name}",
                at=at,
            )


def _source_of(contact_ids: list[int], at: datetime) -> tuple[int | None, str]:
    """The campaign and channel of the contacts' last marketing touch at or before `at`."""
    if not contact_ids:
        return None, ""
    touch = (
        Touchpoint.objects.filter(contact_id__in=contact_ids, occurred_at__lte=at)
        .order_by("-occurred_at", "-id")
        .values("campaign_id", "channel")
        .first()
    )
    if touch is None:
        return None, ""
    return touch["campaign_id"], touch["channel"]


def _transition(
    deal: Deal,
    *,
    to_stage: Stage,
    to_status: str,
    kind: str,
    by: User | None,
    at: datetime,
    extra_fields: Iterable[str] = (),
) -> StageChange:
    """Write the stage history row, move the deal and publish DealStageChanged."""
    from_stage_id, from_status = deal.stage_id, deal.status
    seconds = max(0, int((at - deal.stage_entered_at).total_seconds()))
    change = StageChange.objects.create(
        deal=deal,
        kind=kind,
        from_stage_id=from_stage_id,
        to_stage=to_stage,
        from_status=from_status,
        to_status=to_status,
        changed_at=at,
        changed_by=by,
        seconds_in_from_stage=seconds,
        amount_base=deal.amount_base,
    )
    deal.stage = to_stage
    deal.status = to_status
    deal.stage_entered_at = at
    deal.save(update_fields=["stage", "status", "stage_entered_at", "updated_at", *extra_fields])
    bus.publish(
        bus.DealStageChanged(
            deal_id=deal.pk,
            from_stage_id=from_stage_id,
            to_stage_id=to_stage.pk,
            status=str(to_status),
        )
    )
    return change


# ---------------------------------------------------------------- create and edit


@transaction.atomic
def create_deal(
    *,
    by: User | None,
    name: str,
    amount: Any = Decimal(0),
    currency: str = "USD",
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    company: Company | None = None,
    owner: User | None = None,
    expected_close_date: Any = None,
    contacts: Iterable[tuple[Contact, str]] = (),
    kind: str = DealKind.NEW_BUSINESS,
    parent: Deal | None = None,
    referred_by: Contact | None = None,
    line_items: list[dict[str, Any]] | None = None,
    next_step: str = "",
    at: datetime | None = None,
) -> Deal:
    """Open a deal; its contacts before opportunity become opportunities."""
    if by is not None:
        if not can_sell(by):
            raise Forbidden("only sales users create deals")
        if owner is None:
            owner = by
    _check_owner(by, owner)
    when = _now(at)
    name = clean_text(name, field="name", max_length=200, required=True)
    currency = clean_currency(currency)
    value = _clean_amount(amount)
    kind = clean_choice(kind, field="kind", choices=list(DealKind.values))
    if pipeline is None:
        pipeline = stage.pipeline if stage is not None else pipelines.default_pipeline()
    if stage is None:
        stage = pipelines.first_open_stage(pipeline)
    elif stage.pipeline_id != pipeline.pk:
        raise InvalidInput(
            f"stage {stage.name} is not a stage of pipeline {pipeline.name}", field="stage"
        )
    if stage.outcome != StageOutcome.OPEN:
        raise InvalidInput(
            f"a deal cannot be created in the {stage.outcome} stage {stage.name}; "
            "create it open, then close it",
            field="stage",
        )
    roles = [
        (c, clean_choice(r or DealRole.OTHER, field="role", choices=list(DealRole.values)))
        for c, r in contacts
    ]
    contact_ids = [c.pk for c, _ in roles]
    if len(set(contact_ids)) != len(contact_ids):
        raise InvalidInput("a contact is listed twice", field="contacts")
    campaign_id, channel = _source_of(contact_ids, when)
    deal = Deal.objects.create(
        name=name,
        company=company,
        owner=owner,
        team=owner.team if owner is not None and owner.team_id else None,
        amount=value,
        currency=currency,
        amount_base=to_base(amount=value, currency=currency),
        pipeline=pipeline,
        stage=stage,
        status=DealStatus.OPEN,
        kind=kind,
        parent=parent,
        expected_close_date=clean_date(expected_close_date, field="expected_close_date"),
        created_at=when,
        stage_entered_at=when,
        source_campaign_id=campaign_id,
        source_channel=channel,
        referred_by=referred_by,
        next_step=clean_text(next_step, field="next_step", max_length=255),
    )
    DealContact.objects.bulk_create(
        DealContact(deal=deal, contact=c, role=role, is_primary=i == 0, added_at=when)
        for i, (c, role) in enumerate(roles)
    )
    if line_items:
        _write_line_items(deal, line_items)
    StageChange.objects.create(
        deal=deal,
        kind=StageChangeKind.CREATED,
        to_stage=stage,
        to_status=DealStatus.OPEN,
        changed_at=when,
        changed_by=by,
        amount_base=deal.amount_base,
    )
    _make_opportunities([c for c, _ in roles], deal=deal, by=by, at=when)
    _record_on_contacts(deal, type="deal_created", key="created", by=by, at=when)
    bus.publish(bus.DealCreated(deal_id=deal.pk))
    return deal


@transaction.atomic
def update_deal(*, deal: Deal, changes: dict[str, Any], by: User | None) -> Deal:
    """Change a deal's fields (stage and status change through move, close and reopen)."""
    _check_edit(by, deal)
    if not isinstance(changes, dict):
        raise InvalidInput("changes must be an object", field="changes")
    staged = set(changes) & STAGE_KEYS
    if staged:
        raise InvalidInput(
            "stage and status change by moving, closing or reopening the deal",
            field=sorted(staged)[0],
        )
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise InvalidInput(
            f"unknown deal field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0]
        )
    deal = _locked(deal)
    fields: list[str] = []
    for key, value in changes.items():
        if key == "name":
            deal.name = clean_text(value, field="name", max_length=200, required=True)
        elif key == "amount":
            amount = _clean_amount(value)
            if amount != deal.amount and deal.line_items.exists():
                raise InvalidInput("amount comes from the line items", field="amount")
            deal.amount = amount
        elif key == "currency":
            deal.currency = clean_currency(value)
        elif key in ("expected_close_date", "next_step_due"):
            setattr(deal, key, clean_date(value, field=key))
        elif key == "owner":
            if value is not None and not isinstance(value, User):
                raise InvalidInput("owner must be a user", field="owner")
            _check_owner(by, value)
            deal.owner = value
            deal.team = value.team if value is not None and value.team_id else deal.team
            fields.append("team")
        elif key == "company":
            if value is not None and not isinstance(value, Company):
                raise InvalidInput("company must be a company", field="company")
            deal.company = value
        elif key == "next_step":
            deal.next_step = clean_text(value, field="next_step", max_length=255)
        elif key == "competitor":
            deal.competitor = clean_text(value, field="competitor", max_length=120)
        fields.append(key)
    if {"amount", "currency"} & set(changes):
        deal.amount_base = to_base(amount=deal.amount, currency=deal.currency)
        fields.append("amount_base")
    if fields:
        deal.save(update_fields=[*dict.fromkeys(fields), "updated_at"])
    return deal


# ---------------------------------------------------------------- stages and outcomes


@transaction.atomic
def move_deal(
    *,
    deal: Deal,
    stage: Stage,
    by: User | None,
    at: datetime | None = None,
    lost_reason: LostReason | None = None,
    lost_note: str = "",
    competitor: str = "",
) -> Deal:
    """Move a deal to a stage of its pipeline; a won or lost stage closes it."""
    _check_edit(by, deal)
    deal = _locked(deal)
    if stage.pipeline_id != deal.pipeline_id:
        raise InvalidInput(
            f"stage {stage.name} is not a stage of the deal's pipeline", field="stage"
        )
    if stage.pk == deal.stage_id:
        return deal
    if deal.status != DealStatus.OPEN:
        raise InvalidInput("reopen the deal first", field="stage")
    if stage.outcome == StageOutcome.WON:
        return mark_won(deal=deal, by=by, at=at)
    if stage.outcome == StageOutcome.LOST:
        if lost_reason is None:
            raise InvalidInput("lost_reason is required to lose a deal", field="lost_reason")
        return mark_lost(
            deal=deal,
            by=by,
            reason=lost_reason,
            note=lost_note,
            competitor=competitor,
            at=at,
            stage=stage,
        )
    when = _now(at)
    _transition(
        deal, to_stage=stage, to_status=DealStatus.OPEN, kind=StageChangeKind.MOVED, by=by, at=when
    )
    return deal


@transaction.atomic
def mark_won(*, deal: Deal, by: User | None, at: datetime | None = None) -> Deal:
    """Win a deal: its contacts become customers; onboarding, referral credit and renewal follow."""
    _check_edit(by, deal)
    deal = _locked(deal)
    if deal.status == DealStatus.WON:
        return deal
    if deal.status != DealStatus.OPEN:
        raise InvalidInput("reopen the deal first", field="status")
    when = _now(at)
    deal.closed_at = when
    change = _transition(
        deal,
        to_stage=pipelines.won_stage(deal.pipeline),
        to_status=DealStatus.WON,
        kind=StageChangeKind.WON,
        by=by,
        at=when,
        extra_fields=["closed_at"],
    )
    for contact in _contacts(deal):
        if contact.lifecycle_stage not in CUSTOMER_OR_BEYOND:
            _promote(
                contact,
                to_stage=LifecycleStage.CUSTOMER,
                by=by,
                rule=f"Deal won: {deal.name}",
                at=when,
            )
    _record_on_contacts(deal, type="deal_won", key=str(change.pk), by=by, at=when)
    _after_the_sale(deal, at=when)
    return deal


def _after_the_sale(deal: Deal, *, at: datetime) -> None:
    """Onboarding, the referrer's credit and the renewal (each idempotent, owned by aftersale)."""
    aftersale.start_onboarding(deal=deal, at=at)
    aftersale.credit_referral(deal=deal, at=at)
    aftersale.create_renewal(deal=deal, at=at)


@transaction.atomic
def mark_lost(
    *,
    deal: Deal,
    by: User | None,
    reason: LostReason,
    note: str = "",
    competitor: str = "",
    at: datetime | None = None,
    stage: Stage | None = None,
) -> Deal:
    """Lose a deal, with a managed reason, a note and the competitor that won it."""
    _check_edit(by, deal)
    if not isinstance(reason, LostReason):
        raise InvalidInput("lost_reason is required to lose a deal", field="lost_reason")
    if not reason.is_active:
        raise InvalidInput(f"lost reason {reason.name} is retired", field="lost_reason")
    deal = _locked(deal)
    if deal.status == DealStatus.LOST:
        return deal
    if deal.status != DealStatus.OPEN:
        raise InvalidInput("reopen the deal first", field="status")
    if stage is None:
        stage = pipelines.lost_stage(deal.pipeline)
    elif stage.pipeline_id != deal.pipeline_id or stage.outcome != StageOutcome.LOST:
        raise InvalidInput(
            f"stage {stage.name} is not a lost stage of the deal's pipeline", field="stage"
        )
    when = _now(at)
    deal.closed_at = when
    deal.lost_reason = reason
    deal.lost_note = clean_text(note, field="lost_note", max_length=2000)
    extra = ["closed_at", "lost_reason", "lost_note"]
    if competitor:
        deal.competitor = clean_text(competitor, field="competitor", max_length=120)
        extra.append("competitor")
    change = _transition(
        deal,
        to_stage=stage,
        to_status=DealStatus.LOST,
        kind=StageChangeKind.LOST,
        by=by,
        at=when,
        extra_fields=extra,
    )
    _record_on_contacts(
        deal, type="deal_lost", key=str(change.pk), by=by, at=when, reason=reason.name
    )
    return deal


@transaction.atomic
def reopen_deal(
    *, deal: Deal, by: User | None, stage: Stage | None = None, at: datetime | None = None
) -> Deal:
    """Reopen a won or lost deal in an open stage (its contacts' lifecycle stays where it is)."""
    _check_edit(by, deal)
    deal = _locked(deal)
    if deal.status == DealStatus.OPEN:
        raise InvalidInput("the deal is open already", field="status")
    if stage is None:
        last_open = (
            StageChange.objects.filter(deal=deal, to_stage__outcome=StageOutcome.OPEN)
            .order_by("-changed_at", "-id")
            .select_related("to_stage")
            .first()
        )
        stage = last_open.to_stage if last_open else pipelines.first_open_stage(deal.pipeline)
    if stage.pipeline_id != deal.pipeline_id or stage.outcome != StageOutcome.OPEN:
        raise InvalidInput(
            f"stage {stage.name} is not an open stage of the deal's pipeline", field="stage"
        )
    when = _now(at)
    deal.closed_at = None
    deal.lost_reason = None
    deal.lost_note = ""
    change = _transition(
        deal,
        to_stage=stage,
        to_status=DealStatus.OPEN,
        kind=StageChangeKind.REOPENED,
        by=by,
        at=when,
        extra_fields=["closed_at", "lost_reason", "lost_note"],
    )
    _record_on_contacts(deal, type="deal_reopened", key=str(change.pk), by=by, at=when)
    return deal


# ---------------------------------------------------------------- contacts and line items


@transaction.atomic
def set_deal_contact(
    *, deal: Deal, contact: Contact, role: str, is_primary: bool = False, by: User | None
) -> DealContact:
    """Add a contact to a deal or change their role; the first contact is the primary one."""
    _check_edit(by, deal)
    role = clean_choice(role or DealRole.OTHER, field="role", choices=list(DealRole.values))
    deal = _locked(deal)
    has_primary = DealContact.objects.filter(deal=deal, is_primary=True).exclude(contact=contact)
    primary = bool(is_primary) or not has_primary.exists()
    if primary:
        has_primary.update(is_primary=False)
    link, created = DealContact.objects.get_or_create(
        deal=deal,
        contact=contact,
        defaults={"role": role, "is_primary": primary, "added_at": timezone.now()},
    )
    if not created:
        link.role = role
        link.is_primary = primary or link.is_primary
        link.save(update_fields=["role", "is_primary"])
    if created and deal.status == DealStatus.OPEN:
        _make_opportunities([contact], deal=deal, by=by, at=timezone.now())
    return link


@transaction.atomic
def remove_deal_contact(*, deal: Deal, contact: Contact, by: User | None) -> None:
    """Take a contact off a deal (the next contact becomes primary)."""
    _check_edit(by, deal)
    deal = _locked(deal)
    removed = DealContact.objects.filter(deal=deal, contact=contact).first()
    if removed is None:
        return
    removed.delete()
    if removed.is_primary:
        nxt = DealContact.objects.filter(deal=deal).order_by("added_at", "id").first()
        if nxt is not None:
            nxt.is_primary = True
            nxt.save(update_fields=["is_primary"])


def _clean_item(raw: Any, index: int, products: dict[int, Product], currency: str) -> LineItem:
    if not isinstance(raw, dict):
        raise InvalidInput(f"line item {index + 1} must be an object", field="items")
    unknown = set(raw) - {
        "product_id",
        "product",
        "name",
        "quantity",
        "unit_price",
        "discount_percent",
    }
    if unknown:
        raise InvalidInput(
            f"line item {index + 1} has unknown field(s): {', '.join(sorted(unknown))}",
            field=sorted(unknown)[0],
        )
    product = raw.get("product")
    product_id = raw.get("product_id")
    if product is None and product_id not in (None, ""):
        try:
            product = products[int(product_id)]
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(
                f"line item {index + 1}: product {product_id} does not exist", field="product_id"
            ) from None
    name = clean_text(raw.get("name"), field="name", max_length=160)
    if product is not None and not name:
        name = product.name
    if not name:
        raise InvalidInput(f"line item {index + 1} needs a product or a name", field="name")
    quantity = clean_decimal(raw.get("quantity", 1), field="quantity")
    if quantity is None or quantity <= 0 or quantity >= Decimal(10) ** 10:
        raise InvalidInput(f"line item {index + 1}: quantity must be above 0", field="quantity")
    unit_price = clean_decimal(raw.get("unit_price"), field="unit_price")
    if unit_price is None:
        if product is None:
            raise InvalidInput(f"line item {index + 1} needs a unit_price", field="unit_price")
        if product.currency != currency:
            raise InvalidInput(
                f"line item {index + 1}: {product.name} is priced in {product.currency}, "
                f"the deal in {currency}; give a unit_price",
                field="unit_price",
            )
        unit_price = product.unit_price
    if unit_price >= MAX_AMOUNT:
        raise InvalidInput(f"line item {index + 1}: unit_price is too large", field="unit_price")
    discount = clean_decimal(raw.get("discount_percent"), field="discount_percent") or Decimal(0)
    if discount > 100:
        raise InvalidInput(
            f"line item {index + 1}: discount_percent must be between 0 and 100",
            field="discount_percent",
        )
    return LineItem(
        product=product,
        name=name,
        quantity=quantity,
        unit_price=unit_price,
        discount_percent=discount,
        position=index,
    )


def _write_line_items(deal: Deal, items: list[dict[str, Any]]) -> None:
    if not isinstance(items, list):
        raise InvalidInput("items must be a list", field="items")
    ids = set()
    for raw in items:
        if (
            isinstance(raw, dict)
            and raw.get("product") is None
            and raw.get("product_id") not in (None, "")
        ):
            try:
                ids.add(int(raw["product_id"]))
            except (TypeError, ValueError):
                raise InvalidInput(
                    f"product_id {str(raw['product_id'])[:20]!r} is not an id", field="product_id"
                ) from None
    products = Product.objects.in_bulk(ids)
    cleaned = [_clean_item(raw, i, products, deal.currency) for i, raw in enumerate(items)]
    LineItem.objects.filter(deal=deal).delete()
    for item in cleaned:
        item.deal = deal
    LineItem.objects.bulk_create(cleaned)
    if cleaned:
        amount = items_total(cleaned)
        if amount >= MAX_AMOUNT:
            raise InvalidInput("the line items add up to too large an amount", field="items")
        deal.amount = amount
        deal.amount_base = to_base(amount=amount, currency=deal.currency)
        deal.save(update_fields=["amount", "amount_base", "updated_at"])


@transaction.atomic
def set_line_items(*, deal: Deal, items: list[dict[str, Any]], by: User | None) -> Deal:
    """Replace a deal's line items; the deal's amount becomes their total."""
    _check_edit(by, deal)
    deal = _locked(deal)
    _write_line_items(deal, items)
    return deal
