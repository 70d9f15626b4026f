"""Qualification and routing: the MQL rule, first-match rules, round-robin and capacity fairness."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.utils import timezone

from tandem.accounts.services import create_user
from tandem.crm.models import Contact, LifecycleChange
from tandem.errors import Forbidden, InvalidInput
from tandem.leads.models import (
    AssignmentStatus,
    LeadAssignment,
    LeadScore,
    Notification,
    RepCapacity,
    RoutingMethod,
    RoutingRule,
    Segment,
    SegmentMembership,
)
from tandem.leads.services import handoff, routing
from tandem.leads.services.settings import update_lead_settings
from tandem.marketing.models import FormSubmission
from tests.conftest import World
from tests.crm.factories import CompanyFactory, ContactFactory
from tests.marketing.factories import CampaignFactory, FormFactory, TouchpointFactory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def east_rule(world: World, **extra: Any) -> RoutingRule:
    """Leads of US/CA companies go to Sales East."""
    return RoutingRule.objects.create(
        name=extra.pop("name", "East"),
        position=extra.pop("position", 10),
        territory=world.east.territories.get(),
        team=world.east,
        **extra,
    )


def lead(country: str = "US", *, employees: int | None = None, **fields: Any) -> Contact:
    company = CompanyFactory(country=country, employees=employees)
    return ContactFactory(company=company, **fields)


def score(contact: Contact, *, fit: int, engagement: int, probability: float | None = None) -> None:
    LeadScore.objects.create(
        contact=contact,
        fit=fit,
        engagement=engagement,
        total=fit + engagement,
        probability=probability,
        computed_at=NOW,
    )


def route_many(n: int, **kwargs: Any) -> list[LeadAssignment]:
    return [
        handoff.route_lead(contact=lead(**kwargs), qualified_by="test", now=NOW) for _ in range(n)
    ]


# ---------------------------------------------------------------- rules


def test_first_matching_rule_wins_in_position_order(world: World) -> None:
    # Given a broad catch-all after a narrower West rule, and an inactive rule first
    RoutingRule.objects.create(name="Off", position=1, team=world.west, is_active=False)
    RoutingRule.objects.create(
        name="EMEA",
        position=5,
        territory=world.west.territories.get(),
        team=world.west,
    )
    RoutingRule.objects.create(name="Everyone", position=9, team=world.east)
    # When a German and a US lead are routed
    de = handoff.route_lead(contact=lead("DE"), qualified_by="t", now=NOW)
    us = handoff.route_lead(contact=lead("US"), qualified_by="t", now=NOW)
    # Then the German lead takes the EMEA rule, the US lead falls through to the catch-all
    assert (de.team, de.rep, de.routing_rule.name) == (world.west, world.rep3, "EMEA")
    assert (us.team, us.routing_rule.name) == (world.east, "Everyone")
    assert us.rep in (world.rep1, world.rep2)


def test_rules_match_on_region_size_persona_and_segment(world: World) -> None:
    segment = Segment.objects.create(name="Key accounts", kind="static")
    RoutingRule.objects.create(name="Seg", position=1, segment=segment, team=world.west)
    RoutingRule.objects.create(
        name="Big", position=2, min_employees=1000, max_employees=5000, team=world.west
    )
    RoutingRule.objects.create(name="Persona", position=3, persona_id=77, team=world.west)
    east_rule(world, position=4)
    in_segment = lead("US")
    SegmentMembership.objects.create(segment=segment, contact=in_segment, entered_at=NOW)
    left_segment = lead("US")
    SegmentMembership.objects.create(
        segment=segment, contact=left_segment, entered_at=NOW, left_at=NOW
    )
    by_region = ContactFactory(company=CompanyFactory(country="", region="us-east"))
    cases = {
        "segment": (in_segment, "Seg"),
        "left segment": (left_segment, "East"),
        "big": (lead("US", employees=2000), "Big"),
        "too big": (lead("US", employees=5001), "East"),
        "persona": (lead("US", persona_id=77), "Persona"),
        "region": (by_region, "East"),
    }
    for label, (contact, expected) in cases.items():
        assert routing.match_rule(contact=contact).name == expected, label
    assert routing.match_rule(contact=lead("JP")) is None


def test_no_matching_rule_leaves_the_lead_unrouted_and_tells_managers(world: World) -> None:
    east_rule(world)
    contact = lead("JP")
    assignment = handoff.route_lead(contact=contact, qualified_by="t", now=NOW)
    assert assignment.status == AssignmentStatus.UNROUTED
    assert (assignment.rep, assignment.team, assignment.accept_due_at) == (None, None, None)
    notes = Notification.objects.filter(kind="lead_unrouted")
    assert [n.user for n in notes] == [world.manager]
    assert "no routing rule matches" in notes[0].text
    contact.refresh_from_db()
    assert contact.owner is None


# ---------------------------------------------------------------- fairness


def test_round_robin_spreads_leads_evenly_even_at_one_instant(world: World) -> None:
    east_rule(world)
    rep4 = create_user(username="rep4", password="pw-rep4-123", role="sales_rep", team=world.east)
    assignments = route_many(10)
    counts = Counter(a.rep.username for a in assignments)
    assert counts == {"rep1": 4, "rep2": 3, "rep4": 3}
    # Strict rotation: never the same rep twice in a row.
    order = [a.rep_id for a in assignments]
    assert order[:3] == sorted([world.rep1.pk, world.rep2.pk, rep4.pk])
    assert all(x != y for x, y in pairwise(order))


def test_round_robin_resumes_from_the_stored_pointer(world: World) -> None:
    east_rule(world)
    RepCapacity.objects.create(user=world.rep1, last_assigned_at=NOW - timedelta(hours=1))
    RepCapacity.objects.create(user=world.rep2, last_assigned_at=NOW - timedelta(hours=2))
    first = route_many(1)[0]
    assert first.rep == world.rep2


def test_away_reps_are_skipped(world: World) -> None:
    east_rule(world)
    world.rep2.is_away = True
    world.rep2.save()
    assignments = route_many(4)
    assert {a.rep for a in assignments} == {world.rep1}


def test_capacity_is_respected_and_full_team_goes_unrouted(world: World) -> None:
    # Given rep1 may hold 2 open leads and rep2 3
    east_rule(world, method=RoutingMethod.CAPACITY)
    RepCapacity.objects.create(user=world.rep1, max_open_leads=2)
    RepCapacity.objects.create(user=world.rep2, max_open_leads=3)
    # When 7 leads arrive
    assignments = route_many(7)
    # Then each rep is filled to capacity and the rest wait, unrouted, for the manager
    counts = Counter(a.rep.username if a.rep else None for a in assignments)
    assert counts == {"rep1": 2, "rep2": 3, None: 2}
    unrouted = [a for a in assignments if a.rep is None]
    assert {a.status for a in unrouted} == {AssignmentStatus.UNROUTED}
    assert {a.team for a in unrouted} == {world.east}
    texts = list(Notification.objects.filter(kind="lead_unrouted").values_list("user", "text"))
    assert len(texts) == 2
    assert all(u == world.manager.pk and "no available rep in Sales East" in t for u, t in texts)


def test_capacity_method_balances_by_open_leads(world: World) -> None:
    # Given rep1 already owns 3 open leads (two MQLs, one SQL) and a customer (not open)
    east_rule(world, method=RoutingMethod.CAPACITY)
    for stage in ("mql", "mql", "sql", "customer"):
        ContactFactory(owner=world.rep1, team=world.east, lifecycle_stage=stage)
    # When 5 leads arrive
    assignments = route_many(5)
    # Then rep2 catches up first (3 leads), then they alternate
    assert [a.rep.username for a in assignments] == ["rep2", "rep2", "rep2", "rep1", "rep2"]
    loads = {
        load.rep.username: load.open_leads
        for load in routing.rep_loads(
            reps=[world.rep1, world.rep2], settings=handoff.lead_settings()
        )
    }
    assert loads == {"rep1": 4, "rep2": 4}


def test_default_capacity_applies_without_a_capacity_row(world: World) -> None:
    east_rule(world)
    update_lead_settings(changes={"default_capacity": 1})
    counts = Counter(a.rep.username if a.rep else None for a in route_many(3))
    assert counts == {"rep1": 1, "rep2": 1, None: 1}


def test_routing_hands_the_contact_over_with_both_clocks_and_a_notice(world: World) -> None:
    east_rule(world)
    campaign = CampaignFactory()
    contact = lead("US", persona_id=5, original_source="paid_search")
    TouchpointFactory(contact=contact, campaign=campaign, occurred_at=NOW - timedelta(days=1))
    a = handoff.route_lead(contact=contact, qualified_by="MQL rule: x", now=NOW)
    contact.refresh_from_db()
    assert (contact.owner, contact.team) == (a.rep, world.east)
    assert a.accept_due_at == NOW + timedelta(hours=24)
    assert a.first_touch_due_at == NOW + timedelta(hours=48)
    assert (a.source, a.campaign_id, a.persona_id) == ("paid_search", campaign.pk, 5)
    note = Notification.objects.get(user=a.rep)
    assert note.kind == "lead_assigned"
    assert note.idempotency_key == f"lead:{a.pk}:assigned"
    # Routing again keeps the pending assignment.
    assert handoff.route_lead(contact=contact, qualified_by="again", now=NOW) == a
    assert LeadAssignment.objects.filter(contact=contact).count() == 1


def test_notify_is_idempotent(world: World) -> None:
    args = {"user": world.rep1, "kind": "k", "text": "hi", "key": "same", "now": NOW}
    assert handoff.notify(**args) is True
    assert handoff.notify(**args) is False
    assert Notification.objects.count() == 1


# ---------------------------------------------------------------- qualification


def test_scores_over_both_thresholds_make_an_mql_and_route_it(world: World) -> None:
    east_rule(world)
    hot = lead("US")
    score(hot, fit=52, engagement=35)
    lukewarm = lead("US")
    score(lukewarm, fit=52, engagement=29)
    unscored = lead("US")
    customer = lead("US", lifecycle_stage="customer")
    score(customer, fit=90, engagement=90)
    ids = [hot.pk, lukewarm.pk, unscored.pk, customer.pk]
    assert handoff.qualify_contacts(contact_ids=ids, now=NOW) == [hot.pk]
    hot.refresh_from_db()
    assert hot.lifecycle_stage == "mql"
    change = LifecycleChange.objects.get(contact=hot)
    assert change.rule == "MQL rule: fit 52 ≥ 40 and engagement 35 ≥ 30"
    assert (change.from_stage, change.to_stage, change.changed_at) == ("lead", "mql", NOW)
    assignment = LeadAssignment.objects.get(contact=hot)
    assert assignment.qualified_by == change.rule
    assert assignment.status == AssignmentStatus.PENDING
    # A re-run changes nothing.
    assert handoff.qualify_contacts(contact_ids=ids, now=NOW) == []
    assert LeadAssignment.objects.count() == 1
    assert LifecycleChange.objects.filter(contact=hot).count() == 1


def test_probability_rule(world: World) -> None:
    update_lead_settings(changes={"mql_probability_min": "0.75"})
    likely = lead("US", lifecycle_stage="subscriber")
    score(likely, fit=0, engagement=0, probability=0.81)
    unlikely = lead("US")
    score(unlikely, fit=0, engagement=0, probability=0.74)
    assert handoff.qualify_contacts(contact_ids=[likely.pk, unlikely.pk], now=NOW) == [likely.pk]
    assert LifecycleChange.objects.get(contact=likely).rule == "MQL rule: probability 0.810 ≥ 0.750"


def test_a_hand_raise_form_qualifies_at_once(world: World) -> None:
    demo = FormFactory(name="Demo request", is_hand_raise=True)
    guide = FormFactory(name="Guide", is_hand_raise=False)
    raised, read_guide = lead("US"), lead("US")
    FormSubmission.objects.create(form=demo, contact=raised, submitted_at=NOW)
    FormSubmission.objects.create(form=guide, contact=read_guide, submitted_at=NOW)
    moved = handoff.qualify_contacts(contact_ids=[raised.pk, read_guide.pk], now=NOW)
    assert moved == [raised.pk]
    assert LifecycleChange.objects.get(contact=raised).rule == (
        "MQL rule: Demo request form (hand-raise)"
    )
    # No rule routes it: unrouted, but still an MQL.
    assert LeadAssignment.objects.get(contact=raised).status == AssignmentStatus.UNROUTED
    # Switched off, a hand-raise alone no longer qualifies.
    update_lead_settings(changes={"mql_on_hand_raise": False})
    other = lead("US")
    FormSubmission.objects.create(form=demo, contact=other, submitted_at=NOW)
    assert handoff.qualify_contacts(contact_ids=[other.pk], now=NOW) == []


def test_a_recycled_lead_waits_for_its_recycle_date(world: World) -> None:
    east_rule(world)
    contact = lead("US")
    score(contact, fit=60, engagement=60)
    assert handoff.qualify_contacts(contact_ids=[contact.pk], now=NOW) == [contact.pk]
    rep = LeadAssignment.objects.get(contact=contact).rep
    handoff.reject_lead(
        contact=contact, by=rep, reason="not_now", recycle_on=date(2026, 4, 1), now=NOW
    )
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "lead"
    # Before the recycle date the scores alone do not bring it back...
    day_before = datetime(2026, 3, 31, 12, tzinfo=UTC)
    assert handoff.qualify_contacts(contact_ids=[contact.pk], now=day_before) == []
    # ...on the date they do.
    on_the_day = datetime(2026, 4, 1, 8, tzinfo=UTC)
    assert handoff.qualify_contacts(contact_ids=[contact.pk], now=on_the_day) == [contact.pk]
    assert LeadAssignment.objects.filter(contact=contact, status="pending").count() == 1


def test_an_undated_nurture_rejection_needs_a_new_hand_raise(world: World) -> None:
    east_rule(world)
    demo = FormFactory(name="Demo request", is_hand_raise=True)
    contact = lead("US")
    score(contact, fit=60, engagement=60)
    FormSubmission.objects.create(form=demo, contact=contact, submitted_at=NOW - timedelta(days=1))
    handoff.qualify_contacts(contact_ids=[contact.pk], now=NOW)
    rep = LeadAssignment.objects.get(contact=contact).rep
    handoff.reject_lead(contact=contact, by=rep, reason="no_budget", now=NOW)
    later = NOW + timedelta(days=30)
    # Neither the scores nor the old demo request re-qualify it.
    assert handoff.qualify_contacts(contact_ids=[contact.pk], now=later) == []
    FormSubmission.objects.create(form=demo, contact=contact, submitted_at=later)
    assert handoff.qualify_contacts(contact_ids=[contact.pk], now=later) == [contact.pk]
    last = LifecycleChange.objects.filter(contact=contact).order_by("-id").first()
    assert last.rule == "MQL rule: Demo request form (hand-raise)"


def test_qualify_with_no_ids_does_nothing(world: World) -> None:
    assert handoff.qualify_contacts(contact_ids=[], now=timezone.now()) == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "X", "team": 999999}, "team 999999 does not exist"),
        ({"name": "X"}, "team must be a sales team"),
        ({"name": "X", "team": "mkt"}, "team must be a sales team"),
        ({"name": "X", "team": "east", "colour": "red"}, "colour is not a routing rule field"),
        ({"name": "X", "team": "east", "method": "random"}, "method must be one of"),
        (
            {"name": "X", "team": "east", "min_employees": 10, "max_employees": 5},
            "min_employees must not be above max_employees",
        ),
    ],
)
def test_routing_rule_validation(world: World, values: dict[str, Any], message: str) -> None:
    teams = {"east": world.east.pk, "mkt": world.marketing_team.pk}
    values = {k: teams.get(v, v) if k == "team" else v for k, v in values.items()}
    with pytest.raises(InvalidInput) as caught:
        routing.create_routing_rule(values=values)
    assert message in str(caught.value)


def test_rep_routing_changes_need_a_manager_of_the_rep(world: World) -> None:
    routing.set_rep_routing(rep=world.rep1, by=world.manager, is_away=True, max_open_leads="7")
    world.rep1.refresh_from_db()
    assert world.rep1.is_away is True
    assert RepCapacity.objects.get(user=world.rep1).max_open_leads == 7
    with pytest.raises(Forbidden):
        routing.set_rep_routing(rep=world.rep3, by=world.manager, is_away=True)
    with pytest.raises(Forbidden):
        routing.set_rep_routing(rep=world.rep1, by=world.marketer, is_away=False)
