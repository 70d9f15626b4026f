"""CRM write services: companies, contacts, the timeline and activities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tandem import bus
from tandem.crm import services
from tandem.crm.models import Activity, Company, Contact, LifecycleChange, TimelineEvent
from tandem.errors import Conflict, InvalidInput

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _events(**filters) -> list[str]:
    return list(
        TimelineEvent.objects.filter(**filters).order_by("id").values_list("type", flat=True)
    )


# --- companies -------------------------------------------------------------------------------------


def test_create_company_cleans_values_and_records_event(world):
    """Given messy input, when a company is created, then values are clean and the timeline has it."""
    company = services.create_company(
        name="  Initech ",
        domain="https://www.Initech.com/x",
        employees="1,200",
        annual_revenue="$2,500,000",
        currency="eur",
        country="gb",
        owner=world.rep3,
        by=world.admin,
        created_at=T0,
    )
    company.refresh_from_db()
    assert (company.name, company.domain, company.employees, str(company.annual_revenue)) == (
        "Initech",
        "initech.com",
        1200,
        "2500000.00",
    )
    assert (company.currency, company.country, company.owner, company.team) == (
        "EUR",
        "GB",
        world.rep3,
        world.west,
    )
    event = TimelineEvent.objects.get(company=company)
    assert (event.type, event.actor, event.occurred_at, event.idempotency_key) == (
        "company_created",
        world.admin,
        T0,
        f"company_created:{company.pk}",
    )


def test_create_company_without_owner_takes_given_team(world):
    """Given no owner, then the team passed in is kept (a team-unassigned company)."""
    company = services.create_company(name="Hooli", team=world.east)
    assert (company.owner, company.team, company.domain) == (None, world.east, None)


def test_duplicate_domain_is_a_conflict_and_writes_nothing(world):
    """Given acme.com on file, then a company on any spelling of it is a Conflict with Acme's id."""
    before = Company.objects.count()
    with pytest.raises(Conflict) as caught:
        services.create_company(name="Acme 2", domain="HTTP://acme.com/")
    assert caught.value.existing_id == world.acme.pk
    assert str(caught.value) == "a company with domain acme.com exists"
    assert Company.objects.count() == before


def test_company_without_name_is_refused(world):
    with pytest.raises(InvalidInput, match=r"^name is required$"):
        services.create_company(name="  ")


def test_update_company(world):
    """When Acme is updated, then changed values are clean; a taken domain or an unknown field is refused."""
    services.update_company(
        company=world.acme, changes={"domain": "www.acme.io", "employees": "50", "region": "na"}
    )
    world.acme.refresh_from_db()
    assert (world.acme.domain, world.acme.employees, world.acme.region) == ("acme.io", 50, "na")
    with pytest.raises(Conflict) as caught:
        services.update_company(company=world.acme, changes={"domain": "globex.com"})
    assert caught.value.existing_id == world.globex.pk
    with pytest.raises(InvalidInput, match="unknown company field"):
        services.update_company(company=world.acme, changes={"created_at": T0})


def test_delete_company_unlinks_contacts(world):
    services.delete_company(company=world.acme)
    assert not Company.objects.filter(pk=world.acme.pk).exists()
    assert (
        Contact.objects.filter(email__in=["ann@acme.com", "bob@acme.com"], company=None).count()
        == 2
    )


# --- contacts --------------------------------------------------------------------------------------


