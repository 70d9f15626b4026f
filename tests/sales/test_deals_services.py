"""Deal services: stage transitions, lifecycle effects, money, line items, source campaign."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tandem import bus
from tandem.crm.models import Contact, LifecycleChange, TimelineEvent
from tandem.crm.services import log_activity
from tandem.errors import Forbidden, InvalidInput
from tandem.sales.models import (
    Deal,
    DealContact,
    ExchangeRate,
    LineItem,
    LostReason,
    Product,
    StageChange,
)
from tandem.sales.queries import deals as queries
from tandem.sales.services import deals as svc
from tests.conftest import World
from tests.crm.factories import ContactFactory
from tests.marketing.factories import CampaignFactory, TouchpointFactory
from tests.sales.factories import DealFactory, default_pipeline, stage

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def reason(name: str = "Price") -> LostReason:
    return LostReason.objects.get(name=name)


def new_deal(world: World, **kwargs: Any) -> Deal:
    kwargs.setdefault("by", world.rep1)
    kwargs.setdefault("name", "Acme rollout")
    kwargs.setdefault("amount", Decimal("1000"))
    kwargs.setdefault("at", T0)
    return svc.create_deal(**kwargs)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The domain events the services publish (handlers are not run)."""
    events: list[Any] = []
    original = bus.publish

    def spy(event: Any) -> None:
        events.append(event)
        original(event)

    monkeypatch.setattr(bus, "publish", spy)
    return events


# ---------------------------------------------------------------- money


def test_to_base_converts_with_the_exchange_rate_and_rounds_to_cents(db: Any) -> None:
    assert svc.to_base(amount=Decimal("1000.00"), currency="EUR") == Decimal("1080.00")
    assert svc.to_base(amount=Decimal("0.05"), currency="GBP") == Decimal("0.06")  # 0.0635
    assert svc.to_base(amount=Decimal("12.34"), currency="USD") == Decimal("12.34")


def test_to_base_refuses_an_unknown_currency_naming_it(db: Any) -> None:
    with pytest.raises(InvalidInput, match="currency JPY has no exchange rate") as err:
        svc.to_base(amount=Decimal(1), currency="JPY")
    assert err.value.field == "currency"


def test_create_writes_amount_base_from_the_rate(world: World) -> None:
    deal = new_deal(world, amount="2500", currency="eur")
    assert (deal.currency, deal.amount, deal.amount_base) == (
        "EUR",
        Decimal("2500.00"),
        Decimal("2700.00"),
    )


def test_update_of_amount_or_currency_rewrites_amount_base(world: World) -> None:
    deal = new_deal(world, amount="1000")
    svc.update_deal(deal=deal, changes={"currency": "GBP"}, by=world.rep1)
    assert Deal.objects.get(pk=deal.pk).amount_base == Decimal("1270.00")
    ExchangeRate.objects.filter(currency="GBP").update(rate=Decimal("1.3"))
    svc.update_deal(deal=deal, changes={"amount": "2000"}, by=world.rep1)
    assert Deal.objects.values_list("amount", "amount_base").get(pk=deal.pk) == (
        Decimal("2000.00"),
        Decimal("2600.00"),
    )


def test_negative_or_unparseable_amounts_are_refused_naming_amount(world: World) -> None:
    for bad in ("-5", "lots"):
        with pytest.raises(InvalidInput) as err:
            new_deal(world, amount=bad)
        assert err.value.field == "amount"


# ---------------------------------------------------------------- create


def test_create_defaults_owner_team_pipeline_and_first_stage(world: World, published: list) -> None:
    deal = new_deal(world)
    assert (deal.owner, deal.team, deal.pipeline.name, deal.stage.name, deal.status) == (
        world.rep1,
        world.east,
        "New business",
        "Discovery",
        "open",
    )
    assert (deal.created_at, deal.stage_entered_at, deal.closed_at) == (T0, T0, None)
    change = StageChange.objects.get(deal=deal)
    assert (change.kind, change.from_stage, change.to_stage.name, change.to_status) == (
        "created",
        None,
        "Discovery",
        "open",
    )
    assert (change.changed_by, change.amount_base) == (world.rep1, Decimal("1000.00"))
    assert bus.DealCreated(deal_id=deal.pk) in published


