"""SLA clocks with frozen time: accept-by breaches, escalation, re-routing and its limit, first touch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tandem import bus
from tandem.crm.services import log_activity
from tandem.leads import handlers
from tandem.leads.models import AssignmentStatus, LeadAssignment, Notification, RoutingRule
from tandem.leads.services import handoff
from tandem.leads.services.settings import update_lead_settings
from tests.conftest import World
from tests.crm.factories import CompanyFactory, ContactFactory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def routed(world: World) -> LeadAssignment:
    RoutingRule.objects.create(name="East", team=world.east)
    contact = ContactFactory(company=CompanyFactory(country="US"), lifecycle_stage="mql")
    return handoff.route_lead(contact=contact, qualified_by="MQL rule: test", now=NOW)


def kinds(user: Any) -> list[str]:
    return list(
        Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True)
    )


def test_nothing_happens_before_the_accept_deadline(world: World) -> None:
    first = routed(world)
    result = handoff.sweep_slas(now=first.accept_due_at - SECOND)
    assert result == {"accept_breaches": 0, "rerouted": 0, "touch_breaches": 0, "routed_later": 0}
    first.refresh_from_db()
    assert (first.status, first.accept_breached_at) == (AssignmentStatus.PENDING, None)


def test_a_late_lead_is_flagged_escalated_and_rerouted_once(world: World) -> None:
    first = routed(world)
    assert first.rep == world.rep1
    late = NOW + timedelta(hours=24) + SECOND
    assert handoff.sweep_slas(now=late) == {
        "accept_breaches": 1,
        "rerouted": 1,
        "touch_breaches": 0,
        "routed_later": 0,
    }
    first.refresh_from_db()
    assert first.status == AssignmentStatus.REROUTED
    assert first.accept_breached_at == late
    assert first.escalated_at == late
    second = LeadAssignment.objects.get(contact=first.contact, status=AssignmentStatus.PENDING)
    assert (second.rep, second.attempt, second.team) == (world.rep2, 2, world.east)
    assert second.assigned_at == late
    assert second.accept_due_at == late + timedelta(hours=24)
    assert second.qualified_by == "MQL rule: test"
    second.contact.refresh_from_db()
    assert second.contact.owner == world.rep2
    assert kinds(world.manager) == ["sla_accept_breach"]
    assert kinds(world.rep1) == ["lead_assigned", "lead_rerouted"]
    assert kinds(world.rep2) == ["lead_assigned"]
    # An overlapping run at the same moment does nothing twice.
    assert handoff.sweep_slas(now=late) == {
        "accept_breaches": 0,
        "rerouted": 0,
        "touch_breaches": 0,
        "routed_later": 0,
    }
    assert LeadAssignment.objects.filter(contact=first.contact).count() == 2


def test_rerouting_stops_at_max_reroutes(world: World) -> None:
    update_lead_settings(changes={"max_reroutes": 1})
    first = routed(world)
    t1 = NOW + timedelta(hours=25)
    handoff.sweep_slas(now=t1)
    second = LeadAssignment.objects.get(contact=first.contact, status=AssignmentStatus.PENDING)
    assert second.attempt == 2
    t2 = t1 + timedelta(hours=25)
    assert handoff.sweep_slas(now=t2) == {
        "accept_breaches": 1,
        "rerouted": 0,
        "touch_breaches": 0,
        "routed_later": 0,
    }
    second.refresh_from_db()
    # Flagged and escalated, but it stays with rep2: the manager decides now.
    assert second.status == AssignmentStatus.PENDING
    assert second.accept_breached_at == t2
    assert kinds(world.manager) == ["sla_accept_breach", "sla_accept_breach"]
    assert LeadAssignment.objects.filter(contact=first.contact).count() == 2


def test_no_other_rep_available_keeps_the_lead_with_its_rep(world: World) -> None:
    first = routed(world)
    world.rep2.is_away = True
    world.rep2.save()
    late = NOW + timedelta(hours=30)
    assert handoff.sweep_slas(now=late)["rerouted"] == 0
    first.refresh_from_db()
    assert (first.status, first.rep, first.accept_breached_at) == ("pending", world.rep1, late)


def test_accepted_without_a_first_touch_breaches_the_touch_sla(world: World) -> None:
    first = routed(world)
    handoff.accept_lead(contact=first.contact, by=world.rep1, now=NOW + timedelta(hours=1))
    due = NOW + timedelta(hours=48)
    assert handoff.sweep_slas(now=due)["touch_breaches"] == 0
    assert handoff.sweep_slas(now=due + SECOND)["touch_breaches"] == 1
    first.refresh_from_db()
    assert first.touch_breached_at == due + SECOND
    assert first.escalated_at == due + SECOND
    assert kinds(world.manager) == ["sla_touch_breach"]
    assert handoff.sweep_slas(now=due + timedelta(hours=5))["touch_breaches"] == 0


def test_a_first_touch_in_time_stops_the_clock(world: World) -> None:
    first = routed(world)
    handoff.accept_lead(contact=first.contact, by=world.rep1, now=NOW + timedelta(hours=1))
    touched = NOW + timedelta(hours=3)
    assert handoff.note_first_touch(contact_ids=[first.contact_id], now=touched) == 1
    # A second activity does not move the first touch.
    assert handoff.note_first_touch(contact_ids=[first.contact_id], now=touched + SECOND) == 0
    first.refresh_from_db()
    assert first.first_touch_at == touched
    assert handoff.sweep_slas(now=NOW + timedelta(days=5))["touch_breaches"] == 0


def test_an_activity_before_the_assignment_is_not_a_touch(world: World) -> None:
    first = routed(world)
    assert handoff.note_first_touch(contact_ids=[first.contact_id], now=NOW - SECOND) == 0


def test_a_logged_call_counts_as_first_touch_through_the_handler(
    world: World, monkeypatch: Any
) -> None:
    first = routed(world)
    # Scoring's reaction to the same event is not under test here.
    monkeypatch.setattr(handlers.tasks, "contacts_changed", lambda ids, cause: None)
    call_at = NOW + timedelta(hours=2)
    activity = log_activity(
        kind="call", by=world.rep1, contact=first.contact, subject="Intro", occurred_at=call_at
    )
    task = log_activity(
        kind="task",
        by=world.rep1,
        contact=first.contact,
        subject="Call back",
        due_at=NOW + timedelta(days=1),
    )
    from tandem.crm.models import TimelineEvent

    task_event = TimelineEvent.objects.get(idempotency_key=f"activity:{task.pk}")
    handlers.timeline_event_recorded(
        bus.TimelineEventRecorded(
            event_id=task_event.pk, contact_id=first.contact_id, type="activity_task"
        )
    )
    first.refresh_from_db()
    assert first.first_touch_at is None
    call_event = TimelineEvent.objects.get(idempotency_key=f"activity:{activity.pk}")
    handlers.timeline_event_recorded(
        bus.TimelineEventRecorded(
            event_id=call_event.pk, contact_id=first.contact_id, type="activity_call"
        )
    )
    first.refresh_from_db()
    assert first.first_touch_at == call_at


def test_an_unrouted_lead_is_routed_when_a_rep_comes_back(world: World) -> None:
    # Given both East reps are away when the lead qualifies
    for rep in (world.rep1, world.rep2):
        rep.is_away = True
        rep.save()
    waiting = routed(world)
    assert waiting.status == AssignmentStatus.UNROUTED
    # While nobody is back, sweeps change nothing and send nothing new
    assert handoff.sweep_slas(now=NOW + timedelta(hours=1))["routed_later"] == 0
    assert kinds(world.manager) == ["lead_unrouted"]
    # When rep2 comes back, the next sweep hands it over with fresh clocks
    world.rep2.is_away = False
    world.rep2.save()
    later = NOW + timedelta(hours=2)
    assert handoff.sweep_slas(now=later)["routed_later"] == 1
    waiting.refresh_from_db()
    assert waiting.status == AssignmentStatus.REROUTED
    live = LeadAssignment.objects.get(contact=waiting.contact, status="pending")
    assert (live.rep, live.attempt, live.accept_due_at) == (
        world.rep2,
        2,
        later + timedelta(hours=24),
    )


def test_a_manager_assigns_an_unrouted_lead_by_hand(world: World) -> None:
    from tandem.errors import Forbidden

    RoutingRule.objects.create(name="Nowhere", team=world.west, persona_id=999)
    contact = ContactFactory(lifecycle_stage="mql")
    waiting = handoff.route_lead(contact=contact, qualified_by="q", now=NOW)
    assert waiting.status == AssignmentStatus.UNROUTED
    with pytest.raises(Forbidden):
        handoff.assign_lead(contact=contact, rep=world.rep3, by=world.manager, now=NOW)
    live = handoff.assign_lead(contact=contact, rep=world.rep2, by=world.manager, now=NOW)
    assert (live.status, live.rep, live.team, live.attempt) == (
        "pending",
        world.rep2,
        world.east,
        2,
    )
    waiting.refresh_from_db()
    assert waiting.status == AssignmentStatus.REROUTED
    # Re-assigning a pending lead moves it; the old row closes.
    moved = handoff.assign_lead(contact=contact, rep=world.rep1, by=world.manager, now=NOW)
    assert moved.rep == world.rep1
    assert LeadAssignment.objects.filter(contact=contact, status="pending").count() == 1
