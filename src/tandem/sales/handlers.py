"""Reactions to lower apps' domain events (wired in bus.HANDLERS)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from tandem import bus
from tandem.sales.models import (
    ContentUse,
    Deal,
    DealContact,
    Insight,
    SequenceEnrollment,
)
from tandem.sales.services import sequences


def timeline_event_recorded(event: bus.TimelineEventRecorded) -> None:
    """A reply, a booked meeting or a new opportunity stops sequences; a done task advances one."""
    if event.contact_id is not None:
        sequences.react_to_timeline(
            event_id=event.event_id, contact_id=event.contact_id, type=event.type
        )


def move_merged_contact(event: bus.ContactMerging) -> None:
    """Before the duplicate is deleted, its deal roles, uses, insights and enrolments move over."""
    old, new = event.merged_id, event.primary_id
    # A deal that already names the primary keeps the primary's role; the duplicate's row goes.
    DealContact.objects.filter(contact_id=old).filter(
        Exists(DealContact.objects.filter(deal_id=OuterRef("deal_id"), contact_id=new))
    ).delete()
    DealContact.objects.filter(contact_id=old).update(contact_id=new)
    Deal.objects.filter(referred_by_id=old).update(referred_by_id=new)
    ContentUse.objects.filter(contact_id=old).update(contact_id=new)
    Insight.objects.filter(contact_id=old).update(contact_id=new)
    # One active enrolment per sequence and contact: the duplicate's clashing ones stop.
    SequenceEnrollment.objects.filter(contact_id=old, status="active").filter(
        Exists(
            SequenceEnrollment.objects.filter(
                sequence_id=OuterRef("sequence_id"), contact_id=new, status="active"
            )
        )
    ).update(status="stopped", stop_reason="manual")
    SequenceEnrollment.objects.filter(contact_id=old).update(contact_id=new)