def test_a_sql_contact_becomes_an_opportunity_when_its_deal_is_created(world: World) -> None:
    sql = ContactFactory(lifecycle_stage="sql", owner=world.rep1, team=world.east)
    lead = ContactFactory(lifecycle_stage="lead", owner=world.rep1, team=world.east)
    customer = ContactFactory(lifecycle_stage="customer", owner=world.rep1, team=world.east)
    disqualified = ContactFactory(lifecycle_stage="disqualified", owner=world.rep1, team=world.east)
    new_deal(
        world,
        name="Big one",
        contacts=[(sql, "champion"), (lead, "user"), (customer, ""), (disqualified, "other")],
    )
    stages = dict(
        Contact.objects.filter(pk__in=[sql.pk, lead.pk, customer.pk, disqualified.pk]).values_list(
            "pk", "lifecycle_stage"
        )
    )
    assert stages == {
        sql.pk: "opportunity",
        lead.pk: "opportunity",
        customer.pk: "customer",
        disqualified.pk: "disqualified",
    }
    change = LifecycleChange.objects.get(contact=sql)
    assert (change.from_stage, change.to_stage, change.rule, change.changed_at) == (
        "sql",
        "opportunity",
        "Deal created: Big one",
        T0,
    )


def test_create_records_deal_created_on_each_contact_and_roles(world: World) -> None:
    other = ContactFactory(owner=world.rep1, team=world.east)
    deal = new_deal(world, contacts=[(world.rep1_contact, "champion"), (other, "decision_maker")])
    roles = list(
        DealContact.objects.filter(deal=deal)
        .order_by("id")
        .values_list("contact_id", "role", "is_primary")
    )
    assert roles == [
        (world.rep1_contact.pk, "champion", True),
        (other.pk, "decision_maker", False),
    ]
    event = TimelineEvent.objects.get(type="deal_created", contact=world.rep1_contact)
    assert event.properties == {
        "deal_id": deal.pk,
        "name": "Acme rollout",
        "amount": "1000.00",
        "currency": "USD",
    }
    assert TimelineEvent.objects.filter(type="deal_created", contact=other).count() == 1


def test_source_campaign_is_the_contacts_last_touch_before_the_deal(world: World) -> None:
    early, late, after = CampaignFactory(), CampaignFactory(), CampaignFactory()
    other = ContactFactory(owner=world.rep1, team=world.east)
    TouchpointFactory(contact=world.rep1_contact, campaign=early, occurred_at=T0 - 9 * DAY)
    TouchpointFactory(contact=other, campaign=late, channel="webinar", occurred_at=T0 - 2 * DAY)
    TouchpointFactory(contact=other, campaign=after, occurred_at=T0 + DAY)
    TouchpointFactory(contact=world.rep3_contact, campaign=after, occurred_at=T0 - DAY)
    deal = new_deal(world, contacts=[(world.rep1_contact, "champion"), (other, "user")])
    assert (deal.source_campaign, deal.source_channel) == (late, "webinar")


def test_no_touch_leaves_the_source_blank(world: World) -> None:
    deal = new_deal(world, contacts=[(world.rep1_contact, "champion")])
    assert (deal.source_campaign, deal.source_channel) == (None, "")


def test_creating_straight_into_won_or_lost_is_refused(world: World) -> None:
    for name in ("Closed Won", "Closed Lost"):
        with pytest.raises(InvalidInput, match="create it open") as err:
            new_deal(world, stage=stage(name))
        assert err.value.field == "stage"


def test_a_stage_of_another_pipeline_is_refused(world: World) -> None:
    renewals = default_pipeline().__class__.objects.get(name="Renewals and upsells")
    with pytest.raises(InvalidInput, match="not a stage of pipeline New business"):
        new_deal(world, pipeline=default_pipeline(), stage=renewals.stages.get(position=0))


def test_marketing_may_not_create_deals_and_a_rep_only_their_own(world: World) -> None:
    with pytest.raises(Forbidden):
        new_deal(world, by=world.marketer)
    with pytest.raises(Forbidden):
        new_deal(world, by=world.rep1, owner=world.rep2)
    deal = new_deal(world, by=world.manager, owner=world.rep2)
    assert (deal.owner, deal.team) == (world.rep2, world.east)


# ---------------------------------------------------------------- update


