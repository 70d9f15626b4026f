"""Reactions to lower apps' domain events (wired in tandem.bus.HANDLERS)."""

from __future__ import annotations

from tandem import bus
from tandem.tracking.models import Visitor


def move_merged_contact(event: bus.ContactMerging) -> None:
    """A merge keeps the duplicate's browsers identified as the primary contact."""
    Visitor.objects.filter(contact_id=event.merged_id).update(contact_id=event.primary_id)
