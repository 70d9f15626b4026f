"""Segment reads: lists, current members (narrowed by permissions), live counts and history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TextIO

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from tandem.accounts import permissions
from tandem.crm.exports import write_contacts
from tandem.crm.models import Contact
from tandem.leads.models import Segment, SegmentMembership
from tandem.leads.segments import compile_definition

SEGMENT_SORTS: dict[str, str] = {
    "name": "name",
    "kind": "kind",
    "members": "member_count",
    "refreshed": "refreshed_at",
    "id": "id",
}
MEMBER_SORTS: dict[str, str] = {
    "email": "email",
    "last_name": "last_name",
    "score": "score",
    "stage": "lifecycle_stage",
    "id": "id",
}


def segments_for(*, q: str = "", kind: str = "") -> QuerySet[Segment]:
    """Segments whose name contains q (everyone signed in may see every segment)."""
    qs = Segment.objects.all()
    if q:
        qs = qs.filter(name__icontains=q)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def segment_members(segment: Segment) -> QuerySet[Contact]:
    """The segment's current members (contacts with an open stay)."""
    stays = SegmentMembership.objects.filter(
        segment_id=segment.pk, left_at__isnull=True, contact_id=OuterRef("pk")
    )
    return Contact.objects.filter(Exists(stays))


def members_for(user: Any, segment: Segment) -> QuerySet[Contact]:
    """The current members this user may see (reps: their own and their team's unassigned)."""
    return permissions.visible(user, segment_members(segment))


def count_definition(definition: Any, *, user: Any = None, now: datetime | None = None) -> int:
    """How many contacts a definition selects now (those the user may see, when given)."""
    qs = Contact.objects.filter(compile_definition(definition, now=now or timezone.now()))
    if user is not None:
        qs = permissions.visible(user, qs)
    return qs.count()


def member_history(segment: Segment, *, now: datetime | None = None) -> dict[str, int]:
    """Entered and left counts over the last 7 and 30 days, and stays ever opened (one query)."""
    at = now or timezone.now()
    week, month = at - timedelta(days=7), at - timedelta(days=30)
    return SegmentMembership.objects.filter(segment_id=segment.pk).aggregate(
        entered_7=Count("pk", filter=Q(entered_at__gte=week)),
        left_7=Count("pk", filter=Q(left_at__gte=week)),
        entered_30=Count("pk", filter=Q(entered_at__gte=month)),
        left_30=Count("pk", filter=Q(left_at__gte=month)),
        stays=Count("pk"),
    )


def export_members(*, user: Any, segment: Segment, out: TextIO) -> int:
    """Write the members the user may see as CSV (the contact export's columns, formula-safe)."""
    return write_contacts(members_for(user, segment), out)