def test_update_changes_fields_and_refuses_stage_and_unknown_keys(world: World) -> None:
    deal = new_deal(world)
    svc.update_deal(
        deal=deal,
        changes={
            "name": "Renamed",
            "expected_close_date": "2026-06-30",
            "next_step": "Send proposal",
            "competitor": "Initech",
        },
        by=world.rep1,
    )
    row = Deal.objects.get(pk=deal.pk)
    assert (row.name, row.expected_close_date, row.next_step, row.competitor) == (
        "Renamed",
        date(2026, 6, 30),
        "Send proposal",
        "Initech",
    )
    with pytest.raises(InvalidInput, match="moving, closing or reopening") as err:
        svc.update_deal(deal=deal, changes={"stage": "Demo"}, by=world.rep1)
    assert err.value.field == "stage"
    with pytest.raises(InvalidInput, match="unknown deal field") as err:
        svc.update_deal(deal=deal, changes={"colour": "red"}, by=world.rep1)
    assert err.value.field == "colour"
    with pytest.raises(InvalidInput) as err:
        svc.update_deal(deal=deal, changes={"expected_close_date": "soon"}, by=world.rep1)
    assert err.value.field == "expected_close_date"


def test_only_editors_change_a_deal(world: World) -> None:
    deal = new_deal(world)
    for user in (world.rep2, world.rep3, world.marketer):
        with pytest.raises(Forbidden):
            svc.update_deal(deal=deal, changes={"name": "x"}, by=user)
        with pytest.raises(Forbidden):
            svc.move_deal(deal=deal, stage=stage("Demo"), by=user)
    svc.update_deal(deal=deal, changes={"name": "By the manager"}, by=world.manager)
    assert Deal.objects.get(pk=deal.pk).name == "By the manager"


def test_a_manager_reassigns_within_the_team_and_the_team_follows(world: World) -> None:
    deal = new_deal(world)
    svc.update_deal(deal=deal, changes={"owner": world.rep2}, by=world.manager)
    assert Deal.objects.values_list("owner", "team").get(pk=deal.pk) == (
        world.rep2.pk,
        world.east.pk,
    )
    with pytest.raises(Forbidden):
        svc.update_deal(deal=deal, changes={"owner": world.rep3}, by=world.manager)


# ---------------------------------------------------------------- stages


def test_move_records_history_with_time_in_the_stage(world: World, published: list) -> None:
    deal = new_deal(world)
    svc.move_deal(deal=deal, stage=stage("Demo"), by=world.rep1, at=T0 + 3 * DAY)
    svc.move_deal(
        deal=deal, stage=stage("Proposal"), by=world.rep1, at=T0 + 5 * DAY + timedelta(hours=6)
    )
    rows = list(
        StageChange.objects.filter(deal=deal, kind="moved")
        .order_by("changed_at")
        .values_list("from_stage__name", "to_stage__name", "seconds_in_from_stage")
    )
    assert rows == [("Discovery", "Demo", 3 * 86400), ("Demo", "Proposal", 2 * 86400 + 6 * 3600)]
    deal.refresh_from_db()
    assert (deal.stage.name, deal.stage_entered_at) == (
        "Proposal",
        T0 + 5 * DAY + timedelta(hours=6),
    )
    assert (
        bus.DealStageChanged(
            deal_id=deal.pk,
            from_stage_id=stage("Demo").pk,
            to_stage_id=stage("Proposal").pk,
            status="open",
        )
        in published
    )


def test_moving_to_the_current_stage_changes_nothing(world: World) -> None:
    deal = new_deal(world)
    svc.move_deal(deal=deal, stage=stage("Discovery"), by=world.rep1, at=T0 + DAY)
    assert StageChange.objects.filter(deal=deal).count() == 1


def test_moving_to_another_pipelines_stage_is_refused(world: World) -> None:
    deal = new_deal(world)
    other = default_pipeline().__class__.objects.get(name="Renewals and upsells")
    with pytest.raises(InvalidInput, match="not a stage of the deal's pipeline"):
        svc.move_deal(deal=deal, stage=other.stages.get(position=0), by=world.rep1)


