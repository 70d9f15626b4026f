"""Merging duplicate contacts: nothing of either is lost, the stricter and further values win."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tandem import bus
from tandem.crm import services
from tandem.crm.models import Activity, Contact, ContactMerge, LifecycleChange, TimelineEvent
from tandem.errors import InvalidInput

T0 = datetime(2025, 1, 10, 8, 0, tzinfo=UTC)
merged_events: list[object] = []


def _record(event: object) -> None:
    merged_events.append(event)


@pytest.fixture
def pair(world) -> tuple[Contact, Contact]:
    """Given a primary (lead, subscribed, some fields blank) and an older duplicate with history of its own."""
    primary = services.create_contact(
        email="pat@acme.com",
        first_name="Pat",
        title="",
        phone="",
        lifecycle_stage="lead",
        subscription_status="subscribed",
        owner=world.rep1,
        company=world.acme,
        by=world.rep1,
        custom_fields={"shoe_size": 42, "tier": "gold"},
        created_at=T0,
    )
    duplicate = services.create_contact(
        email="patricia@gmail.com",
        first_name="Patricia",
        last_name="Jones",
        title="CFO",
        phone="+1 555 0100",
        lifecycle_stage="lead",
        subscription_status="unsubscribed",
        original_source_detail="webinar",
        custom_fields={"tier": "silver", "language": "fr"},
        created_at=T0 - timedelta(days=30),
        team=world.east,
    )
    services.change_lifecycle_stage(
        contact=duplicate, to_stage="sql", by=world.rep2, at=T0 + timedelta(days=1)
    )
    services.log_activity(
        kind="call", by=world.rep2, contact=duplicate, call_outcome="connected", occurred_at=T0
    )
    services.log_activity(
        kind="note", by=world.rep1, contact=primary, body="likes golf", occurred_at=T0
    )
    return primary, duplicate


def test_merge_keeps_everything_on_the_primary(
    world, pair, monkeypatch, django_capture_on_commit_callbacks
):
    """When the duplicate is merged into the primary, then every field, event and row follows the rules."""
    primary, duplicate = pair
    dup_id = duplicate.pk
    event_ids = set(
        TimelineEvent.objects.filter(contact__in=[primary, duplicate]).values_list("id", flat=True)
    )
    activity_ids = set(
        Activity.objects.filter(contact__in=[primary, duplicate]).values_list("id", flat=True)
    )
    monkeypatch.setitem(bus.HANDLERS, bus.ContactsMerged, ["tests.crm.test_merge._record"])
    merged_events.clear()

    with django_capture_on_commit_callbacks(execute=True):
        merged = services.merge_contacts(primary=primary, duplicate=duplicate, by=world.manager)

    # The duplicate is gone; the primary keeps its identity and its filled fields.
    assert not Contact.objects.filter(pk=dup_id).exists()
    assert (merged.pk, merged.email, merged.first_name, merged.owner) == (
        primary.pk,
        "pat@acme.com",
        "Pat",
        world.rep1,
    )
    # Blank fields are filled from the duplicate.
    assert (merged.last_name, merged.title, merged.phone, merged.original_source_detail) == (
        "Jones",
        "CFO",
        "+1 555 0100",
        "webinar",
    )
    assert merged.custom_fields == {"shoe_size": 42, "tier": "gold", "language": "fr"}
    assert merged.created_at == T0 - timedelta(days=30)
    # The stricter subscription status wins.
    assert merged.subscription_status == "unsubscribed"
    # Both timelines and all activities are now the primary's.
    moved_events = set(TimelineEvent.objects.filter(contact=merged).values_list("id", flat=True))
    assert event_ids < moved_events
    assert set(Activity.objects.filter(contact=merged).values_list("id", flat=True)) == activity_ids
    # Lifecycle history moved, and the further stage (SQL) won with its own history row.
    assert merged.lifecycle_stage == "sql"
    trail = list(
        LifecycleChange.objects.filter(contact=merged)
        .order_by("id")
        .values_list("from_stage", "to_stage", "rule")
    )
    assert trail == [
        ("", "lead", ""),
        ("", "lead", ""),
        ("lead", "sql", ""),
        ("lead", "sql", "merge"),
    ]
    promotion = LifecycleChange.objects.filter(contact=merged).latest("id")
    assert (promotion.changed_by, promotion.reason) == (
        world.manager,
        "merged with patricia@gmail.com",
    )
    # A ContactMerge row records who merged what, with a snapshot of the duplicate.
    record = ContactMerge.objects.get(primary=merged)
    assert (record.merged_contact_id, record.merged_email, record.merged_by) == (
        dup_id,
        "patricia@gmail.com",
        world.manager,
    )
    assert record.snapshot["first_name"] == "Patricia"
    assert record.snapshot["subscription_status"] == "unsubscribed"
    assert record.snapshot["lifecycle_stage"] == "sql"
    assert record.snapshot["custom_fields"] == {"tier": "silver", "language": "fr"}
    merge_event = TimelineEvent.objects.get(contact=merged, type="contact_merged")
    assert merge_event.properties == {"merged_email": "patricia@gmail.com", "merged_id": dup_id}
    assert merged_events == [bus.ContactsMerged(primary_id=merged.pk, merged_id=dup_id)]


@pytest.mark.parametrize(
    ("primary_status", "duplicate_status", "expected"),
    [
        ("subscribed", "unsubscribed", "unsubscribed"),
        ("unsubscribed", "subscribed", "unsubscribed"),
        ("unsubscribed", "bounced", "bounced"),
        ("bounced", "unsubscribed", "bounced"),
        ("complained", "bounced", "complained"),
        ("not_subscribed", "subscribed", "not_subscribed"),
    ],
)
def test_stricter_subscription_status_wins(world, primary_status, duplicate_status, expected):
    primary = services.create_contact(email="a@x.org", subscription_status=primary_status)
    duplicate = services.create_contact(email="b@x.org", subscription_status=duplicate_status)
    assert (
        services.merge_contacts(primary=primary, duplicate=duplicate).subscription_status
        == expected
    )


@pytest.mark.parametrize(
    ("primary_stage", "duplicate_stage", "expected", "promoted"),
    [
        ("lead", "customer", "customer", True),
        ("customer", "lead", "customer", False),
        ("mql", "mql", "mql", False),
        ("disqualified", "sql", "disqualified", False),
        ("sql", "disqualified", "sql", False),
    ],
)
def test_further_stage_wins(world, primary_stage, duplicate_stage, expected, promoted):
    """Then the further stage wins (with a "merge" history row); Disqualified is never overridden or spread."""
    primary = services.create_contact(email="a@x.org", lifecycle_stage=primary_stage)
    duplicate = services.create_contact(email="b@x.org", lifecycle_stage=duplicate_stage)
    merged = services.merge_contacts(primary=primary, duplicate=duplicate, by=world.admin)
    assert merged.lifecycle_stage == expected
    assert LifecycleChange.objects.filter(contact=merged, rule="merge").exists() is promoted


def test_filled_links_are_kept_and_blank_links_filled(world):
    """Given a primary without company or owner, then it takes the duplicate's; filled ones are kept."""
    primary = services.create_contact(email="a@x.org", owner=None)
    duplicate = services.create_contact(email="b@x.org", company=world.globex, owner=world.rep3)
    merged = services.merge_contacts(primary=primary, duplicate=duplicate)
    assert (merged.company, merged.owner) == (world.globex, world.rep3)
    third = services.create_contact(email="c@x.org", company=world.acme, owner=world.rep1)
    merged = services.merge_contacts(primary=merged, duplicate=third)
    assert (merged.company, merged.owner) == (world.globex, world.rep3)


