"""Reactions to lower apps' domain events (wired in bus.HANDLERS); slow work is enqueued."""

from __future__ import annotations

from django.utils import timezone

from tandem import bus
from tandem.accounts.models import User
from tandem.crm.models import Contact, TimelineEvent
from tandem.leads import tasks
from tandem.leads.models import (
    AssignmentStatus,
    LeadAssignment,
    Notification,
    ScoreChange,
    SegmentMembership,
)
from tandem.leads.services import handoff


def events_tracked(event: bus.EventsTracked) -> None:
    """Tracked behaviour changes engagement scores and behavioural segments."""
    tasks.contacts_changed(list(event.contact_ids), "tracking")


def timeline_event_recorded(event: bus.TimelineEventRecorded) -> None:
    """A timeline row (a call, an email, a form) may move a score or count as a first touch."""
    if event.contact_id is not None:
        tasks.contacts_changed([event.contact_id], event.type[:40])
    if event.contact_id is not None and handoff.is_touch(event.type):
        # A logged call, meeting or email stops the first-touch clock, at the time it happened.
        at = (
            TimelineEvent.objects.filter(pk=event.event_id)
            .values_list("occurred_at", flat=True)
            .first()
        )
        handoff.note_first_touch(contact_ids=[event.contact_id], now=at)


def contacts_imported(event: bus.ContactsImported) -> None:
    """Imported contacts get scores, qualification and segment memberships in one job."""
    tasks.contacts_changed(list(event.contact_ids), "import")


def contacts_merged(event: bus.ContactsMerged) -> None:
    """The surviving contact inherits the duplicate's events: score it again."""
    tasks.contacts_changed([event.primary_id], "merge")


def move_merged_contact(event: bus.ContactMerging) -> None:
    """A merge keeps the duplicate's hand-off history, list memberships and score history."""
    old, new = event.merged_id, event.primary_id
    # One open hand-off per contact: the primary's pending one wins.
    if LeadAssignment.objects.filter(contact_id=new, status=AssignmentStatus.PENDING).exists():
        LeadAssignment.objects.filter(contact_id=old, status=AssignmentStatus.PENDING).update(
            status=AssignmentStatus.REROUTED, note="closed by a contact merge"
        )
    LeadAssignment.objects.filter(contact_id=old).update(contact_id=new)
    ScoreChange.objects.filter(contact_id=old).update(contact_id=new)
    Notification.objects.filter(contact_id=old).update(contact_id=new)
    current = SegmentMembership.objects.filter(contact_id=new, left_at__isnull=True)
    SegmentMembership.objects.filter(contact_id=old, left_at__isnull=True).filter(
        segment_id__in=current.values("segment_id")
    ).delete()
    SegmentMembership.objects.filter(contact_id=old).update(contact_id=new)


def user_notified(event: bus.UserNotified) -> None:
    """Another app (sales: task reminders, sequences) asks for an in-app message."""
    user = User.objects.filter(pk=event.user_id, is_active=True).first()
    if user is None:
        return
    contact = Contact.objects.filter(pk=event.contact_id).first() if event.contact_id else None
    handoff.notify(
        user=user,
        kind=event.kind,
        text=event.text,
        key=event.key,
        contact=contact,
        now=timezone.now(),
    )