def test_moving_into_the_won_stage_wins_and_contacts_become_customers(world: World) -> None:
    contact = ContactFactory(lifecycle_stage="sql", owner=world.rep1, team=world.east)
    deal = new_deal(world, name="Winner", contacts=[(contact, "champion")])
    svc.move_deal(deal=deal, stage=stage("Closed Won"), by=world.rep1, at=T0 + 10 * DAY)
    deal.refresh_from_db()
    assert (deal.status, deal.stage.name, deal.closed_at) == ("won", "Closed Won", T0 + 10 * DAY)
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "customer"
    change = LifecycleChange.objects.filter(contact=contact).latest("changed_at")
    assert (change.from_stage, change.to_stage, change.rule) == (
        "opportunity",
        "customer",
        "Deal won: Winner",
    )
    won = StageChange.objects.get(deal=deal, kind="won")
    assert (won.from_stage.name, won.to_status, won.seconds_in_from_stage) == (
        "Discovery",
        "won",
        10 * 86400,
    )
    assert TimelineEvent.objects.filter(type="deal_won", contact=contact).count() == 1


def test_winning_starts_onboarding(world: World) -> None:
    deal = new_deal(world, contacts=[(world.rep1_contact, "champion")])
    svc.mark_won(deal=deal, by=world.rep1, at=T0 + DAY)
    assert deal.onboarding_steps.count() == 5


def test_winning_twice_is_a_no_op(world: World) -> None:
    deal = new_deal(world)
    svc.mark_won(deal=deal, by=world.rep1, at=T0 + DAY)
    svc.mark_won(deal=deal, by=world.rep1, at=T0 + 2 * DAY)
    assert StageChange.objects.filter(deal=deal, kind="won").count() == 1
    assert Deal.objects.get(pk=deal.pk).closed_at == T0 + DAY


def test_losing_needs_a_reason(world: World) -> None:
    deal = new_deal(world)
    with pytest.raises(InvalidInput, match="lost_reason is required") as err:
        svc.move_deal(deal=deal, stage=stage("Closed Lost"), by=world.rep1)
    assert err.value.field == "lost_reason"
    assert Deal.objects.get(pk=deal.pk).status == "open"


def test_losing_keeps_reason_note_and_competitor(world: World, published: list) -> None:
    deal = new_deal(world, contacts=[(world.rep1_contact, "champion")])
    svc.move_deal(
        deal=deal,
        stage=stage("Closed Lost"),
        by=world.rep1,
        at=T0 + 4 * DAY,
        lost_reason=reason("Chose a competitor"),
        lost_note="Cheaper",
        competitor="Initech",
    )
    deal.refresh_from_db()
    assert (deal.status, deal.stage.name, deal.closed_at) == ("lost", "Closed Lost", T0 + 4 * DAY)
    assert (deal.lost_reason.name, deal.lost_note, deal.competitor) == (
        "Chose a competitor",
        "Cheaper",
        "Initech",
    )
    assert Contact.objects.get(pk=world.rep1_contact.pk).lifecycle_stage == "opportunity"
    assert (
        bus.DealStageChanged(
            deal_id=deal.pk,
            from_stage_id=stage("Discovery").pk,
            to_stage_id=stage("Closed Lost").pk,
            status="lost",
        )
        in published
    )


def test_moving_a_closed_deal_needs_a_reopen_first(world: World) -> None:
    deal = new_deal(world)
    svc.mark_lost(deal=deal, by=world.rep1, reason=reason(), at=T0 + DAY)
    with pytest.raises(InvalidInput, match="reopen the deal first"):
        svc.move_deal(deal=deal, stage=stage("Demo"), by=world.rep1)
    with pytest.raises(InvalidInput, match="reopen the deal first"):
        svc.mark_won(deal=deal, by=world.rep1)


def test_reopen_returns_to_the_last_open_stage_and_is_recorded(world: World) -> None:
    deal = new_deal(world, contacts=[(world.rep1_contact, "champion")])
    svc.move_deal(deal=deal, stage=stage("Negotiation"), by=world.rep1, at=T0 + DAY)
    svc.mark_won(deal=deal, by=world.rep1, at=T0 + 2 * DAY)
    svc.reopen_deal(deal=deal, by=world.rep1, at=T0 + 5 * DAY)
    deal.refresh_from_db()
    assert (deal.status, deal.stage.name, deal.closed_at, deal.stage_entered_at) == (
        "open",
        "Negotiation",
        None,
        T0 + 5 * DAY,
    )
    reopened = StageChange.objects.get(deal=deal, kind="reopened")
    assert (reopened.from_stage.name, reopened.from_status, reopened.to_status) == (
        "Closed Won",
        "won",
        "open",
    )
    assert reopened.seconds_in_from_stage == 3 * 86400
    # The lifecycle is not moved back.
    assert Contact.objects.get(pk=world.rep1_contact.pk).lifecycle_stage == "customer"


