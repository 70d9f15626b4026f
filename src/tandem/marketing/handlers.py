"""Reactions to lower apps' domain events (wired in tandem.bus.HANDLERS)."""

from __future__ import annotations

from tandem import bus
from tandem.marketing.models import FormSubmission, Touchpoint


def move_merged_contact(event: bus.ContactMerging) -> None:
    """A merge keeps the duplicate's touches and form submissions on the primary contact."""
    Touchpoint.objects.filter(contact_id=event.merged_id).update(contact_id=event.primary_id)
    FormSubmission.objects.filter(contact_id=event.merged_id).update(contact_id=event.primary_id)
