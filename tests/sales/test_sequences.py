"""Sequences: enrolment rules, steps turned into tasks, business-day waits, daily limits, stop rules,
and the sequence pages and API with their ownership rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from tandem.crm import services as crm_services
from tandem.crm.models import Activity, Contact, TimelineEvent
from tandem.errors import Conflict, Forbidden, InvalidInput
from tandem.sales.models import (
    Sequence,
    SequenceEnrollment,
    SequenceSettings,
    SequenceStep,
)
from tandem.sales.services import sequences
from tests.conftest import World
from tests.crm.factories import ContactFactory
from tests.sales.factories import SequenceFactory, with_steps

# Thursday 3 December 2026, 10:00 UTC.
THU = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
FRI = THU + timedelta(days=1)
MON = THU + timedelta(days=4)
TUE = THU + timedelta(days=5)


class Clock:
    """A frozen timezone.now() the test moves by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(THU)
    monkeypatch.setattr("django.utils.timezone.now", frozen)
    return frozen


@pytest.fixture
def run_commit(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Call fn(**kwargs) and run the bus handlers it queued (as after a real commit)."""

    def run(fn: Callable[..., Any], **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return run


def cadence() -> Sequence:
    return with_steps(
        SequenceFactory(name="Cold outbound"),
        ("call", "Intro call"),
        ("wait", 2),
        ("email", "Follow-up email"),
    )


def enrolment(world: World, sequence: Sequence | None = None, **kw: Any) -> SequenceEnrollment:
    return sequences.enroll(
        sequence=sequence or cadence(), contact=world.rep1_contact, by=world.rep1, **kw
    )


def reload(e: SequenceEnrollment) -> SequenceEnrollment:
    e.refresh_from_db()
    return e


# ---------------------------------------------------------------- business days


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (
            datetime(2026, 12, 4, 9, tzinfo=UTC),
            1,
            datetime(2026, 12, 7, 9, tzinfo=UTC),
        ),  # Fri → Mon
        (
            datetime(2026, 12, 4, 9, tzinfo=UTC),
            2,
            datetime(2026, 12, 8, 9, tzinfo=UTC),
        ),  # Fri → Tue
        (
            datetime(2026, 12, 5, 9, tzinfo=UTC),
            1,
            datetime(2026, 12, 7, 9, tzinfo=UTC),
        ),  # Sat → Mon
        (
            datetime(2026, 12, 1, 9, tzinfo=UTC),
            3,
            datetime(2026, 12, 4, 9, tzinfo=UTC),
        ),  # Tue → Fri
        (datetime(2026, 12, 3, 9, tzinfo=UTC), 5, datetime(2026, 12, 10, 9, tzinfo=UTC)),  # a week
    ],
)
def test_business_days_skip_weekends(start: datetime, days: int, expected: datetime) -> None:
    assert sequences.add_business_days(start, days) == expected


# ---------------------------------------------------------------- sequences and steps


def test_create_sequence_numbers_its_steps(world: World) -> None:
    sequence = sequences.create_sequence(
        name="Inbound follow-up",
        by=world.rep1,
        steps=[
            {"kind": "email", "subject": "Thanks"},
            {"kind": "wait", "wait_days": 3},
            {"kind": "call", "subject": "Check in", "wait_days": 9},
        ],
    )
    rows = list(sequence.steps.values_list("position", "kind", "wait_days", "subject"))
    assert rows == [(1, "email", 0, "Thanks"), (2, "wait", 3, ""), (3, "call", 0, "Check in")]
    assert sequence.owner == world.rep1


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"kind": "fax"}, "kind"),
        ({"kind": "wait", "wait_days": 0}, "wait_days"),
        ({"kind": "wait", "wait_days": 61}, "wait_days"),
        ({"kind": "wait", "wait_days": "two"}, "wait_days"),
    ],
)
def test_bad_steps_are_refused_naming_the_field(world: World, step: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        sequences.create_sequence(name="Bad", by=world.rep1, steps=[step])
    assert err.value.field == field
    assert not Sequence.objects.filter(name="Bad").exists()


def test_marketing_may_not_create_sequences(world: World) -> None:
    with pytest.raises(Forbidden):
        sequences.create_sequence(name="Nope", by=world.marketer)


def test_only_the_owner_or_a_manager_changes_steps(world: World) -> None:
    sequence = sequences.create_sequence(
        name="Mine", by=world.rep1, steps=[{"kind": "call", "subject": "a"}]
    )
    with pytest.raises(Forbidden):
        sequences.add_step(sequence=sequence, kind="email", by=world.rep2)
    sequences.add_step(sequence=sequence, kind="wait", wait_days=2, by=world.manager)
    step = sequences.add_step(sequence=sequence, kind="email", subject="b", by=world.rep1)
    assert step.position == 3
    sequences.update_step(step=step, changes={"subject": "Case study"}, by=world.rep1)
    first = sequence.steps.get(position=1)
    sequences.remove_step(step=first, by=world.rep1)
    assert list(sequence.steps.values_list("position", "kind", "subject")) == [
        (1, "wait", ""),
        (2, "email", "Case study"),
    ]


# ---------------------------------------------------------------- enrolment rules


def test_enrol_puts_the_first_step_due_now_for_the_enrolling_rep(
    world: World, clock: Clock
) -> None:
    e = enrolment(world)
    assert (e.status, e.owner, e.team, e.current_position, e.next_due_at) == (
        "active",
        world.rep1,
        world.east,
        0,
        THU,
    )


def test_one_active_enrolment_per_sequence_and_contact(world: World, clock: Clock) -> None:
    e = enrolment(world)
    with pytest.raises(Conflict) as err:
        enrolment(world, sequence=e.sequence)
    assert err.value.existing_id == e.pk
    sequences.stop_enrollment(enrollment=e, reason="manual", by=world.rep1)
    again = enrolment(world, sequence=e.sequence)
    assert again.status == "active"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"subscription_status": "unsubscribed"}, "has unsubscribed"),
        ({"lifecycle_stage": "opportunity"}, "is already opportunity"),
        ({"lifecycle_stage": "customer"}, "is already customer"),
    ],
)
def test_unsubscribed_and_opportunities_are_refused(
    world: World, fields: dict, message: str
) -> None:
    contact = ContactFactory(owner=world.rep1, team=world.east, **fields)
    with pytest.raises(InvalidInput) as err:
        sequences.enroll(sequence=cadence(), contact=contact, by=world.rep1)
    assert message in str(err.value)
    assert not SequenceEnrollment.objects.exists()


def test_a_rep_enrols_only_contacts_they_can_edit(world: World) -> None:
    sequence = cadence()
    with pytest.raises(Forbidden):
        sequences.enroll(sequence=sequence, contact=world.rep2_contact, by=world.rep1)
    with pytest.raises(Forbidden):
        sequences.enroll(sequence=sequence, contact=world.rep1_contact, by=world.marketer)
    # An unassigned contact of the rep's team is theirs to work.
    e = sequences.enroll(sequence=sequence, contact=world.east_unassigned, by=world.rep1)
    assert e.owner == world.rep1


def test_a_paused_or_empty_sequence_takes_no_enrolments(world: World) -> None:
    with pytest.raises(InvalidInput):
        enrolment(world, sequence=SequenceFactory(name="Empty"))
    with pytest.raises(InvalidInput):
        enrolment(world, sequence=with_steps(SequenceFactory(is_active=False), ("call", "x")))


# ---------------------------------------------------------------- advancing


def test_due_step_becomes_a_task_for_the_owner_due_at_the_step_time(
    world: World, clock: Clock
) -> None:
    e = enrolment(world)
    clock.at = THU + timedelta(minutes=15)
    assert sequences.advance_due(now=clock.at) == 1
    e = reload(e)
    task = Activity.objects.get(pk=e.current_task_id)
    assert (task.kind, task.owner, task.contact, task.due_at, task.done_at) == (
        "task",
        world.rep1,
        world.rep1_contact,
        THU,
        None,
    )
    assert task.subject == "Intro call (Cold outbound, step 1)"
    assert (e.current_position, e.next_due_at) == (1, None)
    # Redelivered or overlapping runs find nothing more to do.
    assert sequences.advance_due(now=clock.at) == 0
    assert Activity.objects.filter(kind="task").count() == 1


def test_completing_the_task_passes_the_wait_in_business_days_across_the_weekend(
    world: World, clock: Clock, run_commit: Callable[..., Any]
) -> None:
    e = enrolment(world)
    sequences.advance_due(now=THU)
    first = Activity.objects.get(pk=reload(e).current_task_id)
    # Given the call is done on Friday at 09:00
    clock.at = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    run_commit(crm_services.complete_task, activity=first, by=world.rep1)
    # Then the 2-business-day wait ends on Tuesday 09:00, not Sunday
    e = reload(e)
    assert (e.current_task_id, e.current_position, e.next_due_at) == (
        None,
        2,
        datetime(2026, 12, 8, 9, 0, tzinfo=UTC),
    )
    assert sequences.advance_due(now=MON) == 0
    assert sequences.advance_due(now=TUE) == 1
    e = reload(e)
    second = Activity.objects.get(pk=e.current_task_id)
    assert (second.subject, second.due_at, e.current_position) == (
        "Follow-up email (Cold outbound, step 3)",
        datetime(2026, 12, 8, 9, 0, tzinfo=UTC),
        3,
    )
    # Completing the last task finishes the enrolment.
    clock.at = TUE + timedelta(hours=1)
    run_commit(crm_services.complete_task, activity=second, by=world.rep1)
    e = reload(e)
    assert (e.status, e.ended_at, e.stop_reason) == ("finished", clock.at, "")


def test_a_task_that_is_not_the_current_one_does_not_advance(
    world: World, clock: Clock, run_commit: Callable[..., Any]
) -> None:
    e = enrolment(world)
    sequences.advance_due(now=THU)
    other = crm_services.log_activity(
        kind="task", by=world.rep1, contact=world.rep1_contact, subject="x", due_at=FRI
    )
    run_commit(crm_services.complete_task, activity=other, by=world.rep1)
    assert reload(e).current_position == 1
    assert reload(e).current_task_id is not None


def test_a_redelivered_completion_advances_once(
    world: World, clock: Clock, run_commit: Callable[..., Any]
) -> None:
    e = enrolment(world)
    sequences.advance_due(now=THU)
    task = Activity.objects.get(pk=reload(e).current_task_id)
    run_commit(crm_services.complete_task, activity=task, by=world.rep1)
    event = TimelineEvent.objects.get(contact=world.rep1_contact, type="task_completed")
    before = (reload(e).current_position, reload(e).next_due_at)
    sequences.react_to_timeline(
        event_id=event.pk, contact_id=world.rep1_contact.pk, type="task_completed"
    )
    assert (reload(e).current_position, reload(e).next_due_at) == before


def test_daily_limit_gives_a_rep_at_most_n_tasks_a_day_and_rolls_the_rest(
    world: World, clock: Clock
) -> None:
    SequenceSettings.objects.update_or_create(pk=1, defaults={"daily_limit_per_rep": 2})
    sequence = cadence()
    contacts = [ContactFactory(owner=world.rep1, team=world.east) for _ in range(5)]
    for contact in contacts:
        sequences.enroll(sequence=sequence, contact=contact, by=world.rep1)
    sequences.enroll(sequence=sequence, contact=world.rep2_contact, by=world.rep2)
    # Thursday: rep1 gets 2 of 5, rep2 (own limit) gets theirs.
    assert sequences.advance_due(now=THU + timedelta(minutes=5)) == 3
    assert Activity.objects.filter(owner=world.rep1, kind="task").count() == 2
    assert Activity.objects.filter(owner=world.rep2, kind="task").count() == 1
    # A later run the same day adds nothing; the other 3 stay due.
    assert sequences.advance_due(now=THU + timedelta(hours=6)) == 0
    waiting = SequenceEnrollment.objects.filter(owner=world.rep1, current_task_id__isnull=True)
    assert waiting.count() == 3
    assert set(waiting.values_list("next_due_at", flat=True)) == {THU}
    # Friday: two more; Saturday: the last one.
    assert sequences.advance_due(now=FRI) == 2
    assert sequences.advance_due(now=FRI + timedelta(hours=1)) == 0
    assert sequences.advance_due(now=FRI + timedelta(days=1)) == 1
    assert Activity.objects.filter(owner=world.rep1, kind="task").count() == 5


def test_the_daily_limit_settings_row_is_created_with_its_default(db: Any) -> None:
    assert sequences.sequence_settings().daily_limit_per_rep == 40
    assert SequenceSettings.objects.get().pk == 1


def test_a_sequence_starting_with_a_wait_waits_before_the_first_task(
    world: World, clock: Clock
) -> None:
    sequence = with_steps(SequenceFactory(), ("wait", 1), ("call", "Call"))
    clock.at = FRI
    e = sequences.enroll(sequence=sequence, contact=world.rep1_contact, by=world.rep1)
    assert sequences.advance_due(now=FRI) == 0
    assert reload(e).next_due_at == FRI + timedelta(days=3)  # Monday
    assert sequences.advance_due(now=FRI + timedelta(days=3)) == 1


# ---------------------------------------------------------------- stop rules


def _worked(world: World) -> SequenceEnrollment:
    e = enrolment(world)
    sequences.advance_due(now=THU)
    return e


def test_an_inbound_email_stops_the_sequence_as_replied(
    world: World, clock: Clock, run_commit: Callable[..., Any]
) -> None:
    e = _worked(world)
    other = sequences.enroll(
        sequence=with_steps(SequenceFactory(), ("email", "x")),
        contact=world.rep1_contact,
        by=world.rep1,
    )
    clock.at = FRI
    run_commit(
        crm_services.log_activity,
        kind="email",
        direction="inbound",
        by=world.rep1,
        contact=world.rep1_contact,
        subject="Re: hello",
    )
    for row in (reload(e), reload(other)):
        assert (row.status, row.stop_reason, row.ended_at, row.next_due_at) == (
            "stopped",
            "replied",
            FRI,
            None,
        )
    # A stopped enrolment gets no more tasks.
    assert sequences.advance_due(now=TUE) == 0


def test_an_outbound_email_or_a_call_does_not_stop_it(
    world: World, clock: Clock, run_commit: Callable[..., Any]
) -> None:
    e = _worked(world)
    for kind, extra in (("email", {"direction": "outbound"}), ("call", {}), ("note", {})):
        run_commit(
            crm_services.log_activity, kind=kind, by=world.rep1, contact=world.rep1_contact, **extra
        )
    assert reload(e).status == "active"


def test_a_meeting_stops_the_sequence(
    world: World, clock: Clock, run_commit: Callable[..., Any]
) -> None:
    e = _worked(world)
    run_commit(crm_services.log_activity, kind="meeting", by=world.rep1, contact=world.rep1_contact)
    assert (reload(e).status, reload(e).stop_reason) == ("stopped", "meeting")


def test_becoming_an_opportunity_stops_the_sequence(
    world: World, clock: Clock, run_commit: Callable[..., Any]
) -> None:
    e = _worked(world)
    run_commit(crm_services.change_lifecycle_stage, contact=world.rep1_contact, to_stage="mql")
    assert reload(e).status == "active"
    run_commit(
        crm_services.change_lifecycle_stage, contact=world.rep1_contact, to_stage="opportunity"
    )
    assert (reload(e).status, reload(e).stop_reason) == ("stopped", "opportunity")


@pytest.mark.parametrize(
    ("type", "properties", "reason"),
    [
        ("deal_created", {"deal_id": 1}, "opportunity"),
        ("email_replied", {}, "replied"),
        ("meeting_booked", {}, "meeting"),
        ("unsubscribed", {}, "unsubscribed"),
        ("subscription_changed", {"to": "unsubscribed"}, "unsubscribed"),
    ],
)
def test_other_apps_events_stop_it(
    world: World,
    clock: Clock,
    run_commit: Callable[..., Any],
    type: str,
    properties: dict,
    reason: str,
) -> None:
    e = _worked(world)
    run_commit(
        crm_services.record_event,
        type=type,
        idempotency_key=f"test:{type}",
        contact=world.rep1_contact,
        properties=properties,
    )
    assert (reload(e).status, reload(e).stop_reason) == ("stopped", reason)


def test_reacting_costs_one_indexed_query_without_an_active_enrolment(
    world: World, django_assert_num_queries: Any
) -> None:
    event, _ = crm_services.record_event(
        type="activity_email", idempotency_key="t1", contact=world.rep1_contact
    )
    with django_assert_num_queries(1):
        sequences.react_to_timeline(
            event_id=event.pk, contact_id=world.rep1_contact.pk, type="activity_email"
        )
    # A type that can never stop a sequence costs nothing.
    with django_assert_num_queries(0):
        sequences.react_to_timeline(
            event_id=event.pk, contact_id=world.rep1_contact.pk, type="page_view"
        )


def test_manual_stop_needs_an_owner_of_the_enrolment(world: World, clock: Clock) -> None:
    e = enrolment(world)
    with pytest.raises(Forbidden):
        sequences.stop_enrollment(enrollment=e, reason="manual", by=world.rep2)
    with pytest.raises(Forbidden):
        sequences.stop_enrollment(enrollment=e, reason="manual", by=world.marketer)
    sequences.stop_enrollment(enrollment=e, reason="manual", by=world.manager)
    assert (reload(e).status, reload(e).stop_reason) == ("stopped", "manual")


# ---------------------------------------------------------------- API


def test_api_create_read_enrol_and_stop(world: World, api_as: Any) -> None:
    api = api_as("rep1")
    created = api.post(
        "/sequences",
        {
            "name": "API cadence",
            "steps": [{"kind": "call", "subject": "Call"}, {"kind": "wait", "wait_days": 2}],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert [(s["position"], s["kind"], s["wait_days"]) for s in body["steps"]] == [
        (1, "call", 0),
        (2, "wait", 2),
    ]
    sid = body["id"]
    unsubscribed = ContactFactory(
        owner=world.rep1, team=world.east, subscription_status="unsubscribed"
    )
    result = api.post(
        f"/sequences/{sid}/enroll", {"contact_ids": [world.rep1_contact.pk, unsubscribed.pk]}
    )
    assert result.status_code == 200, result.content
    data = result.json()
    assert [e["contact_id"] for e in data["enrolled"]] == [world.rep1_contact.pk]
    assert data["skipped"] == [
        {"contact_id": unsubscribed.pk, "error": f"{unsubscribed.email} has unsubscribed"}
    ]
    detail = api.get(f"/sequences/{sid}").json()
    assert detail["enrollments"] == {"active": 1, "finished": 0, "stopped": 0}
    listed = api.get("/sequences").json()["items"]
    assert [s["name"] for s in listed] == ["API cadence"]
    eid = data["enrolled"][0]["id"]
    # Someone else's enrolment is a 404; the owner stops it.
    assert api_as("rep3").post(f"/sequences/enrollments/{eid}/stop").status_code == 404
    assert api_as("rep2").post(f"/sequences/enrollments/{eid}/stop").status_code == 404
    stopped = api.post(f"/sequences/enrollments/{eid}/stop")
    assert (stopped.status_code, stopped.json()["status"], stopped.json()["stop_reason"]) == (
        200,
        "stopped",
        "manual",
    )


def test_api_enrol_ownership(world: World, api_as: Any) -> None:
    sid = cadence().pk
    # Invisible contact → 404; visible but not editable → 403; marketing may not enrol → 403.
    r = api_as("rep1").post(f"/sequences/{sid}/enroll", {"contact_ids": [world.rep3_contact.pk]})
    assert r.status_code == 404
    r = api_as("manager").post(f"/sequences/{sid}/enroll", {"contact_ids": [world.rep1_contact.pk]})
    assert r.status_code == 200
    r = api_as("marketing").post(
        f"/sequences/{sid}/enroll", {"contact_ids": [world.rep2_contact.pk]}
    )
    assert r.status_code == 403
    assert api_as("marketing").post("/sequences", {"name": "x"}).status_code == 403
    assert api_as("rep1").get("/sequences/999999").status_code == 404


def test_api_duplicate_name_is_a_conflict(world: World, api_as: Any) -> None:
    cadence()
    r = api_as("rep1").post("/sequences", {"name": "cold outbound"})
    assert r.status_code == 409


# ---------------------------------------------------------------- pages


def test_sequence_list_page_and_query_ceiling(
    world: World, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(6):
        s = with_steps(SequenceFactory(name=f"S{i}", owner=world.rep1), ("call", "a"), ("wait", 1))
        c = ContactFactory(owner=world.rep1, team=world.east)
        sequences.enroll(sequence=s, contact=c, by=world.rep1)
    client = client_as("rep1")
    with django_assert_max_num_queries(8):
        page = client.get(reverse("web:sequences"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "S5" in html and "New sequence" in html
    assert (
        "New sequence" not in client_as("marketing").get(reverse("web:sequences")).content.decode()
    )


def test_sequence_detail_page_query_ceiling_and_scoped_enrolments(
    world: World, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    sequence = cadence()
    for _ in range(8):
        c = ContactFactory(owner=world.rep1, team=world.east)
        sequences.enroll(sequence=sequence, contact=c, by=world.rep1)
    sequences.enroll(sequence=sequence, contact=world.rep3_contact, by=world.rep3)
    client = client_as("rep1")
    with django_assert_max_num_queries(9):
        page = client.get(reverse("web:sequence", args=[sequence.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('id="enrollment-') == 8  # rep3's enrolment is not rep1's to see
    rep3_page = client_as("rep3").get(reverse("web:sequence", args=[sequence.pk])).content.decode()
    assert rep3_page.count('id="enrollment-') == 1


def test_new_sequence_page_creates_steps(world: World, client_as: Any) -> None:
    client = client_as("rep1")
    assert client.get(reverse("web:sequence_new")).status_code == 200
    response = client.post(
        reverse("web:sequence_new"),
        {
            "name": "Page cadence",
            "step_1_kind": "email",
            "step_1_subject": "Hello",
            "step_2_kind": "wait",
            "step_2_wait_days": "3",
            "step_3_kind": "",
            "step_4_kind": "call",
            "step_4_subject": "Ring",
        },
    )
    sequence = Sequence.objects.get(name="Page cadence")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:sequence", args=[sequence.pk])
    assert list(sequence.steps.values_list("position", "kind", "wait_days")) == [
        (1, "email", 0),
        (2, "wait", 3),
        (3, "call", 0),
    ]
    bad = client.post(
        reverse("web:sequence_new"),
        {"name": "Broken", "step_1_kind": "wait", "step_1_wait_days": "0"},
    )
    assert bad.status_code == 422
    assert "wait_days must be between 1 and 60" in bad.content.decode()
    assert client_as("marketing").get(reverse("web:sequence_new")).status_code == 403


def test_enrol_page_form_by_email_and_refusals(world: World, client_as: Any) -> None:
    sequence = cadence()
    opp = ContactFactory(
        email="opp@acme.com", owner=world.rep1, team=world.east, lifecycle_stage="opportunity"
    )
    response = client_as("rep1").post(
        reverse("web:sequence_enroll", args=[sequence.pk]),
        {"emails": f"ANN@acme.com, {opp.email} {world.rep2_contact.email} cy@globex.com"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enrolled 1 contact." in html
    assert "opp@acme.com is already opportunity" in html
    # Another rep's contacts are not rep1's to see.
    assert f"{world.rep2_contact.email}: no such contact" in html
    assert "cy@globex.com: no such contact" in html
    assert list(SequenceEnrollment.objects.values_list("contact_id", flat=True)) == [
        world.rep1_contact.pk
    ]


def test_stop_page_ownership(world: World, client_as: Any) -> None:
    e = enrolment(world)
    url = reverse("web:enrollment_stop", args=[e.pk])
    assert client_as("rep3").post(url).status_code == 404
    assert client_as("rep2").post(url).status_code == 404
    assert client_as("marketing").post(url).status_code == 403
    assert reload(e).status == "active"
    response = client_as("rep1").post(url)
    assert response.status_code == 302
    assert (reload(e).status, reload(e).stop_reason) == ("stopped", "manual")


def test_step_changes_on_the_detail_page_need_the_owner(world: World, client_as: Any) -> None:
    sequence = sequences.create_sequence(
        name="Owned", by=world.rep1, steps=[{"kind": "call", "subject": "a"}]
    )
    url = reverse("web:sequence", args=[sequence.pk])
    add = {"action": "add_step", "kind": "wait", "wait_days": "2"}
    assert client_as("rep2").post(url, add).status_code == 403
    assert client_as("rep1").post(url, add).status_code == 302
    step = SequenceStep.objects.get(sequence=sequence, position=2)
    assert (step.kind, step.wait_days) == ("wait", 2)
    edit = {"action": "update_step", "step": str(step.pk), "kind": "wait", "wait_days": "4"}
    assert client_as("rep2").post(url, edit).status_code == 403
    assert client_as("rep1").post(url, edit).status_code == 302
    step.refresh_from_db()
    assert step.wait_days == 4
    remove = {"action": "remove_step", "step": str(step.pk)}
    assert client_as("manager").post(url, remove).status_code == 302
    assert sequence.steps.count() == 1


def test_contact_model_has_the_stage_used_by_refusals(world: World) -> None:
    assert Contact.objects.get(pk=world.rep1_contact.pk).lifecycle_stage == "lead"


def test_every_sequence_page_needs_sign_in_and_marketing_only_reads(
    world: World, client_as: Any
) -> None:
    from django.test import Client

    e = enrolment(world)
    urls = [
        ("get", reverse("web:sequences")),
        ("get", reverse("web:sequence_new")),
        ("get", reverse("web:sequence", args=[e.sequence_id])),
        ("post", reverse("web:sequence_enroll", args=[e.sequence_id])),
        ("post", reverse("web:enrollment_stop", args=[e.pk])),
    ]
    anonymous = Client()
    for method, url in urls:
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    marketing = client_as("marketing")
    assert marketing.get(reverse("web:sequence", args=[e.sequence_id])).status_code == 200
    enrol = marketing.post(
        reverse("web:sequence_enroll", args=[e.sequence_id]), {"emails": "dee@initech.com"}
    )
    assert enrol.status_code == 403
    assert not SequenceEnrollment.objects.filter(contact=world.east_unassigned).exists()