def test_reopen_clears_the_lost_fields_and_takes_a_chosen_stage(world: World) -> None:
    deal = new_deal(world)
    svc.mark_lost(deal=deal, by=world.rep1, reason=reason(), note="too dear", at=T0 + DAY)
    svc.reopen_deal(deal=deal, by=world.rep1, stage=stage("Proposal"), at=T0 + 2 * DAY)
    deal.refresh_from_db()
    assert (deal.stage.name, deal.lost_reason, deal.lost_note) == ("Proposal", None, "")
    with pytest.raises(InvalidInput, match="open already"):
        svc.reopen_deal(deal=deal, by=world.rep1)


# ---------------------------------------------------------------- contacts and items


def test_adding_a_contact_makes_them_an_opportunity_and_primary_moves(world: World) -> None:
    deal = new_deal(world, contacts=[(world.rep1_contact, "champion")])
    sql = ContactFactory(lifecycle_stage="sql", owner=world.rep1, team=world.east)
    svc.set_deal_contact(
        deal=deal, contact=sql, role="economic_buyer", is_primary=True, by=world.rep1
    )
    assert Contact.objects.get(pk=sql.pk).lifecycle_stage == "opportunity"
    assert dict(DealContact.objects.filter(deal=deal).values_list("contact_id", "is_primary")) == {
        world.rep1_contact.pk: False,
        sql.pk: True,
    }
    svc.remove_deal_contact(deal=deal, contact=sql, by=world.rep1)
    assert list(DealContact.objects.filter(deal=deal).values_list("contact_id", "is_primary")) == [
        (world.rep1_contact.pk, True)
    ]
    with pytest.raises(InvalidInput) as err:
        svc.set_deal_contact(deal=deal, contact=sql, role="boss", by=world.rep1)
    assert err.value.field == "role"


def test_line_items_set_the_amount_to_their_discounted_total(world: World) -> None:
    product = Product.objects.create(
        name="Seat", sku="SEAT", unit_price=Decimal("120.00"), term_months=12
    )
    deal = new_deal(world, amount="1", currency="EUR")
    product.currency = "EUR"
    product.save()
    svc.set_line_items(
        deal=deal,
        items=[
            {"product_id": product.pk, "quantity": "3", "discount_percent": "10"},  # 324.00
            {
                "name": "Setup",
                "quantity": 1,
                "unit_price": "99.99",
                "discount_percent": "12.5",
            },  # 87.49125
        ],
        by=world.rep1,
    )
    deal.refresh_from_db()
    assert (deal.amount, deal.amount_base) == (Decimal("411.49"), Decimal("444.41"))
    items = list(LineItem.objects.filter(deal=deal).values_list("name", "unit_price", "position"))
    assert items == [("Seat", Decimal("120.00"), 0), ("Setup", Decimal("99.99"), 1)]
    with pytest.raises(InvalidInput, match="amount comes from the line items"):
        svc.update_deal(deal=deal, changes={"amount": "5"}, by=world.rep1)


def test_bad_line_items_name_the_field(world: World) -> None:
    deal = new_deal(world)
    product = Product.objects.create(
        name="Gizmo", sku="GIZ", unit_price=Decimal("10"), currency="GBP"
    )
    cases = [
        ({"name": "x"}, "unit_price"),
        ({"name": "x", "unit_price": "1", "quantity": "0"}, "quantity"),
        ({"name": "x", "unit_price": "1", "discount_percent": "101"}, "discount_percent"),
        ({"product_id": 999999}, "product_id"),
        ({"product_id": product.pk}, "unit_price"),  # priced in GBP, the deal in USD
        ({"unit_price": "1"}, "name"),
    ]
    for item, field in cases:
        with pytest.raises(InvalidInput) as err:
            svc.set_line_items(deal=deal, items=[item], by=world.rep1)
        assert err.value.field == field, item


# ---------------------------------------------------------------- queries


