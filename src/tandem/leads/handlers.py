"""Reactions to lower apps' domain events (wired in bus.HANDLERS); slow work is enqueued."""

from __future__ import annotations

from tandem import bus
from tandem.leads import tasks
from tandem.leads.models import (
    AssignmentStatus,
    LeadAssignment,
    Notification,
    ScoreChange,
    SegmentMembership,
)


def events_tracked(event: bus.EventsTracked) -> None:
    """Tracked behaviour changes engagement scores and behavioural segments."""
    tasks.contacts_changed(list(event.contact_ids), "tracking")


def timeline_event_recorded(event: bus.TimelineEventRecorded) -> None:
    """A timeline row (a call, an email, a form) may move a score or count as a first touch."""
    if event.contact_id is not None:
        tasks.contacts_changed([event.contact_id], event.type[:40])


def contact_created(event: bus.ContactCreated) -> None:
    """A new contact gets its fit score and joins matching segments."""
    tasks.contacts_changed([event.contact_id], "created")


def lifecycle_stage_changed(event: bus.LifecycleStageChanged) -> None:
    """Stage conditions of segments depend on the stage."""
    tasks.refresh_contact_segments([event.contact_id])


def form_submitted(event: bus.FormSubmitted) -> None:
    """A hand-raise form (a demo request) qualifies the contact at once when the MQL rule says so."""
    tasks.contacts_changed([event.contact_id], "form_submit")


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
