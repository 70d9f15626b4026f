"""Content reads: the library's filters and sorts, an asset's engagement, the public lookup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from tandem.accounts import permissions
from tandem.crm.models import Contact, TimelineEvent
from tandem.errors import InvalidInput
from tandem.marketing.models import ContentAsset

# The timeline event types tracking writes when a lead opens or downloads an asset, with
# properties {"asset_id": id, "title": ...}.
CONTENT_VIEW = "content_view"
CONTENT_DOWNLOAD = "content_download"
ENGAGEMENT_TYPES = (CONTENT_VIEW, CONTENT_DOWNLOAD)

ASSET_SORTS: dict[str, str] = {
    "title": "title",
    "type": "type",
    "journey_stage": "journey_stage",
    "audience": "audience",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "id": "id",
}


@dataclass(frozen=True)
class AssetFilter:
    """What the content library may be narrowed by."""

    q: str = ""
    type: str = ""
    journey_stage: str = ""
    audience: str = ""
    persona_id: int | None = None
    # "active" (the default), "archived" or "all".
    status: str = "active"


def assets_for(flt: AssetFilter = AssetFilter()) -> QuerySet[ContentAsset]:
    """The content library (everyone signed in reads it), narrowed by the filter."""
    if "\x00" in flt.q:
        raise InvalidInput("q contains a NUL character", field="q")
    qs = ContentAsset.objects.all()
    if flt.status == "active":
        qs = qs.filter(archived=False)
    elif flt.status == "archived":
        qs = qs.filter(archived=True)
    if flt.q.strip():
        qs = qs.filter(title__icontains=flt.q.strip()[:100])
    if flt.type:
        qs = qs.filter(type=flt.type)
    if flt.journey_stage:
        qs = qs.filter(journey_stage=flt.journey_stage)
    if flt.audience:
        # "Both" serves either audience, so it answers a filter on either.
        qs = qs.filter(audience__in=[flt.audience, "both"])
    if flt.persona_id is not None:
        qs = qs.filter(personas=flt.persona_id)
    return qs


def public_asset(token: str) -> ContentAsset | None:
    """The asset behind a public link (`/c/<token>`), or None when unknown or archived."""
    if not token or len(token) > 32:
        return None
    return ContentAsset.objects.filter(public_token=token, archived=False).first()


def engagement_events(asset: ContentAsset) -> QuerySet[TimelineEvent]:
    """The timeline's views and downloads of this asset (by anyone, known or anonymous)."""
    return TimelineEvent.objects.filter(type__in=ENGAGEMENT_TYPES, properties__asset_id=asset.pk)


def engagement(asset: ContentAsset) -> dict[str, int]:
    """Views, downloads, and the distinct contacts behind each and behind either: one query."""
    events = engagement_events(asset).order_by()
    view, download = Q(type=CONTENT_VIEW), Q(type=CONTENT_DOWNLOAD)
    totals = events.aggregate(
        views=Count("pk", filter=view),
        downloads=Count("pk", filter=download),
        viewers=Count("contact", filter=view, distinct=True),
        downloaders=Count("contact", filter=download, distinct=True),
        contacts=Count("contact", distinct=True),
    )
    return {key: value or 0 for key, value in totals.items()}


def recent_viewers(user: Any, asset: ContentAsset, *, limit: int = 10) -> list[dict[str, Any]]:
    """The contacts the user may see who most recently viewed or downloaded the asset."""
    visible = permissions.visible(user, Contact.objects.all()).values("pk")
    latest = list(
        engagement_events(asset)
        .filter(contact__in=visible)
        .values("contact_id")
        .annotate(last_at=Max("occurred_at"))
        .order_by("-last_at", "-contact_id")[:limit]
    )
    contacts = Contact.objects.select_related("company").in_bulk(
        [row["contact_id"] for row in latest]
    )
    return [
        {"contact": contacts[row["contact_id"]], "last_at": row["last_at"]}
        for row in latest
        if row["contact_id"] in contacts
    ]