def test_time_in_stage_adds_up_visits_and_counts_the_current_stage(world: World) -> None:
    deal = new_deal(world)
    svc.move_deal(deal=deal, stage=stage("Demo"), by=world.rep1, at=T0 + 2 * DAY)
    svc.move_deal(deal=deal, stage=stage("Discovery"), by=world.rep1, at=T0 + 3 * DAY)
    svc.move_deal(deal=deal, stage=stage("Demo"), by=world.rep1, at=T0 + 4 * DAY)
    rows = queries.time_in_stage(deal=deal, now=T0 + 5 * DAY + timedelta(hours=12))
    assert [(r["name"], r["days"], r["visits"], r["current"]) for r in rows] == [
        ("Discovery", 3.0, 2, False),
        ("Demo", 2.5, 2, True),
        ("Proposal", 0.0, 0, False),
        ("Negotiation", 0.0, 0, False),
        ("Closed Won", 0.0, 0, False),
        ("Closed Lost", 0.0, 0, False),
    ]


def test_deal_timeline_merges_history_and_activities_newest_first(world: World) -> None:
    deal = new_deal(world, contacts=[(world.rep1_contact, "champion")])
    svc.move_deal(deal=deal, stage=stage("Demo"), by=world.rep1, at=T0 + 2 * DAY)
    log_activity(
        kind="call",
        by=world.rep1,
        contact=world.rep1_contact,
        subject="Discovery call",
        occurred_at=T0 + DAY,
        deal_id=deal.pk,
    )
    rows = queries.deal_timeline(deal=deal)
    assert [(r["at"], r["kind"], r["title"], r["actor"]) for r in rows] == [
        (T0 + 2 * DAY, "stage_moved", "Moved from Discovery to Demo", "Riley"),
        (T0 + DAY, "activity_call", "Call: Discovery call", "Riley"),
        (T0, "stage_created", "Deal created in Discovery", "Riley"),
    ]
    assert rows[0]["detail"] == "after 2.0 days in the stage"


def test_deal_for_hides_other_peoples_deals(world: World) -> None:
    from django.http import Http404

    theirs = DealFactory(owner=world.rep3)
    with pytest.raises(Http404):
        queries.deal_for(world.rep1, theirs.pk)
    assert queries.deal_for(world.marketer, theirs.pk) == theirs


def test_deal_timeline_shows_content_insights_and_the_contacts_deal_events(world: World) -> None:
    from tandem.crm.services import record_event
    from tandem.sales.models import ContentUse, Insight
    from tests.marketing.factories import ContentAssetFactory

    # Given a deal with a shared asset, an objection and a contact event about this deal
    deal = new_deal(world, contacts=[(world.rep1_contact, "champion")])
    other = new_deal(world, name="Other deal", contacts=[(world.rep1_contact, "user")])
    asset = ContentAssetFactory(title="ROI calculator", audience="enablement")
    ContentUse.objects.create(
        asset=asset,
        deal=deal,
        kind="sent",
        user=world.rep1,
        note="After the demo",
        used_at=T0 + DAY,
    )
    Insight.objects.create(
        deal=deal,
        kind="competitor",
        text="They also look at Initech",
        competitor="Initech",
        author=world.rep1,
        created_at=T0 + 2 * DAY,
    )
    record_event(
        type="referral_credited",
        idempotency_key="t:1",
        contact=world.rep1_contact,
        occurred_at=T0 + 3 * DAY,
        properties={"deal_id": deal.pk, "name": "Acme rollout"},
    )
    record_event(
        type="referral_credited",
        idempotency_key="t:2",
        contact=world.rep1_contact,
        occurred_at=T0 + 3 * DAY,
        properties={"deal_id": other.pk, "name": "Other deal"},
    )
    # When the timeline is read
    rows = queries.deal_timeline(deal=deal)
    # Then each appears once, newest first, and the other deal's event does not
    assert [(r["kind"], r["title"], r["detail"]) for r in rows] == [
        ("referral_credited", "Referral credited", "Acme rollout"),
        ("insight_competitor", "Competitor mention: Initech", "They also look at Initech"),
        ("content_sent", "Sent ROI calculator", "After the demo"),
        ("stage_created", "Deal created in Discovery", ""),
    ]
    assert len(queries.deal_timeline(deal=deal, limit=2)) == 2
