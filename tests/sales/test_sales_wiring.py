"""The sales app's wiring: record panels, merge re-parenting, notifications over the bus."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from tandem import bus
from tandem.crm.services import merge_contacts
from tandem.leads.models import Notification
from tandem.sales.models import DealContact, Insight, SequenceEnrollment
from tests.crm.factories import ContactFactory
from tests.sales.factories import DealFactory

pytestmark = pytest.mark.django_db(transaction=False)


def _deal_with(contact: Any, **kwargs: Any) -> Any:
    deal = DealFactory(**kwargs)
    DealContact.objects.create(deal=deal, contact=contact, role="champion", added_at=timezone.now())
    return deal


def test_contact_panel_lists_only_visible_deals(world: Any, client_as: Any) -> None:
    """Given a contact in a deal of rep1 and one of rep3, rep1's panel shows only rep1's."""
    mine = _deal_with(world.rep1_contact, name="Acme rollout", owner=world.rep1)
    theirs = _deal_with(world.rep1_contact, name="Hidden <b>deal</b>", owner=world.rep3)
    page = client_as("rep1").get(f"/sales/contacts/{world.rep1_contact.pk}/deals/")
    assert page.status_code == 200
    text = page.content.decode()
    assert mine.name in text
    assert "Hidden" not in text and theirs.name not in text
    # The admin sees both, escaped.
    text = (
        client_as("admin").get(f"/sales/contacts/{world.rep1_contact.pk}/deals/").content.decode()
    )
    assert "Hidden &lt;b&gt;deal&lt;/b&gt;" in text


def test_panels_404_for_records_out_of_sight(world: Any, client_as: Any) -> None:
    """rep1 may not see rep3's contact or Globex: the panels answer 404."""
    rep1 = client_as("rep1")
    assert rep1.get(f"/sales/contacts/{world.rep3_contact.pk}/deals/").status_code == 404
    assert rep1.get(f"/sales/companies/{world.globex.pk}/deals/").status_code == 404


def test_company_panel_lists_company_deals(world: Any, client_as: Any) -> None:
    DealFactory(name="Acme expansion", owner=world.rep1, company=world.acme)
    DealFactory(name="Globex pilot", owner=world.rep3, company=world.globex)
    text = client_as("manager").get(f"/sales/companies/{world.acme.pk}/deals/").content.decode()
    assert "Acme expansion" in text and "Globex pilot" not in text


def test_merge_moves_deal_roles_insights_and_enrollments(world: Any) -> None:
    """Given a duplicate in two deals (one also naming the primary), a merge keeps one role per deal."""
    primary = world.rep1_contact
    duplicate = ContactFactory(email="ann.archer@acme.com", owner=world.rep1, team=world.east)
    shared = _deal_with(primary, owner=world.rep1)
    DealContact.objects.create(
        deal=shared, contact=duplicate, role="influencer", added_at=timezone.now()
    )
    only_dup = _deal_with(duplicate, owner=world.rep1)
    only_dup.referred_by = duplicate
    only_dup.save()
    Insight.objects.create(
        deal=only_dup,
        contact=duplicate,
        kind="objection",
        text="Too pricey",
        created_at=timezone.now(),
    )
    merge_contacts(primary=primary, duplicate=duplicate, by=world.admin)
    assert list(DealContact.objects.filter(deal=shared).values_list("contact_id", "role")) == [
        (primary.pk, "champion")
    ]
    assert list(DealContact.objects.filter(deal=only_dup).values_list("contact_id", flat=True)) == [
        primary.pk
    ]
    only_dup.refresh_from_db()
    assert only_dup.referred_by_id == primary.pk
    assert Insight.objects.get().contact_id == primary.pk
    assert not SequenceEnrollment.objects.exists()


def test_user_notified_lands_in_the_inbox_once(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A UserNotified event becomes one notification, however often it is delivered."""
    event = bus.UserNotified(
        user_id=world.rep1.pk,
        kind="task_reminder",
        text="Call Ann",
        key="reminder:1",
        contact_id=world.rep1_contact.pk,
    )
    with django_capture_on_commit_callbacks(execute=True):
        bus.publish(event)
        bus.publish(event)
    note = Notification.objects.get()
    assert (note.user_id, note.kind, note.text, note.contact_id) == (
        world.rep1.pk,
        "task_reminder",
        "Call Ann",
        world.rep1_contact.pk,
    )


@pytest.mark.parametrize(
    ("type_", "props", "title", "detail"),
    [
        (
            "deal_won",
            {"deal_id": 7, "name": "Acme rollout", "amount": "1200.00", "currency": "EUR"},
            "Deal won",
            "Acme rollout · 1200.00 EUR",
        ),
        (
            "deal_lost",
            {"deal_id": 7, "name": "Acme", "amount": "5.00", "currency": "USD", "reason": "Price"},
            "Deal lost",
            "Acme · 5.00 USD · Price",
        ),
        (
            "content_shared",
            {"title": "Battlecard", "kind": "sent"},
            "Sales content shared",
            "Battlecard · sent",
        ),
        (
            "sequence_task_created",
            {"sequence": "Inbound", "step": 2, "task": "Call"},
            "Sequence step due",
            "Inbound, step 2: Call",
        ),
    ],
)
def test_contact_timeline_describes_sales_events(
    type_: str, props: dict[str, Any], title: str, detail: str
) -> None:
    """Sales' timeline rows read as sentences on the contact page, not as raw properties."""
    from tandem.crm.models import TimelineEvent
    from tandem.crm.views.timeline import timeline_rows

    event = TimelineEvent(type=type_, properties=props, occurred_at=timezone.now())
    row = timeline_rows([event], with_contact=False)[0]
    assert (row["title"], row["detail"]) == (title, detail)