def test_earlier_merges_follow_the_primary(world):
    """Given B absorbed C, when B is merged into A, then A carries both merge records."""
    a, b, c = (services.create_contact(email=f"{n}@x.org") for n in "abc")
    services.merge_contacts(primary=b, duplicate=c)
    services.merge_contacts(primary=a, duplicate=b)
    assert sorted(
        ContactMerge.objects.filter(primary=a).values_list("merged_email", flat=True)
    ) == [
        "b@x.org",
        "c@x.org",
    ]


def test_last_activity_is_the_later_of_both(world):
    primary = services.create_contact(email="a@x.org", created_at=T0)
    duplicate = services.create_contact(email="b@x.org", created_at=T0)
    services.record_event(
        type="x", idempotency_key="late", contact=duplicate, occurred_at=T0 + timedelta(days=9)
    )
    merged = services.merge_contacts(primary=primary, duplicate=duplicate)
    assert merged.last_activity_at >= T0 + timedelta(days=9)


def test_merging_into_itself_is_refused(world):
    """Then a contact cannot absorb itself, and nothing is written."""
    with pytest.raises(InvalidInput, match=r"^cannot merge a contact into itself$"):
        services.merge_contacts(primary=world.rep1_contact, duplicate=world.rep1_contact)
    assert Contact.objects.filter(pk=world.rep1_contact.pk).exists()
    assert not ContactMerge.objects.exists()


def test_merge_over_api(world, api_as):
    """Given the manager, when merging over the API, then the primary is returned and the duplicate is 404."""
    api = api_as("manager")
    response = api.post(
        f"/contacts/{world.rep1_contact.pk}/merge", {"duplicate_id": world.rep2_contact.pk}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["id"], response.json()["email"]) == (
        world.rep1_contact.pk,
        "ann@acme.com",
    )
    assert api.get(f"/contacts/{world.rep2_contact.pk}").status_code == 404
    self_merge = api.post(
        f"/contacts/{world.rep1_contact.pk}/merge", {"duplicate_id": world.rep1_contact.pk}
    )
    assert self_merge.status_code == 400
    assert self_merge.json() == {"detail": "cannot merge a contact into itself"}
    hidden = api.post(
        f"/contacts/{world.rep1_contact.pk}/merge", {"duplicate_id": world.rep3_contact.pk}
    )
    assert hidden.status_code == 404
