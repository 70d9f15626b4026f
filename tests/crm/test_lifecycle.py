"""Lifecycle stages: every change has a history row and a timeline event; backward moves need a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tandem import bus
from tandem.crm import services
from tandem.crm.models import Contact, LifecycleChange, TimelineEvent
from tandem.errors import InvalidInput

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
published: list[object] = []


def _record(event: object) -> None:
    published.append(event)


@pytest.fixture
def lead(world) -> Contact:
    """Given a lead created through the service (one "created" history row)."""
    return services.create_contact(
        email="lena@lead.example", lifecycle_stage="lead", owner=world.rep1
    )


def _writes(contact: Contact) -> tuple[int, int]:
    return (
        LifecycleChange.objects.filter(contact=contact).count(),
        TimelineEvent.objects.filter(contact=contact).count(),
    )


@pytest.mark.parametrize(
    ("from_stage", "to_stage", "backward"),
    [
        ("lead", "mql", False),
        ("subscriber", "customer", False),
        ("", "customer", False),
        ("sql", "sql", False),
        ("mql", "lead", True),
        ("evangelist", "subscriber", True),
        ("lead", "disqualified", True),
        ("disqualified", "lead", True),
        ("disqualified", "customer", True),
    ],
)
def test_is_backward(from_stage, to_stage, backward):
    assert services.is_backward(from_stage, to_stage) is backward


def test_forward_move_writes_history_event_and_bus_message(
    world, lead, monkeypatch, django_capture_on_commit_callbacks
):
    """When rep1 moves the lead to SQL, then one history row, one timeline event and one bus message."""
    monkeypatch.setitem(
        bus.HANDLERS, bus.LifecycleStageChanged, ["tests.crm.test_lifecycle._record"]
    )
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        change = services.change_lifecycle_stage(
            contact=lead, to_stage="Sales Qualified Lead", by=world.rep1, at=T0
        )
    row = LifecycleChange.objects.get(pk=change.pk)
    assert (row.from_stage, row.to_stage, row.changed_at, row.changed_by, row.rule, row.reason) == (
        "lead",
        "sql",
        T0,
        world.rep1,
        "",
        "",
    )
    event = TimelineEvent.objects.get(contact=lead, type="lifecycle_stage_changed")
    assert (event.occurred_at, event.actor, event.idempotency_key) == (
        T0,
        world.rep1,
        f"lifecycle:{row.pk}",
    )
    assert event.properties == {"from": "lead", "to": "sql", "reason": ""}
    assert Contact.objects.get(pk=lead.pk).lifecycle_stage == "sql"
    assert published == [
        bus.LifecycleStageChanged(contact_id=lead.pk, from_stage="lead", to_stage="sql")
    ]


def test_rule_driven_move_names_the_rule(lead):
    """When a rule (no user) promotes the lead, then history and timeline name the rule."""
    change = services.change_lifecycle_stage(
        contact=lead, to_stage="mql", rule="score >= 50", at=T0
    )
    assert (change.changed_by, change.rule) == (None, "score >= 50")
    event = TimelineEvent.objects.get(contact=lead, type="lifecycle_stage_changed")
    assert (event.actor, event.actor_label) == (None, "score >= 50")


def test_same_stage_is_no_change(lead):
    """Then moving to the current stage writes nothing and returns None."""
    before = _writes(lead)
    assert services.change_lifecycle_stage(contact=lead, to_stage="Lead") is None
    assert _writes(lead) == before


@pytest.mark.parametrize(
    ("start", "to_stage", "message"),
    [
        ("mql", "lead", "^moving from mql back to lead needs a reason$"),
        ("lead", "disqualified", "^moving from lead back to disqualified needs a reason$"),
        ("disqualified", "sql", "^moving from disqualified back to sql needs a reason$"),
    ],
)
def test_backward_or_disqualify_without_reason_writes_nothing(world, start, to_stage, message):
    """Given a contact at `start`, when moved to `to_stage` without a reason, then InvalidInput and no writes."""
    contact = services.create_contact(email="x@stage.example", lifecycle_stage=start)
    before = _writes(contact)
    with pytest.raises(InvalidInput, match=message) as caught:
        services.change_lifecycle_stage(
            contact=contact, to_stage=to_stage, by=world.rep1, reason="   "
        )
    assert caught.value.field == "reason"
    assert _writes(contact) == before
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == start


def test_backward_with_reason_is_recorded(world, lead):
    """Given a reason, then a backward move is written with it, on history and timeline."""
    services.change_lifecycle_stage(contact=lead, to_stage="mql", by=world.rep1)
    change = services.change_lifecycle_stage(
        contact=lead, to_stage="lead", by=world.rep1, reason=" budget frozen "
    )
    assert (change.from_stage, change.to_stage, change.reason) == ("mql", "lead", "budget frozen")
    latest = TimelineEvent.objects.filter(contact=lead, type="lifecycle_stage_changed").latest("id")
    assert latest.properties == {"from": "mql", "to": "lead", "reason": "budget frozen"}


def test_disqualify_and_requalify_with_reasons(world, lead):
    """Then into and out of Disqualified both work with a reason, leaving the full trail."""
    services.change_lifecycle_stage(
        contact=lead, to_stage="disqualified", by=world.rep1, reason="student"
    )
    services.change_lifecycle_stage(
        contact=lead, to_stage="mql", by=world.rep1, reason="graduated, now buying"
    )
    trail = list(
        LifecycleChange.objects.filter(contact=lead)
        .order_by("id")
        .values_list("from_stage", "to_stage", "reason")
    )
    assert trail == [
        ("", "lead", "created"),
        ("lead", "disqualified", "student"),
        ("disqualified", "mql", "graduated, now buying"),
    ]


def test_update_contact_with_backward_stage_rolls_back_other_changes(world, lead):
    """Given a patch with a title and a backward stage but no reason, then neither is written."""
    services.change_lifecycle_stage(contact=lead, to_stage="sql", by=world.rep1)
    before = _writes(lead)
    with pytest.raises(InvalidInput, match="needs a reason"):
        services.update_contact(
            contact=lead, changes={"title": "CEO", "lifecycle_stage": "lead"}, by=world.rep1
        )
    stored = Contact.objects.get(pk=lead.pk)
    assert (stored.title, stored.lifecycle_stage) == ("", "sql")
    assert _writes(lead) == before


def test_update_contact_stage_with_reason(world, lead):
    """Given a reason, then update_contact moves the stage through the history."""
    services.change_lifecycle_stage(contact=lead, to_stage="sql", by=world.rep1)
    updated = services.update_contact(
        contact=lead,
        changes={"lifecycle_stage": "mql"},
        by=world.manager,
        reason="not ready to talk",
    )
    assert updated.lifecycle_stage == "mql"
    latest = LifecycleChange.objects.filter(contact=lead).latest("id")
    assert (latest.from_stage, latest.to_stage, latest.changed_by, latest.reason) == (
        "sql",
        "mql",
        world.manager,
        "not ready to talk",
    )


def test_unknown_stage_is_refused(lead):
    with pytest.raises(InvalidInput, match=r"^lifecycle_stage 'hot' is not one of"):
        services.change_lifecycle_stage(contact=lead, to_stage="hot")