def test_create_contact_normalises_and_writes_history(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    """Given a new contact, then it is stored clean with a creation history row, an event and a bus message."""
    seen: list[object] = []
    monkeypatch.setitem(bus.HANDLERS, bus.ContactCreated, ["tests.crm.test_services._remember"])
    monkeypatch.setattr("tests.crm.test_services._SEEN", seen)
    with django_capture_on_commit_callbacks(execute=True):
        contact = services.create_contact(
            email="  Zoe@Example.ORG ",
            first_name=" Zoe ",
            lifecycle_stage="Marketing Qualified Lead",
            subscription_status="Subscribed",
            original_source="paid search",
            owner=world.rep1,
            company=world.acme,
            by=world.marketer,
            rule="",
            created_at=T0,
        )
    contact.refresh_from_db()
    assert (contact.email, contact.first_name, contact.lifecycle_stage) == (
        "zoe@example.org",
        "Zoe",
        "mql",
    )
    assert (contact.subscription_status, contact.original_source) == ("subscribed", "paid_search")
    assert (contact.team, contact.created_at, contact.last_activity_at) == (world.east, T0, T0)
    history = LifecycleChange.objects.get(contact=contact)
    assert (
        history.from_stage,
        history.to_stage,
        history.changed_at,
        history.changed_by,
        history.reason,
    ) == (
        "",
        "mql",
        T0,
        world.marketer,
        "created",
    )
    event = TimelineEvent.objects.get(contact=contact)
    assert (event.type, event.company, event.properties) == (
        "contact_created",
        world.acme,
        {"source": "paid_search", "stage": "mql"},
    )
    assert seen == [bus.ContactCreated(contact_id=contact.pk)]


_SEEN: list[object] = []


def _remember(event: object) -> None:
    _SEEN.append(event)


def test_duplicate_email_is_a_conflict_and_writes_nothing(world):
    """Given ann@acme.com on file, then the same address in another case is a Conflict with Ann's id."""
    counts = (
        Contact.objects.count(),
        LifecycleChange.objects.count(),
        TimelineEvent.objects.count(),
    )
    with pytest.raises(Conflict) as caught:
        services.create_contact(email=" ANN@acme.com")
    assert caught.value.existing_id == world.rep1_contact.pk
    assert str(caught.value) == "a contact with email ann@acme.com exists"
    assert (
        Contact.objects.count(),
        LifecycleChange.objects.count(),
        TimelineEvent.objects.count(),
    ) == counts


def test_invalid_contact_values_are_refused(world):
    with pytest.raises(InvalidInput, match="is not a valid address"):
        services.create_contact(email="nobody")
    with pytest.raises(InvalidInput, match=r"^subscription_status 'maybe' is not one of"):
        services.create_contact(email="a@b.org", subscription_status="maybe")
    with pytest.raises(InvalidInput, match=r"^custom_fields must be an object$"):
        services.update_contact(contact=world.rep1_contact, changes={"custom_fields": [1]})
    with pytest.raises(InvalidInput, match=r"^unknown contact field\(s\): created_at$"):
        services.update_contact(contact=world.rep1_contact, changes={"created_at": T0})
    assert Contact.objects.filter(email__in=["nobody", "a@b.org"]).count() == 0


def test_update_contact_fields_owner_and_email(world):
    """When Ann's fields, owner and email change, then they are clean and the team follows the owner."""
    services.update_contact(
        contact=world.rep1_contact,
        changes={
            "title": " CFO ",
            "email": "Ann.Archer@Acme.com",
            "owner": world.rep3,
            "lead_status": "Connected",
        },
    )
    ann = Contact.objects.get(pk=world.rep1_contact.pk)
    assert (ann.title, ann.email, ann.owner, ann.team, ann.lead_status) == (
        "CFO",
        "ann.archer@acme.com",
        world.rep3,
        world.west,
        "connected",
    )
    with pytest.raises(Conflict) as caught:
        services.update_contact(contact=ann, changes={"email": "BOB@acme.com"})
    assert caught.value.existing_id == world.rep2_contact.pk


def test_unassigning_keeps_the_team(world):
    """Given rep1's contact is unassigned, then it stays with Sales East (team-unassigned)."""
    services.update_contact(contact=world.rep1_contact, changes={"owner": None})
    world.rep1_contact.refresh_from_db()
    assert (world.rep1_contact.owner, world.rep1_contact.team) == (None, world.east)


def test_delete_contact_erases_its_timeline_history_and_activities(world):
    """When a contact is deleted, then its events, stage history and activities go with it."""
    contact = services.create_contact(email="gone@example.org", by=world.admin)
    services.log_activity(kind="note", by=world.admin, contact=contact, body="hello")
    services.change_lifecycle_stage(contact=contact, to_stage="lead", by=world.admin)
    services.delete_contact(contact=contact)
    assert not TimelineEvent.objects.filter(contact_id=contact.pk).exists()
    assert not LifecycleChange.objects.filter(contact_id=contact.pk).exists()
    assert not Activity.objects.filter(contact_id=contact.pk).exists()


# --- timeline --------------------------------------------------------------------------------------


def test_timeline_is_idempotent_per_key(world):
    """Given the same idempotency key twice, then one row exists and the second call says created=False."""
    first, created = services.record_event(
        type="page_view",
        idempotency_key="evt-1",
        contact=world.rep1_contact,
        occurred_at=T0,
        properties={"n": 1},
    )
    again, created_again = services.record_event(
        type="page_view",
        idempotency_key="evt-1",
        contact=world.rep1_contact,
        occurred_at=T0,
        properties={"n": 2},
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert again.properties == {"n": 1}
    assert TimelineEvent.objects.filter(idempotency_key="evt-1").count() == 1
    assert first.company == world.acme  # a contact's event also lands on its company's timeline


def test_last_activity_only_moves_forward(world):
    """Given events out of order, then last_activity_at is the latest occurred_at seen."""
    contact = world.nobody_contact
    for key, at in [("a", T0), ("b", T0 - timedelta(days=3)), ("c", T0 + timedelta(hours=1))]:
        services.record_event(
            type="email_open", idempotency_key=key, contact=contact, occurred_at=at
        )
        contact.refresh_from_db()
        if key == "b":
            assert contact.last_activity_at == T0
    assert contact.last_activity_at == T0 + timedelta(hours=1)
    assert services.touch_activity(contact_ids=[contact.pk], at=T0) == 0
    assert services.touch_activity(contact_ids=[contact.pk], at=T0 + timedelta(days=1)) == 1
    contact.refresh_from_db()
    assert contact.last_activity_at == T0 + timedelta(days=1)


def test_duplicate_event_does_not_move_last_activity(world):
    """Given a replayed event with a later time, then nothing changes (the first delivery won)."""
    contact = world.nobody_contact
    services.record_event(type="x", idempotency_key="k", contact=contact, occurred_at=T0)
    services.record_event(
        type="x", idempotency_key="k", contact=contact, occurred_at=T0 + timedelta(days=1)
    )
    contact.refresh_from_db()
    assert contact.last_activity_at == T0


# --- activities ------------------------------------------------------------------------------------


def test_each_activity_kind_lands_on_the_timeline(world):
    """Given a note, a call, a meeting and a task, then each is stored and has its own timeline event."""
    ann = world.rep1_contact
    note = services.log_activity(
        kind="note", by=world.rep1, contact=ann, body=" met at fair ", occurred_at=T0
    )
    call = services.log_activity(
        kind="call",
        by=world.rep1,
        contact=ann,
        call_outcome="No answer",
        duration_seconds="45",
        occurred_at=T0,
    )
    meeting = services.log_activity(
        kind="Meeting", by=world.rep1, contact=ann, subject="Demo", occurred_at=T0
    )
    task = services.log_activity(
        kind="task", by=world.rep1, contact=ann, subject="Send deck", due_at=T0
    )
    assert (note.body, note.company, note.owner, note.team) == (
        "met at fair",
        world.acme,
        world.rep1,
        world.east,
    )
    assert (call.call_outcome, call.duration_seconds) == ("no_answer", 45)
    assert (meeting.kind, task.due_at, task.done_at) == ("meeting", T0, None)
    assert _events(contact=ann) == [
        "activity_note",
        "activity_call",
        "activity_meeting",
        "activity_task",
    ]
    call_event = TimelineEvent.objects.get(idempotency_key=f"activity:{call.pk}")
    assert call_event.properties == {
        "activity_id": call.pk,
        "subject": "",
        "outcome": "no_answer",
        "duration_seconds": 45,
    }
    ann.refresh_from_db()
    assert ann.last_activity_at is not None


DUE = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "task"}, "^a task needs a due date$"),
        ({"kind": "note", "call_outcome": "busy"}, "^call_outcome is only for calls$"),
        ({"kind": "call", "call_outcome": "angry"}, "^call_outcome 'angry' is not one of"),
        (
            {"kind": "call", "duration_seconds": 90000},
            "^duration_seconds must be between 0 and 86400$",
        ),
        ({"kind": "fax"}, "^kind 'fax' is not one of"),
        (
            {"kind": "task", "due_at": DUE, "remind_at": DUE + timedelta(minutes=1)},
            "^remind_at must not be after due_at$",
        ),
        ({"kind": "call", "remind_at": DUE}, "^reminders are for tasks$"),
        ({"kind": "call", "direction": "inbound"}, "^direction is only for emails$"),
    ],
)
def test_invalid_activities_are_refused(world, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        services.log_activity(by=world.rep1, contact=world.rep1_contact, **kwargs)
    assert Activity.objects.count() == 0


def test_activity_needs_a_record(world):
    with pytest.raises(InvalidInput, match="needs a contact or a company"):
        services.log_activity(kind="note", by=world.rep1)


def test_company_activity_and_teamless_logger(world):
    """Given admin (no team) logs on Acme, then the activity joins Acme's team so East can see it."""
    activity = services.log_activity(
        kind="note", by=world.admin, company=world.acme, body="renewal"
    )
    assert (activity.contact, activity.company, activity.team) == (None, world.acme, world.east)
    assert _events(company=world.acme) == ["activity_note"]


def test_complete_task_is_idempotent(world):
    """Given a task, when it is completed twice, then done_at and its one event stay from the first time."""
    task = services.log_activity(kind="task", by=world.rep1, contact=world.rep1_contact, due_at=T0)
    done = services.complete_task(activity=task, by=world.rep1).done_at
    assert done is not None
    again = services.complete_task(activity=Activity.objects.get(pk=task.pk), by=world.rep1)
    assert again.done_at == done
    assert _events(contact=world.rep1_contact).count("task_completed") == 1
    note = services.log_activity(kind="note", by=world.rep1, contact=world.rep1_contact)
    with pytest.raises(InvalidInput, match=r"^only tasks can be completed$"):
        services.complete_task(activity=note)


def test_timeline_events_cannot_be_edited_once_written(world):
    from tandem.crm.services import record_event

    event, _ = record_event(type="note", idempotency_key="append-only", contact=world.rep1_contact)
    event.properties = {"tampered": True}
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    event.refresh_from_db()
    assert event.properties == {}


# --- races: the unique constraint, not only the pre-check, answers a conflict ----------------------


def _race(monkeypatch, make_rival) -> list:
    """Let the service's duplicate check pass, then commit a rival row before its write, as a
    concurrent request would; returns the list the rival lands in."""
    real = services._refuse_taken
    rival: list = []

    def racing(model, *, field, value, **kwargs):
        real(model, field=field, value=value, **kwargs)
        if not rival:
            rival.append(make_rival(value))

    monkeypatch.setattr(services, "_refuse_taken", racing)
    return rival


def _rival_contact(email: str) -> Contact:
    return Contact.objects.bulk_create([Contact(email=email, created_at=T0)])[0]


def _rival_company(domain: str) -> Company:
    return Company.objects.bulk_create([Company(name="Rival", domain=domain, created_at=T0)])[0]


def test_concurrent_create_of_the_same_email_is_a_conflict(world, monkeypatch):
    """Given another request inserts the email after our check, then Conflict names its contact,
    and nothing of ours is written (no second history row)."""
    rival = _race(monkeypatch, _rival_contact)
    with pytest.raises(Conflict) as error:
        services.create_contact(email="Race@Example.com", by=world.rep1)
    assert error.value.existing_id == rival[0].pk
    assert not LifecycleChange.objects.filter(contact__email="race@example.com").exists()


def test_concurrent_create_of_the_same_domain_is_a_conflict(world, monkeypatch):
    """Given another request inserts the domain after our check, then Conflict names its company."""
    rival = _race(monkeypatch, _rival_company)
    with pytest.raises(Conflict) as error:
        services.create_company(name="Race", domain="race.example", by=world.admin)
    assert error.value.existing_id == rival[0].pk


def test_concurrent_email_change_to_a_taken_address_is_a_conflict(world, monkeypatch):
    """Given another request takes the new email after our check, then update_contact raises
    Conflict and the contact keeps its old email."""
    rival = _race(monkeypatch, _rival_contact)
    with pytest.raises(Conflict) as error:
        services.update_contact(contact=world.rep1_contact, changes={"email": "taken@example.com"})
    assert error.value.existing_id == rival[0].pk
    assert Contact.objects.get(pk=world.rep1_contact.pk).email == "ann@acme.com"


def test_concurrent_domain_change_to_a_taken_domain_is_a_conflict(world, monkeypatch):
    """Given another request takes the new domain after our check, then Conflict names it."""
    rival = _race(monkeypatch, _rival_company)
    with pytest.raises(Conflict) as error:
        services.update_company(company=world.acme, changes={"domain": "taken.example"})
    assert error.value.existing_id == rival[0].pk
    assert Company.objects.get(pk=world.acme.pk).domain == "acme.com"


def test_concurrent_create_answers_409_over_the_api(world, api_as, monkeypatch):
    """Given the same race through the API, then the caller gets 409 with the existing id."""
    rival = _race(monkeypatch, _rival_contact)
    response = api_as("marketing").post("/contacts", {"email": "race@example.com"})
    assert response.status_code == 409
    assert response.json()["existing_id"] == rival[0].pk


def test_custom_fields_nested_beyond_json_depth_are_refused(world):
    """Given custom_fields nested deeper than JSON encoding can go, then InvalidInput, not a crash."""
    nested: dict = {}
    inner = nested
    for _ in range(5000):
        inner["a"] = {}
        inner = inner["a"]
    with pytest.raises(InvalidInput, match="custom_fields is nested too deeply"):
        services.create_contact(email="deep@example.com", custom_fields=nested)
