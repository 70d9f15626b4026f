"""Reads of tracking data for the sources pages and the ingestion preflight."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from tandem.marketing.models import Source
from tandem.marketing.services.sources import normalise_origin
from tandem.tracking.models import Event

LIVE_EVENTS = 50


def active_origins() -> set[str]:
    """Every origin some active source accepts (a CORS preflight carries no key to narrow it)."""
    rows = Source.objects.filter(revoked_at__isnull=True).values_list("origins", flat=True)
    return {o for origins in rows for raw in origins or () if (o := normalise_origin(str(raw)))}


def sources() -> list[Source]:
    """All sources, active first, then by name."""
    return list(Source.objects.order_by("revoked_at", "name"))


def events_since(since: datetime) -> dict[int, int]:
    """{source id: events received since then}, for every source in one query.

    Ids grow with arrival, so the scan starts at the newest event received before `since`
    (found walking the primary key back from the end) rather than reading the whole log.
    """
    before = (
        Event.objects.filter(received_at__lt=since).order_by("-id").values_list("id", flat=True)[:1]
    )
    floor = next(iter(before), 0)
    rows = (
        Event.objects.filter(id__gt=floor, received_at__gte=since, source__isnull=False)
        .values_list("source_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {source_id: n for source_id, n in rows}


def events_last_day() -> dict[int, int]:
    return events_since(timezone.now() - timedelta(days=1))


def recent_events(source: Source, *, limit: int = LIVE_EVENTS) -> list[Event]:
    """The newest raw events of a source, newest first (served by the (source, -id) index)."""
    return list(
        Event.objects.filter(source=source)
        .order_by("-id")
        .only(
            "id",
            "event_id",
            "type",
            "occurred_at",
            "received_at",
            "anonymous_id",
            "email",
            "properties",
            "context",
            "processed_at",
        )[:limit]
    )
