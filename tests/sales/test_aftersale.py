"""After the sale: onboarding started on win, renewals, upsells and referral credit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from tandem.crm.models import TimelineEvent
from tandem.errors import Forbidden, InvalidInput
from tandem.sales.models import Deal, DealContact, LineItem, OnboardingStep, Product
from tandem.sales.queries import aftersale as queries
from tandem.sales.services import aftersale, deals
from tests.conftest import World
from tests.crm.factories import ContactFactory
from tests.sales.factories import DealFactory

WON_AT = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)


def won_deal(world: World, **fields: Any) -> Deal:
    """rep1's deal with Ann as contact, won at WON_AT through the deals service."""
    deal = DealFactory(owner=world.rep1, company=world.acme, **fields)
    DealContact.objects.create(
        deal=deal, contact=world.rep1_contact, role="champion", is_primary=True, added_at=WON_AT
    )
    return deals.mark_won(deal=deal, by=world.rep1, at=WON_AT)


# ---------------------------------------------------------------- onboarding


def test_winning_starts_the_onboarding_checklist_once(world: World) -> None:
    deal = won_deal(world)
    steps = list(OnboardingStep.objects.filter(deal=deal).values_list("title", "due_on"))
    assert steps == [
        ("Kick-off call with the customer's team", date(2026, 11, 12)),
        ("Set up the admin account and single sign-on", date(2026, 11, 15)),
        ("Import the customer's data", date(2026, 11, 20)),
        ("Train the users", date(2026, 11, 24)),
        ("First value review", date(2026, 12, 10)),
    ]
    assert aftersale.start_onboarding(deal=deal, at=WON_AT) == 0
    assert OnboardingStep.objects.filter(deal=deal).count() == 5


def test_an_open_deal_has_no_onboarding(world: World) -> None:
    with pytest.raises(InvalidInput):
        aftersale.start_onboarding(deal=DealFactory(owner=world.rep1))


def test_completing_a_step_needs_the_right_to_edit_the_deal(world: World) -> None:
    deal = won_deal(world)
    step = OnboardingStep.objects.filter(deal=deal).first()
    assert step is not None
    with pytest.raises(Forbidden):
        aftersale.complete_onboarding_step(step=step, by=world.rep3)
    with pytest.raises(Forbidden):
        aftersale.complete_onboarding_step(step=step, by=world.marketer)
    done = aftersale.complete_onboarding_step(step=step, by=world.rep1, at=WON_AT)
    assert (done.done_at, done.done_by_id) == (WON_AT, world.rep1.pk)
    again = aftersale.complete_onboarding_step(step=step, by=world.manager)
    assert (again.done_at, again.done_by_id) == (WON_AT, world.rep1.pk)
    progress = queries.onboarding(deal, today=date(2026, 11, 16))
    assert (progress.done, progress.total, progress.overdue, progress.percent) == (1, 5, 1, 20)


# ---------------------------------------------------------------- renewals and upsells


def test_winning_a_deal_with_recurring_items_opens_one_renewal(world: World) -> None:
    # given a deal with a 12-month subscription (2 x 500, 10 % off) and a one-off service
    yearly = Product.objects.create(name="Platform", sku="PLAT-Y", unit_price=500, term_months=12)
    setup = Product.objects.create(name="Setup", sku="SETUP", unit_price=300)
    deal = DealFactory(owner=world.rep1, company=world.acme, amount=Decimal("1200.00"))
    DealContact.objects.create(
        deal=deal, contact=world.rep1_contact, role="champion", is_primary=True, added_at=WON_AT
    )
    LineItem.objects.create(
        deal=deal, product=yearly, name="Platform", quantity=2, unit_price=500, discount_percent=10
    )
    LineItem.objects.create(deal=deal, product=setup, name="Setup", quantity=1, unit_price=300)
    # when it is won
    deals.mark_won(deal=deal, by=world.rep1, at=WON_AT)
    # then one renewal for the recurring part, due a term after the win
    renewal = Deal.objects.get(parent=deal)
    assert (renewal.kind, renewal.status, renewal.amount, renewal.amount_base) == (
        "renewal",
        "open",
        Decimal("900.00"),
        Decimal("900.00"),
    )
    assert (renewal.pipeline.name, renewal.stage.name) == ("Renewals and upsells", "Up for renewal")
    assert renewal.expected_close_date == date(2027, 11, 10)
    assert (renewal.owner_id, renewal.company_id) == (world.rep1.pk, world.acme.pk)
    assert list(renewal.deal_contacts.values_list("contact_id", flat=True)) == [
        world.rep1_contact.pk
    ]
    deal.refresh_from_db()
    assert aftersale.create_renewal(deal=deal, at=WON_AT) is None
    assert Deal.objects.filter(parent=deal, kind="renewal").count() == 1


def test_a_deal_without_recurring_items_has_no_renewal(world: World) -> None:
    deal = won_deal(world)
    assert aftersale.create_renewal(deal=deal) is None
    assert not Deal.objects.filter(parent=deal).exists()


def test_add_months_clamps_to_the_month_end() -> None:
    assert aftersale.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert aftersale.add_months(date(2026, 11, 10), 14) == date(2028, 1, 10)


def test_an_upsell_continues_a_won_deal(world: World) -> None:
    deal = won_deal(world)
    upsell = aftersale.create_upsell(
        deal=deal, by=world.rep1, name="More seats", amount=Decimal("2500")
    )
    assert (upsell.kind, upsell.parent_id, upsell.amount, upsell.owner_id) == (
        "upsell",
        deal.pk,
        Decimal("2500.00"),
        world.rep1.pk,
    )
    assert upsell.pipeline.name == "Renewals and upsells"
    with pytest.raises(InvalidInput):
        aftersale.create_upsell(
            deal=DealFactory(owner=world.rep1), by=world.rep1, name="x", amount=Decimal(1)
        )


# ---------------------------------------------------------------- referrals


def test_a_won_referral_credits_the_referrer_once_and_makes_them_an_evangelist(
    world: World,
) -> None:
    referrer = ContactFactory(email="fan@initech.com", lifecycle_stage="customer")
    deal = won_deal(world, referred_by=referrer)
    referrer.refresh_from_db()
    assert referrer.lifecycle_stage == "evangelist"
    event = TimelineEvent.objects.get(type="referral_credited")
    assert (event.contact_id, event.properties["deal_id"]) == (referrer.pk, deal.pk)
    assert aftersale.credit_referral(deal=deal) is False
    assert TimelineEvent.objects.filter(type="referral_credited").count() == 1


def test_a_referrer_who_is_not_a_customer_keeps_their_stage(world: World) -> None:
    referrer = ContactFactory(email="friend@initech.com", lifecycle_stage="lead")
    won_deal(world, referred_by=referrer)
    referrer.refresh_from_db()
    assert referrer.lifecycle_stage == "lead"
    assert TimelineEvent.objects.filter(type="referral_credited", contact=referrer).count() == 1


def test_the_referrals_leaderboard(world: World, django_assert_max_num_queries: Any) -> None:
    fan = ContactFactory(email="fan@initech.com", lifecycle_stage="customer")
    other = ContactFactory(email="other@initech.com", lifecycle_stage="customer")
    won_deal(world, referred_by=fan, amount=Decimal("5000"), amount_base=Decimal("5000"))
    won_deal(world, referred_by=fan, amount=Decimal("1000"), amount_base=Decimal("1000"))
    DealFactory(owner=world.rep1, referred_by=fan)
    won_deal(world, referred_by=other, amount=Decimal("7000"), amount_base=Decimal("7000"))
    DealFactory(owner=world.rep3, referred_by=other)
    with django_assert_max_num_queries(2):
        rows = queries.referrals(user=world.marketer)
    assert [(r.referrer.email, r.deals, r.won, r.won_revenue, r.open) for r in rows] == [
        ("other@initech.com", 2, 1, Decimal("7000.00"), 1),
        ("fan@initech.com", 3, 2, Decimal("6000.00"), 1),
    ]
    rep1_rows = queries.referrals(user=world.rep1)
    assert [(r.referrer.email, r.deals) for r in rep1_rows] == [
        ("other@initech.com", 1),
        ("fan@initech.com", 3),
    ]
